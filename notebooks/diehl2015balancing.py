# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Weight and threshold balancing (Diehl et al., IJCNN 2015)
# Keep every IF threshold at 1 and rescale the weights of a bias-free ReLU network instead: by the largest possible
# positive input (model-based) or by the largest activation on the training data (data-based).

# %%
import itertools
import math

import matplotlib.pyplot as plt
import torch
from torch import nn

from snnref.conversion.toolkit import SpikingNeuron, constant_input, convert, cumulative_mean, simulate_layers
from snnref.conversion.weight_balancing import data_based_normalize, max_positive_input, model_based_normalize
from snnref.surrogate import heaviside

torch.manual_seed(3)
dtype = torch.float64


def mlp(sizes, gain):
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        lin = nn.Linear(a, b, bias=False).double()
        with torch.no_grad():
            lin.weight.mul_(gain)
        layers += [lin, nn.ReLU()]
    return nn.Sequential(*layers)


def forward_all(model, x):
    """Plain forward pass written here: the output of every ReLU, in order."""
    acts = []
    for m in model:
        x = m(x)
        if isinstance(m, nn.ReLU):
            acts.append(x.detach())
    return acts


# %% [markdown]
# **Claim 1.** Model-based normalization (Algorithm 1): after dividing $W^l$ by $\max_j\sum_i\max(0, W^l_{ji})$, the
# largest input any neuron can receive from inputs in $[0,1]$ is exactly 1, the threshold, so no neuron needs more
# than one spike per step. Oracle: enumerate every binary input pattern (the input is linear, so the maximum over
# $[0,1]^n$ sits on a vertex $\{0,1\}^n$).

# %%
net = mlp([8, 5, 3], gain=1.7)
norm = model_based_normalize(net)
for raw_layer, layer in [(net[0], norm[0]), (net[2], norm[2])]:
    n_in = layer.weight.shape[1]
    patterns = torch.tensor(list(itertools.product([0.0, 1.0], repeat=n_in)), dtype=dtype)  # [2^n, n_in]
    brute_raw = (patterns @ raw_layer.weight.T).max().item()
    # catches: summing all weights instead of the positive ones, max over the wrong axis
    assert math.isclose(max_positive_input(raw_layer.weight).item(), brute_raw, rel_tol=1e-12)
    # catches: multiplying instead of dividing, normalizing by the wrong quantity
    assert math.isclose((patterns @ layer.weight.T).max().item(), 1.0, rel_tol=1e-12)
assert not torch.equal(norm[0].weight, net[0].weight)  # the input model is not modified in place, the copy is

# a conv kernel: the largest output over all binary 3x3 images is the sum of the kernel's positive weights
conv = nn.Conv2d(1, 2, 2, bias=False).double()
imgs = torch.tensor(list(itertools.product([0.0, 1.0], repeat=9)), dtype=dtype).reshape(-1, 1, 3, 3)
brute = conv(imgs).max().item()
assert math.isclose(max_positive_input(conv.weight).item(), brute, rel_tol=1e-12)  # catches: per-row sum of a 4-D kernel

# %% [markdown]
# **Claim 2.** Data-based normalization (Algorithm 2): layer $l$ is scaled by
# $s^l = 1/\max(\max W^l_+,\ \max a^l)$ where $a^l$ is re-measured after layers $1..l-1$ are scaled. Because the
# network has no biases and ReLU is positively homogeneous, the closed form is
# $s^l = 1/\max\!\big(\max W^l_+,\ \hat a^l \prod_{k<l} s^k\big)$ with $\hat a^l$ the original network's maximum, and
# every layer's output is the original times $\prod_{k\le l}s^k$.

# %%
net = mlp([12, 16, 10, 4], gain=1.3)
x = torch.rand(64, 12, dtype=dtype)
raw_acts = forward_all(net, x)
weights = [m.weight.detach() for m in net if isinstance(m, nn.Linear)]
expected, prod, weight_wins = [], 1.0, []
for w, a in zip(weights, raw_acts):
    s = 1.0 / max(w.clamp(min=0).max().item(), a.max().item() * prod)
    weight_wins.append(w.clamp(min=0).max().item() > a.max().item() * prod)
    expected.append(s)
    prod *= s
