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
# # Rate Norm Layer (Ding et al., IJCAI 2021)
# Train the ANN directly on firing rates: $r=\mathrm{clip}(\mathrm{ReLU}(x)/\theta,0,1)$ with a learnable threshold
# $\theta = \mathrm{sigmoid}(s)\lambda$, then run the same weights on binary spikes of soft-reset IF neurons.

# %%
import math

import matplotlib.pyplot as plt
import torch
from torch import nn

from snnref.conversion.rate_norm import RateNormLayer, binary_if_step, layerwise_k, rate_norm
from snnref.conversion.toolkit import constant_input, convert, simulate

torch.manual_seed(2)
dtype = torch.float64

# %% [markdown]
# **Claim 1.** RNL is the firing rate of the converted neuron: a soft-reset IF neuron with threshold $\theta$ under
# constant input $x$ emits $N_T = \min(T, \lfloor T x/\theta\rfloor)$ spikes for $x \ge 0$, so $|N_T/T - r| < 1/T$ with
# $r = \mathrm{clip}(x/\theta, 0, 1)$. Oracle: an IF loop written here, and the closed form $\min(\max(x,0)/\theta, 1)$.

# %%
theta, T = 0.83, 64
xs = torch.linspace(-0.5, 1.3, 37, dtype=dtype) + 0.013          # offset keeps T*x/theta off integers
r = rate_norm(xs, theta=theta)
closed = torch.tensor([min(max(v, 0.0) / theta, 1.0) for v in xs.tolist()], dtype=dtype)
torch.testing.assert_close(r, closed, rtol=1e-12, atol=1e-12)    # catches: clip at theta instead of 1, no ReLU
v, count = torch.zeros_like(xs), torch.zeros_like(xs)
for _ in range(T):
    v = v + xs
    s = (v >= theta).to(dtype)
    v = v - theta * s
    count += s
assert (count / T - r).abs().max().item() < 1 / T                   # the rate converges to RNL at rate 1/T
assert (r == 0).any() and (r == 1).any() and ((r > 0) & (r < 1)).any()  # non-degenerate: all three regimes

# %% [markdown]
# **Claim 2.** The layer's threshold and its training signals: $\theta = \mathrm{sigmoid}(s)\,\lambda + \epsilon$ with the
# running maximum $\lambda_{n} = (1-m)\lambda_{n-1} + m\max\mathrm{ReLU}(x_n)$ (closed-form recursion over three batches),
# and $\partial r/\partial s = -\frac{\mathrm{ReLU}(x)}{\theta^2}\lambda\,\sigma(s)(1-\sigma(s))$ on unclipped entries,
# $0$ on clipped ones (autograd against this analytic derivative).

# %%
layer = RateNormLayer(momentum=0.3).double()
# a fresh layer: lambda = 1 and s = 10, so p = sigmoid(10) ~ 1 (the official initialisation)
th0 = layer.theta()
assert torch.is_tensor(th0) and th0.shape == (1,)  # catches a scalar-constant or wrongly shaped threshold
assert th0.requires_grad  # catches a threshold that lost its learnable part sigmoid(s)
assert math.isclose(layer.theta().item(), 1 / (1 + math.exp(-10)) + 1e-6, rel_tol=1e-12)
lam = 1.0
for n in range(3):
    xb = torch.randn(8, 5, dtype=dtype) * (n + 1)
    if n == 1:
        xb = -xb.abs()   # an all-negative batch: its ReLU peak is 0, not the (negative) raw maximum
    layer(xb)
    lam = 0.7 * lam + 0.3 * xb.clamp(min=0).max().item()
    assert math.isclose(layer.running_max.item(), lam, rel_tol=1e-12)  # catches: momentum swapped, max without ReLU
probe = RateNormLayer().double()
probe(torch.randn(4, 3, dtype=dtype, requires_grad=True))
assert not probe.running_max.requires_grad  # catches: a running statistic that keeps the batch's autograd graph
layer.eval()
with torch.no_grad():
    layer.s.fill_(0.4)   # p = sigmoid(0.4), well inside (0, 1)
