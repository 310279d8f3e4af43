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
# # Rate Gradient Approximation attack (Bu et al., CVPR 2023)
# Attack gradients for LIF-based SNNs taken through the neurons' firing-rate curve instead of through time.

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch

from snnref.models.rga import rga_grad, rga_spike

torch.manual_seed(0)
DT = torch.float64
LAM, GAMMA, E = 0.83, 0.3, 0.7  # non-default values: each constant of the slope shows up separately


def lif_loop(x_seq, lam):
    """Brute-force LIF of the attacked network: V <- lam*V + x, spike when V >= 1, then V <- 0."""
    v, out = torch.zeros_like(x_seq[0]), []
    for x in x_seq:
        v = lam * v + x
        s = (v >= 1.0).to(x.dtype)
        v = v * (1 - s)
        out.append(s)
    return torch.stack(out)


# %% [markdown]
# **Claim 1.** The forward pass is the attacked SNN itself: the LIF recursion $H_t = \lambda V_{t-1} + X_t$,
# $S_t = \Theta(H_t - 1)$, hard reset $V_t = H_t(1 - S_t)$, for a leaky ($\lambda<1$) and a non-leaky ($\lambda=1$) layer.

# %%  catches: wrong leak (tau <-> lambda mapping), soft instead of hard reset, input decayed, wrong threshold
x_seq = torch.rand(12, 4, 50, dtype=DT) * 1.6 - 0.2  # [T, B, N]; crosses threshold often
for lam in (LAM, 1.0):
    s = rga_spike(x_seq, lam=lam, gamma=GAMMA, e=E)
    assert 0.05 < s.mean() < 0.95  # non-degenerate firing
    torch.testing.assert_close(s, lif_loop(x_seq, lam), rtol=0, atol=0)  # exact spikes
for bad in ({"lam": 1.2}, {"lam": -0.1}, {"lam": LAM, "gamma": 7.0}, {"lam": LAM, "e": -0.5}):
    try:
        rga_spike(x_seq, **bad)
    except ValueError:
        pass
    else:
        raise AssertionError(f"{bad} accepted")  # catches: missing argument validation

# %% [markdown]
# **Claim 2.** Backward: $\partial\mathcal{L}/\partial X_t = \partial\mathcal{L}/\partial S_t \cdot r'(\bar X)$ for
# every $t$, where $r$ is the piecewise-linear rate curve through $(0,0)$, $(1-\lambda, \gamma(1-\lambda))$,
# $(1+e, 1)$ and flat outside $[0, 1+e]$. The oracle is a central finite difference of `np.interp` through those knots.

# %%  catches: gradient taken at x_t instead of the mean, wrong slope constants, wrong interval ends, missing upstream factor
def rate_curve(c, lam):
    xs = [0.0, 1 - lam, 1 + E]
    ys = [0.0, GAMMA * (1 - lam), 1.0]
    return np.where((c < 0) | (c > 1 + E), np.nan, np.interp(c, xs, ys))


for lam in (LAM, 1.0):
    knots = np.array([0.0, 1 - lam, 1 + E])
    base = torch.linspace(-0.4, 2.3, 400, dtype=DT)
    base = base[np.min(np.abs(base.numpy()[:, None] - knots[None]), axis=1) > 1e-3]  # away from kinks
    T = 6
    jitter = torch.randn(T, base.numel(), dtype=DT) * 0.3
    x_seq = (base + jitter - jitter.mean(0)).requires_grad_(True)  # mean over T is exactly `base`
    w = torch.randn(T, base.numel(), dtype=DT)
    (rga_spike(x_seq, lam=lam, gamma=GAMMA, e=E) * w).sum().backward()
    c, h = base.numpy(), 1e-6
    slope = (rate_curve(c + h, lam) - rate_curve(c - h, lam)) / (2 * h)
    slope = np.where(np.isnan(slope), 0.0, slope)  # outside the curve the gradient is zero
    expected = w * torch.from_numpy(slope)
    torch.testing.assert_close(x_seq.grad, expected, rtol=1e-6, atol=1e-6)  # slope per interval, per time step

# the official code closes the intervals as [0, 1-lam] and (1-lam, 1+e]: check the three knots themselves
ends = torch.tensor([0.0, 1 - LAM, 1 + E], dtype=DT)
hi = (1 - GAMMA * (1 - LAM)) / (LAM + E)
torch.testing.assert_close(rga_grad(ends, lam=LAM, gamma=GAMMA, e=E), torch.tensor([GAMMA, GAMMA, hi], dtype=DT))  # > vs >=