assert any(weight_wins) and not all(weight_wins)  # non-degenerate: both branches of the max are exercised
norm, factors = data_based_normalize(net, x)
# catches: no re-propagation through the scaled layers, min instead of max, ignoring the weight maximum
assert all(math.isclose(f, e, rel_tol=1e-12) for f, e in zip(factors, expected)), (factors, expected)
prod = 1.0
for a_raw, a_norm, s in zip(raw_acts, forward_all(norm, x), factors):
    prod *= s
    # catches: factors applied to the wrong layer or cumulatively twice
    torch.testing.assert_close(a_norm, a_raw * prod, rtol=1e-12, atol=1e-12)
    assert a_norm.max().item() <= 1 + 1e-12  # every activation now fits below the threshold

try:
    data_based_normalize(nn.Sequential(nn.Linear(3, 2, bias=False).double(), nn.ReLU(), nn.Linear(2, 2).double(), nn.ReLU()),
                         torch.rand(4, 3, dtype=dtype))
except ValueError:
    pass
else:
    raise AssertionError("biased layer accepted")  # catches: silently wrong scaling of biases, checking only some layers

# %% [markdown]
# **Claim 3.** The converted IF neurons (threshold 1, reset to zero, as in the official simulator) approximate the
# activation only where it is below 1. For constant input $c \in (0, 1]$ a reset-to-zero neuron fires every
# $k = \lceil 1/c \rceil$ steps, so $N_T = \lfloor T/k \rfloor$ (closed form); for $c \ge 1$ it saturates at one spike per step.
# Data-based normalization brings every first-layer activation into $(0, 1]$, so no neuron saturates; with the raw
# weights, neurons with activation above 1 are pinned at rate 1 and lose the information above it.

# %%
# The converter puts one threshold on each ReLU, in order (Diehl's networks use 1 everywhere), refuses any other
# count, and its neurons fire with the exact step where v >= threshold.
three = mlp([4, 3, 3, 2], gain=1.0)  # three ReLU layers
for bad in ([1.0] * 2, [1.0] * 4, [1.0] * 6):
    try:
        convert(three, bad)
    except ValueError:
        continue
    raise AssertionError("wrong number of thresholds accepted")  # catches thresholds indexed from 1 or every other one
assert [m.v_th for m in convert(three, [0.5, 0.7, 0.9]) if isinstance(m, SpikingNeuron)] == [0.5, 0.7, 0.9]  # catches thresholds shifted by a layer
edge = SpikingNeuron(v_th=1.0, v_reset=0.0)
assert edge.params.get("spike_fn") is heaviside  # catches a surrogate, not the exact step, in the forward pass
assert edge(torch.tensor([[1.0, 1.0 - 1e-9], [0.0, 0.0]], dtype=dtype)).tolist() == [[1.0, 0.0], [0.0, 0.0]]  # catches '>' instead of '>='

