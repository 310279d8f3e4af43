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
# # Soft threshold pruning as implicit ISTA (Chen et al., ICLR 2023)
# A weight $w = S_d(\theta)$ trained by SGD on $\theta$, with a threshold that grows by $\eta_k\lambda$ each step
# (LATS), solves the $L_1$-regularised problem $\min_w f(w) + \lambda\|w\|_1$.

# %%
import math

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from snnref.models.lats import lats_threshold, soft_threshold, soft_threshold_pruning_step

torch.manual_seed(0)
dt = torch.float64

# %% [markdown]
# **Claim 1.** The soft threshold mapping is the proximal operator of the $L_1$ norm,
# $S_d(z) = \arg\min_w \tfrac12 (w - z)^2 + d|w|$, and its backward pass is straight-through,
# $\partial w / \partial \theta = 1$ (pruned weights still receive the gradient, as in the official code).

# %%  catches: wrong sign handling, threshold not subtracted, hard instead of soft threshold, wrong backward
d = 0.37
z = torch.tensor([-1.3, -0.5, -0.2, 0.05, 0.3, 0.61, 1.7], dtype=dt)
grid = torch.linspace(-2, 2, 400_001, dtype=dt)  # step 1e-5
objective = 0.5 * (grid[None, :] - z[:, None]) ** 2 + d * grid[None, :].abs()
brute = grid[objective.argmin(dim=1)]
torch.testing.assert_close(soft_threshold(z, d=d), brute, rtol=0, atol=2e-5)  # S_d must be the L1 prox
# d = 0 leaves the weights unchanged (the dense starting point of LATS)
torch.testing.assert_close(soft_threshold(z, d=0.0), z, rtol=0, atol=0)  # a rejected d=0 or an offset breaks this
try:
    soft_threshold(z, d=-0.1)
    raise AssertionError("negative d must be rejected")
except ValueError as err:
    assert "d must be >= 0" in str(err)  # catches: missing validation of d

theta = z.clone().requires_grad_(True)
c = torch.tensor([0.7, -1.1, 0.4, 2.3, -0.9, 0.25, 1.6], dtype=dt)
w_st = soft_threshold(theta, d=d)
assert w_st.requires_grad  # catches: a detached mapping (no gradient reaches theta at all)
(c * w_st).sum().backward()
torch.testing.assert_close(theta.grad, c, rtol=0, atol=0)  # catches: true ReLU gradient (0 on pruned) or sign flip

# %% [markdown]
# **Claim 2 (the framework's equivalence).** With the LATS scheduler $d_{k+1} = d_k + \eta_k\lambda$, one step of
# soft threshold pruning, $\theta_{k+1} = \theta_k - \eta_k\nabla f(w_k)$, $w_{k+1} = S_{d_{k+1}}(\theta_{k+1})$,
# equals the ISTA step $w_{k+1} = S_{\eta_k\lambda}(w_k - \eta_k \nabla f(w_k))$ for every weight that keeps its sign.
# Checked on a least-squares $f(w) = \tfrac12\|Aw - b\|^2$; the ISTA side uses `torch.nn.functional.softshrink`.

# %%  catches: threshold grown by the wrong amount, gradient step with wrong sign or size
A = torch.randn(40, 12, dtype=dt)
b = torch.randn(40, dtype=dt)
L = torch.linalg.matrix_norm(A, ord=2).item() ** 2  # Lipschitz constant of grad f
lam, eta = 1.7, 0.3 / L


def grad_f(w: torch.Tensor) -> torch.Tensor:
    return A.T @ (A @ w - b)


d_k = 0.8
theta_k = torch.randn(12, dtype=dt).sign() * (d_k + 0.5 + torch.rand(12, dtype=dt))  # all weights active
w_k = soft_threshold(theta_k, d=d_k)
theta_next, d_next = soft_threshold_pruning_step(theta_k, grad_f(w_k), d_k, eta=eta, lam=lam)
w_next = soft_threshold(theta_next, d=d_next)
ista = F.softshrink(w_k - eta * grad_f(w_k), eta * lam)
assert bool((ista.sign() == w_k.sign()).all())  # premise: no weight changes sign in this step
torch.testing.assert_close(w_next, ista, rtol=0, atol=1e-12)  # implicit ISTA with coefficient lam
assert math.isclose(lats_threshold(0.25, eta=0.02, lam=3.0), 0.31, rel_tol=1e-12)  # d + eta*lam, closed form

