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
# # State Transition of Dendritic Spines (Chen et al., ICML 2022)
# Weights are a soft threshold of hidden spine parameters; pruned (dormant) spines keep their gradient and can come back.

# %%
import math

import matplotlib.pyplot as plt
import torch

from snnref.training.stds import STDSLinear, linear_schedule, sine_schedule, stds_weight

torch.manual_seed(0)
dtype = torch.float64

# %% [markdown]
# **Claim 1 (the reparameterization).** $w = \mathrm{sign}(\theta)\max(|\theta| - D, 0)$: computed element by element
# below; $D = 0$ gives $w = \theta$; the sparsity is the fraction of $|\theta| \le D$; `STDSLinear` applies $x\,w^\top$.

# %%
theta = torch.randn(6, 9, dtype=dtype)
D = 0.45
w = stds_weight(theta, d=D)
by_hand = torch.empty_like(theta)
for i in range(theta.shape[0]):
    for j in range(theta.shape[1]):
        t = theta[i, j].item()
        by_hand[i, j] = math.copysign(max(abs(t) - D, 0.0), t) if abs(t) > D else 0.0
torch.testing.assert_close(w, by_hand, rtol=0, atol=1e-15)  # catches: hard threshold (no shrink), wrong sign handling
torch.testing.assert_close(stds_weight(theta, d=0.0), theta, rtol=0, atol=0)  # catches: a shift that is not D
layer = STDSLinear(9, 6, d=D).to(dtype)
assert layer.theta.shape == (6, 9)  # catches: theta allocated [in, out] instead of F.linear's [out, in]
with torch.no_grad():
    layer.theta.copy_(theta)
x = torch.randn(5, 9, dtype=dtype)
torch.testing.assert_close(layer(x), x @ by_hand.T, rtol=1e-12, atol=1e-12)  # catches: theta used directly, transposed weight
frac = (theta.abs() <= D).double().mean().item()
assert 0.2 < frac < 0.8 and math.isclose(layer.sparsity(), frac)  # catches: sparsity counted on theta instead of w
try:
    STDSLinear(3, 2, d=-0.1)
except ValueError as e:
    assert "d" in str(e)  # catches: negative thresholds accepted
else:
    raise AssertionError("negative d accepted")
assert STDSLinear(3, 2).d == 0.0  # training starts dense (D grows from 0)
big = STDSLinear(400, 50)  # PyTorch's default Linear init: uniform in +-1/sqrt(fan_in)
bound = 1 / math.sqrt(400)
assert big.theta.abs().max().item() <= bound and big.theta.abs().max().item() > 0.99 * bound  # catches: a different init gain

# %% [markdown]
# **Claim 2 (dormant spines keep their gradient).** With the max's backward taken as the identity,
# $\partial L/\partial\theta = \partial L/\partial w$ for every $\theta \ne 0$, while the exact soft threshold would give
# $\partial L/\partial w\,[|\theta| > D]$. So a dormant spine under a steady push grows back: with $L = -c\,w$ and
# plain gradient descent at rate $\eta$, $\theta_k = \theta_0 + k\eta c$ and the weight becomes non-zero at the first
# $k$ with $\theta_k > D$; with the exact gradient it never moves.

# %%
th = theta.clone().requires_grad_(True)
g = torch.randn_like(theta)
wth = stds_weight(th, d=D)
assert wth.requires_grad  # catches: the weight detached from theta
(wth * g).sum().backward()
torch.testing.assert_close(th.grad, g, rtol=0, atol=1e-15)  # catches: gradient masked on dormant spines (exact relu)
layer.zero_grad()
gy = torch.randn(5, 6, dtype=dtype)
y = layer(x)
assert y.requires_grad  # catches: the layer's output detached from theta
(y * gy).sum().backward()
torch.testing.assert_close(layer.theta.grad, gy.T @ x, rtol=1e-12, atol=1e-12)  # catches: layer output detached from theta
exact = torch.where(theta.abs() > D, g, torch.zeros_like(g))
assert not torch.allclose(th.grad, exact)  # the two rules really differ here

theta0, eta, c = 0.07, 0.013, 1.7
p = torch.tensor(theta0, dtype=dtype, requires_grad=True)
steps = 0
while stds_weight(p, d=D).item() == 0.0:
    loss = -c * stds_weight(p, d=D)
    p.grad = None
    loss.backward()
    with torch.no_grad():
        p -= eta * p.grad
    steps += 1
    assert steps < 1000
k_expected = math.floor((D - theta0) / (eta * c)) + 1
assert steps == k_expected, (steps, k_expected)  # catches: a backward that is not exactly 1 through the threshold
assert math.isclose(p.item(), theta0 + steps * eta * c, rel_tol=1e-12)

# %% [markdown]
# **Claim 3 (threshold schedules).** The sine schedule rises from 0 to 1 with value $\frac{1}{2}$ at mid-training,
# $\frac{1}{2}(1 - \frac{\sqrt 2}{2})$ at a quarter, and is increasing; the linear schedule is $n/N$.

# %%
N = 400
assert sine_schedule(0, N) == 0.0 and math.isclose(sine_schedule(N, N), 1.0)  # catches: schedule not spanning 0..D
assert math.isclose(sine_schedule(N // 2, N), 0.5, abs_tol=1e-15)  # catches: phase shift
assert math.isclose(sine_schedule(N // 4, N), 0.5 * (1 - math.sqrt(2) / 2), rel_tol=1e-12)  # catches: wrong frequency
vals = [sine_schedule(n, N) for n in range(N + 1)]
assert all(b > a for a, b in zip(vals, vals[1:]))
assert math.isclose(linear_schedule(123, N), 123 / N)  # catches: linear schedule off

# %%
xs = torch.linspace(-1.5, 1.5, 301, dtype=dtype)
fig, ax = plt.subplots(1, 2, figsize=(9, 3))
ax[0].plot(xs, stds_weight(xs, d=D)); ax[0].set_xlabel(r"$\theta$"); ax[0].set_ylabel("w")
ax[1].plot([n / N for n in range(N + 1)], vals, label="sine")
ax[1].plot([n / N for n in range(N + 1)], [linear_schedule(n, N) for n in range(N + 1)], label="linear")
ax[1].set_xlabel("n / N"); ax[1].set_ylabel(r"$D(n)/D_{max}$"); ax[1].legend()
plt.show()

# %% [markdown]
# Verified: the soft-threshold reparameterization against an element-wise loop, the straight-through gradient that
# lets a dormant spine regrow after exactly the predicted number of steps, and both threshold schedules.
