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
# # Spike-Norm (Sengupta et al., Frontiers in Neuroscience 2019)
# Balance each IF layer's threshold against the largest input current the *spiking* network actually delivers to it,
# layer by layer, with Poisson spike trains at the input.

# %%
import math

import matplotlib.pyplot as plt
import torch
from torch import nn

from snnref.conversion.spike_norm import poisson_input, spike_norm_thresholds
from snnref.conversion.toolkit import SpikingNeuron, convert, simulate_layers
from snnref.surrogate import heaviside

torch.manual_seed(11)
dtype = torch.float64

net = nn.Sequential(nn.Linear(20, 24, bias=False), nn.ReLU(), nn.Linear(24, 16, bias=False), nn.ReLU(),
                    nn.Linear(16, 5, bias=False), nn.ReLU()).double()
x = torch.rand(32, 20, dtype=dtype)
x_seq = poisson_input(x, 60, generator=torch.Generator().manual_seed(0))  # [T, B, 20]

# %% [markdown]
# **Claim 1.** Spike-Norm (Algorithm 1) sets $V^l_{th} = \max_{t,b,j}\,\big(W^l S^{l-1}(t)\big)_j$, where $S^{l-1}$ are
# the binary spikes of layer $l-1$ already converted with its own balanced threshold and reset to zero.
# Oracle: that procedure written out here with explicit loops over time.

# %%
# The toolkit's converted layer emits V_th per spike (spike_norm_thresholds divides that back out) and takes one
# threshold per ReLU, in order.
layer = SpikingNeuron(v_th=2.0, v_reset=0.0)
assert layer.params.get("spike_fn") is heaviside  # catches a surrogate, not the exact step, in the forward pass
assert layer(torch.tensor([[2.5, 0.5, 2.0], [1.7, 1.6, 0.0]], dtype=dtype)).tolist() == [[2.0, 0.0, 2.0], [0.0, 2.0, 0.0]]  # catches V_th / S, a soft reset, '>' at V_th
for bad in ([1.0] * 2, [1.0] * 4, [1.0] * 6):
    try:
        convert(net, bad, v_reset=0.0)
    except ValueError:
        continue
    raise AssertionError("wrong number of thresholds accepted")  # catches thresholds indexed from 1 or every other one

weights = [m.weight.detach() for m in net if isinstance(m, nn.Linear)]
spikes_in, expected = x_seq, []
for w in weights:
    current = spikes_in @ w.T                     # [T, B, N] input current from binary spikes
    v_th = current.max().item()
    expected.append(v_th)
    v, out = torch.zeros_like(current[0]), []
    for t in range(current.shape[0]):
        v = v + current[t]
        s = (v >= v_th).to(dtype)
        v = torch.where(s > 0, torch.zeros_like(v), v)   # reset to zero
        out.append(s)
    spikes_in = torch.stack(out)
assert spikes_in.sum() > 0  # non-degenerate: the last layer fires

got = spike_norm_thresholds(net, x_seq)
# catches: toolkit thresholds returned unconverted (ANN units), ratio taken the wrong way round, soft reset
for g, e in zip(got, expected):
    assert math.isclose(g, e, rel_tol=1e-12), (got, expected)

# a network whose first module is a neuron layer (spiking input neurons) is balanced on the input spikes themselves
assert spike_norm_thresholds(nn.Sequential(nn.ReLU(), nn.Linear(20, 3, bias=False).double()), x_seq) == [1.0]

# the soft-reset variant differs here, so the default reset is really being exercised
soft = spike_norm_thresholds(net, x_seq, v_reset=None)
assert any(not math.isclose(a, b, rel_tol=1e-9) for a, b in zip(soft, expected))

# %% [markdown]
# **Claim 2.** Poisson rate coding: at each step an input neuron with intensity $x\in[0,1]$ spikes with probability $x$,
# so the count over $T$ steps is Binomial$(T, x)$: never for $x=0$, always for $x=1$, and within
# $5\sqrt{Tx(1-x)}$ of $Tx$ otherwise.

# %%
T = 4000
xs = torch.tensor([[0.0, 0.13, 0.5, 0.77, 1.0]], dtype=dtype)
counts = poisson_input(xs, T, generator=torch.Generator().manual_seed(1)).sum(0)[0]
assert counts[0].item() == 0 and counts[-1].item() == T  # catches: inverted comparison, probability not x
for xi, c in zip(xs[0].tolist()[1:-1], counts.tolist()[1:-1]):
    # catches: rate 1-x instead of x, a constant rate, wrong shape of the time axis
    assert abs(c - T * xi) <= 5 * math.sqrt(T * xi * (1 - xi)), (xi, c)
assert poisson_input(xs, 7).shape == (7, 1, 5)
for bad_x, bad_T in ((xs, 0), (xs + 0.5, 3), (xs - 0.5, 3)):
    try:
        poisson_input(bad_x, bad_T)
    except ValueError:
        pass
    else:
        raise AssertionError(f"accepted T={bad_T}, x range [{bad_x.min()}, {bad_x.max()}]")  # catches: missing checks

# %%
ann = net(x).detach()
theta = [math.prod(got[: l + 1]) for l in range(len(got))]   # the same thresholds in the toolkit's ANN units
Ts = [10, 20, 40, 80, 160, 320]
agree = []
for T_ in Ts:
    s_in = poisson_input(x, T_, generator=torch.Generator().manual_seed(2))
    out = simulate_layers(convert(net, theta, v_reset=0.0), s_in)[-1]  # [T, B, 5] spikes of the last layer
    assert out.shape == (T_, 32, 5) and set(out.unique().tolist()) <= {0.0, theta[-1]}  # the last neurons' spikes, theta each
    rate = out.mean(0)
    agree.append((rate.argmax(1) == ann.argmax(1)).to(dtype).mean().item())
fig, ax = plt.subplots(1, 2, figsize=(10, 3.2))
ax[0].imshow(x_seq[:, 0].T, aspect="auto", cmap="Greys")
ax[0].set_xlabel("t"); ax[0].set_ylabel("input neuron"); ax[0].set_title("Poisson input, one sample")
ax[1].plot(Ts, agree, "o-")
ax[1].set_xscale("log"); ax[1].set_xlabel("T"); ax[1].set_ylabel("argmax agreement with ANN")
ax[1].set_title("Spike-Norm SNN (reset to zero)")
plt.tight_layout()
plt.show()

# %% [markdown]
# Verified: the Spike-Norm thresholds equal those of the layer-by-layer procedure written out with explicit loops
# (binary spikes, reset to zero; also for a network that starts with a neuron layer), and the Poisson input has the exact limits and Binomial spread of rate coding.
# The figure shows the converted toy network's agreement with the ANN as the simulation lengthens (not asserted).