# %% [markdown]
# **Claim 3 (time-invariant objective).** Run to convergence with a decaying learning rate $\eta_k$, LATS reaches a
# point satisfying the LASSO optimality conditions for the *fixed* $\lambda$:
# $\nabla_i f(w) = -\lambda\,\mathrm{sign}(w_i)$ where $w_i \neq 0$ and $|\nabla_i f(w)| \le \lambda$ where $w_i = 0$,
# i.e. the same solution as ISTA. A fixed threshold (no scheduler) does not.

# %%  catches: scheduler not proportional to eta (objective drifts), lambda scaled, step without the gradient
K = 2500
etas = [(0.2 + 0.75 * 0.5 * (1 + math.cos(math.pi * k / K))) / L for k in range(K)]  # cosine-decayed step


def run_lats(scale: float = 1.0):
    theta, d = torch.zeros(12, dtype=dt), 0.0
    hist = []
    for eta_k in etas:
        w = soft_threshold(theta, d=d)
        theta, d = soft_threshold_pruning_step(theta, grad_f(w), d, eta=eta_k, lam=scale * lam)
        hist.append(0.5 * (A @ w - b).square().sum().item() + lam * w.abs().sum().item())
    return soft_threshold(theta, d=d), hist


w_lats, hist_lats = run_lats()
w_ista, hist_ista = torch.zeros(12, dtype=dt), []
for eta_k in etas:  # the reference algorithm, written from its definition
    hist_ista.append(0.5 * (A @ w_ista - b).square().sum().item() + lam * w_ista.abs().sum().item())
    w_ista = F.softshrink(w_ista - eta_k * grad_f(w_ista), eta_k * lam)

g = grad_f(w_lats)
active = w_lats != 0
assert 0 < int(active.sum()) < 12  # a genuinely sparse solution, not all-zero or dense
torch.testing.assert_close(g[active], -lam * w_lats[active].sign(), rtol=0, atol=1e-8)  # stationarity on support
assert bool((g[~active].abs() <= lam + 1e-8).all())  # subgradient condition on pruned weights
torch.testing.assert_close(w_lats, w_ista, rtol=0, atol=1e-8)  # same minimiser as ISTA

# a fixed threshold keeps d at its final value but does not grow with eta: not the LASSO solution for lam
theta, d_fixed = torch.zeros(12, dtype=dt), sum(etas) * lam
for eta_k in etas:
    theta = theta - eta_k * grad_f(soft_threshold(theta, d=d_fixed))
w_fixed = soft_threshold(theta, d=d_fixed)
assert (w_fixed - w_ista).abs().max().item() > 1e-3  # contrast: the scheduler, not the final d, sets the objective

# %%
fig, ax = plt.subplots(1, 2, figsize=(10, 3.5))
zz = torch.linspace(-2, 2, 401, dtype=dt)
ax[0].plot(zz, soft_threshold(zz, d=d), label=f"$S_d(z)$, d={d}")
ax[0].plot(zz, zz, "k:", lw=0.8, label="identity")
ax[0].set_xlabel("latent $\\theta$"); ax[0].set_ylabel("weight $w$"); ax[0].legend()
ax[1].semilogy([h - min(hist_ista) + 1e-16 for h in hist_lats], label="soft threshold pruning + LATS")
ax[1].semilogy([h - min(hist_ista) + 1e-16 for h in hist_ista], "--", label="ISTA")
ax[1].set_xlabel("iteration"); ax[1].set_ylabel("$F(w_k) - F^*$"); ax[1].legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# Verified: $S_d$ is the $L_1$ proximal operator with a straight-through backward; one LATS step equals an ISTA step
# on every weight that keeps its sign; and with a decaying learning rate LATS converges to the LASSO solution for the
# fixed $\lambda$ (KKT conditions, and the ISTA minimiser), which a fixed threshold does not.