# %% [markdown]
# **Claim 3.** The rate curve is anchored on the true LIF rate. For a constant input $c$ over long $T$, the LIF
# rate is $0$ for $0 < c < 1-\lambda$ (the potential settles at $c/(1-\lambda) < 1$) and $1$ for $c \ge 1$;
# the slope $r'$ integrates to exactly $1$ over $[0, 1+e]$ (the saturated rate) and to only $\gamma(1-\lambda)$
# over the silent range, where it exists only to keep the attack gradient alive.

# %%  catches: slope constant off by any factor (integral != 1), gamma applied on the wrong interval
def true_rate(c, lam, T=400):
    x = torch.full((T, c.numel()), 0.0, dtype=DT) + c
    return lif_loop(x, lam).mean(0)


c_silent = torch.tensor([0.03, 0.08, 0.14], dtype=DT)  # below 1 - LAM = 0.17
c_sat = torch.tensor([1.0 + 1e-9, 1.3, 1.0 + E], dtype=DT)
torch.testing.assert_close(true_rate(c_silent, LAM), torch.zeros(3, dtype=DT), rtol=0, atol=0)
torch.testing.assert_close(true_rate(c_sat, LAM), torch.ones(3, dtype=DT), rtol=0, atol=0)
grid = torch.linspace(0, 1 + E, 200001, dtype=DT)
g = rga_grad(grid, lam=LAM, gamma=GAMMA, e=E)
total = torch.trapezoid(g, grid).item()
assert math.isclose(total, true_rate(c_sat[-1:], LAM).item(), abs_tol=1e-4)  # r(1+e) = saturated rate 1
silent = grid <= 1 - LAM
assert math.isclose(torch.trapezoid(g[silent], grid[silent]).item(), GAMMA * (1 - LAM), abs_tol=1e-4)

# %% [markdown]
# **Claim 4.** The RGA gradient is a useful attack direction (the paper's main claim, at toy scale): on a
# small two-layer SNN with fixed random weights, one FGSM step $x + \epsilon\,\mathrm{sign}(\nabla_x\mathcal{L})$
# along the RGA gradient raises the cross-entropy loss more than every one of 20 random sign perturbations.

# %%  catches: gradient sign flipped, gradient zeroed (detached), gradient not reaching the input
torch.manual_seed(1)
T, B, D, H, K = 8, 64, 20, 40, 5
W1 = torch.randn(D, H, dtype=DT) * 0.45
W2 = torch.randn(H, K, dtype=DT)
x0 = torch.rand(B, D, dtype=DT)


def loss_of(x):
    s = rga_spike((x @ W1).expand(T, B, H), lam=LAM, gamma=GAMMA, e=E)  # [T, B, H]
    logits = s.mean(0) @ W2
    return torch.nn.functional.cross_entropy(logits, labels)


with torch.no_grad():
    s0 = rga_spike((x0 @ W1).expand(T, B, H), lam=LAM, gamma=GAMMA, e=E)
    labels = (s0.mean(0) @ W2).argmax(1)  # attack the network's own predictions
xa = x0.clone().requires_grad_(True)
loss_of(xa).backward()
eps = 0.05
with torch.no_grad():
    l_clean = loss_of(x0).item()
    l_rga = loss_of(x0 + eps * xa.grad.sign()).item()
    l_rand = [loss_of(x0 + eps * torch.randint(0, 2, x0.shape, dtype=DT) * 2 - eps).item() for _ in range(20)]
print(f"clean {l_clean:.3f}  RGA-FGSM {l_rga:.3f}  random sign max {max(l_rand):.3f}")
assert l_rga > max(l_rand) + 0.05 and l_rga > l_clean + 0.1  # RGA points uphill

# %%
cs = torch.linspace(-0.2, 2.0, 441, dtype=DT)
r_true = true_rate(cs, LAM, T=200)
r_rga = torch.cumulative_trapezoid(rga_grad(cs, lam=LAM, gamma=GAMMA, e=E), cs, dim=0)
plt.plot(cs, r_true, label="LIF rate, constant input (T=200)")
plt.plot(cs[1:], r_rga, label="RGA rate curve $r$ (integral of $r'$)")
plt.axvline(1 - LAM, ls=":", c="gray")
plt.xlabel(r"mean input $\bar X$"); plt.ylabel("rate"); plt.legend(); plt.title(rf"$\lambda={LAM}$")
plt.show()

# %% [markdown]
# Verified: the forward is the exact LIF layer (leaky and IF), the backward is the slope of the stated
# piecewise-linear rate curve at the time-averaged input for every step, the curve is anchored on the true LIF
# rate (integrates to the saturated rate 1), and at toy scale its gradient is a far better attack direction than random.