p = 1 / (1 + math.exp(-0.4))
assert math.isclose(layer.theta().item(), p * lam + 1e-6, rel_tol=1e-12)  # catches: |s| instead of sigmoid(s)
x = torch.linspace(-1, 8, 40, dtype=dtype)
before = layer.running_max.clone()
out = layer(x)
assert torch.equal(layer.running_max, before)                      # eval mode freezes lambda
assert out.requires_grad  # catches the layer's output or its threshold cut from the graph
out.sum().backward()
th = p * lam + 1e-6
analytic = sum(-(xi / th**2) * lam * p * (1 - p) for xi in x.tolist() if 0 < xi / th < 1)
assert math.isclose(layer.s.grad.item(), analytic, rel_tol=1e-10)   # catches: s detached, theta gradient through clip
for bad in (0.0, 1.5):
    try:
        RateNormLayer(momentum=bad)
    except ValueError:
        pass
    else:
        raise AssertionError(f"momentum={bad} accepted")

# the fit statistic of the official code: k = sum(r)/||r||^2, = 1/c for constant rates c
assert math.isclose(layerwise_k(torch.full((10,), 0.25, dtype=dtype), eps=0.0).item(), 4.0, rel_tol=1e-12)
assert math.isclose(layerwise_k(torch.tensor([0.5, 1.0], dtype=dtype), eps=0.0).item(), 1.5 / 1.25, rel_tol=1e-12)
assert math.isclose(layerwise_k(torch.tensor([0.5, 1.0], dtype=dtype)).item(), 1.5 / (1.25 + 1e-5), rel_tol=1e-12)
# k is a training penalty, so its gradient matters: dk/dr_i = 1/(Q + eps) - 2 r_i sum(r)/(Q + eps)^2, Q = ||r||^2
rk = torch.tensor([0.2, 0.7, 0.9], dtype=dtype, requires_grad=True)
k = layerwise_k(rk, eps=0.01)
assert k.requires_grad  # catches k cut from the graph (the penalty would not train anything)
k.backward()
q = 0.04 + 0.49 + 0.81 + 0.01
torch.testing.assert_close(rk.grad, torch.tensor([1 / q - 2 * ri * 1.8 / q**2 for ri in (0.2, 0.7, 0.9)], dtype=dtype),
                           rtol=1e-12, atol=1e-14)  # catches a wrong derivative of the penalty

# %% [markdown]
# **Claim 3.** Direct conversion: an RNL network (weights used unchanged, IF thresholds $\theta^l$, binary spikes
# between layers, soft reset) reproduces the ANN. For a single hidden layer with constant input, each hidden rate is
# within $1/T$ of $r^1$, so the read-out is within $\lVert W^2\rVert_{\infty}/T$ of the ANN output (row-sum bound).

# %%
net = nn.Sequential(nn.Linear(6, 12), RateNormLayer(), nn.Linear(12, 3)).double()
xin = torch.rand(16, 6, dtype=dtype) * 2
net.train()
net(xin)                      # one pass to set the running max
net.eval()
with torch.no_grad():
    net[1].s.fill_(-0.3)      # clip at about 43% of the running max: some units saturate
ann = net(xin).detach()
th1 = net[1].theta().item()
snn = convert(net, [th1], v_reset=None, step=binary_if_step, activations=(RateNormLayer,))
bound = net[2].weight.abs().sum(1).max().item()
errs = []
for T_ in (16, 64, 256):
    out_snn = simulate(snn, constant_input(xin, T_)).mean(0)
    assert out_snn.shape == ann.shape  # catches the read-out taken from the wrong layer
    err = (out_snn - ann).abs().max().item()
    errs.append(err)
    assert err <= bound / T_ + 1e-12, (T_, err, bound / T_)   # catches: spikes scaled by theta (weights double-counted)
hidden = rate_norm(net[0](xin), theta=th1)
assert (hidden == 1).any() and ((hidden > 0) & (hidden < 1)).any()

# %%
fig, ax = plt.subplots(1, 2, figsize=(10, 3.2))
ax[0].plot(xs, r, label="RNL $r$")
ax[0].step(xs, count / T, where="mid", label=f"IF rate, T={T}")
ax[0].set_xlabel("input x"); ax[0].set_ylabel("rate"); ax[0].legend()
Ts = [8, 16, 32, 64, 128, 256]
ax[1].loglog(Ts, [(simulate(snn, constant_input(xin, t)).mean(0) - ann).abs().max().item() for t in Ts], "o-",
             label="max |SNN - ANN|")
ax[1].loglog(Ts, [bound / t for t in Ts], "k:", label="bound $\\|W^2\\|_\\infty/T$")
ax[1].set_xlabel("T"); ax[1].legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# Verified: RNL equals the closed-form clipped rate and the limit firing rate of a soft-reset IF neuron (error
# below $1/T$); the running maximum, threshold and its gradient match their closed forms; the official code's fit
# statistic $k$; and an RNL network runs on binary spikes with unchanged weights within the $\lVert W\rVert_\infty/T$ bound.