T = 97
for c in (0.23, 0.41, 0.7, 1.6):
    n = SpikingNeuron(v_th=1.0, v_reset=0.0)(constant_input(torch.full((1,), c, dtype=dtype), T)).sum().item()
    k = math.ceil(1 / c)
    assert n == (T if c >= 1 else T // k), (c, n)  # catches: soft instead of hard reset, '>' firing rule

torch.manual_seed(3)
net = mlp([12, 16, 10, 4], gain=2.5)
with torch.no_grad():                       # bias-free, so this rescales the output: peak raw activation 3
    net[0].weight.mul_(3.0 / forward_all(net, x)[-1].max())
norm, factors = data_based_normalize(net, x)


def run(model, T):
    """ANN activations, the SNN's per-layer rates after T steps (threshold 1, reset to zero), and argmax agreement."""
    acts = forward_all(model, x)
    outs = simulate_layers(convert(model, [1.0] * 3, v_reset=0.0), constant_input(x, T))
    rates = [o.mean(0) for o in outs[1::2]]   # the SpikingNeuron outputs
    return acts, rates, (rates[-1].argmax(1) == acts[-1].argmax(1)).to(dtype).mean().item()


T = 100
acts_n, rates_n, _ = run(norm, T)
a1 = acts_n[0]
assert a1.max() <= 1 + 1e-12 and (a1 > 0.5).any()
expected = torch.where(a1 > 0, torch.floor(T / torch.ceil(1 / a1.clamp(min=1e-12))) / T, torch.zeros_like(a1))
near_tie = (1 / a1.clamp(min=1e-12) - torch.round(1 / a1.clamp(min=1e-12))).abs() < 1e-9
# catches: wrong normalization of layer 1 (rates off the hard-reset closed form), soft reset
torch.testing.assert_close(rates_n[0][~near_tie], expected[~near_tie], rtol=0, atol=1e-12)
acts_r, rates_r, _ = run(net, T)
sat = acts_r[0] > 1
assert sat.sum() > 10 and (rates_r[0][sat] == 1.0).all()   # raw weights: saturated neurons pinned at one spike per step

# %% [markdown]
# The agreement-vs-time curve below reads the output after every $t \le T$ from one run: the running mean
# $\frac1t\sum_{s \le t} y_s$ (`cumulative_mean`), checked against a loop (one step, a 1-D, a square and a
# $[T, B, N]$ sequence) and against separate runs of length $t$.

# %%
g = torch.Generator().manual_seed(5)
for seq in (torch.tensor([[3.0, -1.0]]), torch.tensor([2.0, 4.0, 0.0, 6.0]), torch.rand(3, 3, generator=g),
            torch.rand(5, 2, 3, generator=g)):
    expected_mean = torch.stack([seq[:s + 1].sum(0) / (s + 1) for s in range(len(seq))])
    torch.testing.assert_close(cumulative_mean(seq), expected_mean, rtol=1e-6, atol=1e-7)  # catches a divisor off by one step or along the wrong axis

T_max = 200


def agreement_curve(model):
    """Argmax agreement with the ANN after every t <= T_max, from a single simulation."""
    out = simulate_layers(convert(model, [1.0] * 3, v_reset=0.0), constant_input(x, T_max))[-1]  # [T, B, 4]
    return (cumulative_mean(out).argmax(-1) == forward_all(model, x)[-1].argmax(1)).to(dtype).mean(-1)


curve_n, curve_r = agreement_curve(norm), agreement_curve(net)
for t in (10, 100):  # spike counts are integers, so both read-outs are exact
    assert curve_n[t - 1].item() == run(norm, t)[2] and curve_r[t - 1].item() == run(net, t)[2]

fig, ax = plt.subplots(1, 2, figsize=(10, 3.2))
ax[0].plot(acts_r[0].flatten(), rates_r[0].flatten(), ".", ms=3, label="raw weights")
ax[0].plot(acts_n[0].flatten(), rates_n[0].flatten(), ".", ms=3, label="data-normalized")
ax[0].plot([0, 1], [0, 1], "k:")
ax[0].set_xlabel("ANN activation, layer 1"); ax[0].set_ylabel(f"SNN rate (T={T})"); ax[0].legend()
ax[1].plot(range(1, T_max + 1), curve_n, label="data-normalized")
ax[1].plot(range(1, T_max + 1), curve_r, label="raw weights")
ax[1].set_xscale("log"); ax[1].set_xlabel("T"); ax[1].set_ylabel("argmax agreement with ANN"); ax[1].legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# Verified: model-based normalization makes the largest possible input exactly the threshold (brute force over all
# binary inputs, dense and conv); data-based factors match the closed form implied by ReLU homogeneity and keep every
# activation $\le 1$; reset-to-zero IF neurons follow $N_T = \lfloor T/\lceil 1/c\rceil\rfloor$, which the normalized network's
# first layer reproduces neuron by neuron, while the raw network pins its large activations at rate 1; the converter's
# threshold order and count, its exact $v \ge \theta$ step, and the running read-out against a loop and separate runs.
