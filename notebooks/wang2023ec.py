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
# # Evolving connectivity for recurrent SNNs (Wang et al., NeurIPS 2023)
# Instead of gradients through spikes, sample boolean connectivities from learned connection probabilities, run the
# networks forward only, and move the probabilities along the natural gradient of the expected fitness.

# %%
import itertools
import math

import matplotlib.pyplot as plt
import torch

from snnref.models.evolving_connectivity import centered_rank, ec_update, nes_natural_grad, sample_connectivity
from snnref.neuron import lif_step, multi_step

torch.manual_seed(0)
dt = torch.float64

# %% [markdown]
# **Claim 1 (the natural gradient of a Bernoulli family).** For $\theta_k \sim \mathrm{Bernoulli}(\rho_k)$ the score is
# $(\theta - \rho)/(\rho(1 - \rho))$ and the Fisher information is $1/(\rho(1-\rho))$, so the natural gradient of
# $J(\rho) = \mathbb{E}[F(\theta)]$ is $\mathbb{E}[F(\theta)(\theta - \rho)] = \rho(1-\rho)\,\partial J/\partial\rho$.
# The exact $J$ is a sum over all $2^4$ masks (autograd gives $\partial J/\partial\rho$); the Monte-Carlo estimate from
# `nes_natural_grad` with raw fitness as weights must agree within 4 standard errors.

# %%  catches: mean over the wrong axis, weights broadcast along the wrong axis (square 3x3 shapes give wrong values, not a crash)
rho3 = torch.tensor([0.2, 0.6, 0.45], dtype=dt)
masks3 = torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0]], dtype=dt)
w3 = torch.tensor([0.5, -0.25, 0.1], dtype=dt)
brute3 = torch.zeros(3, dtype=dt)
for i in range(3):  # (1/N) sum_i w_i (theta_i - rho), one connection k at a time
    for k in range(3):
        brute3[k] += w3[i] * (masks3[i, k] - rho3[k]) / 3
torch.testing.assert_close(nes_natural_grad(rho3, masks3, w3), brute3, rtol=0, atol=1e-15)

# %%  catches: the estimate or the clipped update cut from the autograd graph (it is affine in rho: slope -mean(w))
r3 = rho3.clone().requires_grad_(True)
est3 = nes_natural_grad(r3, masks3, w3)
assert est3.requires_grad  # a .detach() inside nes_natural_grad
(d_est,) = torch.autograd.grad(est3.sum(), r3)
torch.testing.assert_close(d_est, torch.full((3,), -float(w3.mean()), dtype=dt), rtol=0, atol=1e-15)
r_up = torch.tensor([0.5, 0.97, 0.01], dtype=dt, requires_grad=True)
upd = ec_update(r_up, torch.tensor([0.1, 0.1, -0.1], dtype=dt), lr=1.0, eps=0.02)
assert upd.requires_grad  # a .detach() inside ec_update
(d_upd,) = torch.autograd.grad(upd.sum(), r_up)
torch.testing.assert_close(d_upd, torch.tensor([1.0, 0.0, 0.0], dtype=dt), rtol=0, atol=0)  # clipped entries: zero slope

# %%  catches: theta = 1 where u <= rho instead of u < rho (then P(theta=1) > rho, and rho = 0 could still connect)
u = torch.rand((1, 3), generator=torch.Generator().manual_seed(11), dtype=dt)  # the uniforms the sampler will draw
ties = sample_connectivity(u[0].clone(), 1, generator=torch.Generator().manual_seed(11))
torch.testing.assert_close(ties, torch.zeros(1, 3, dtype=dt), rtol=0, atol=0)  # u == rho exactly: no connection
assert float(sample_connectivity(torch.zeros(5, dtype=dt), 1000, generator=torch.Generator().manual_seed(2)).sum()) == 0.0

# %%  catches: score without the (theta - rho) centring, wrong sign, masks not Bernoulli(rho)
n = 4
rho = torch.tensor([0.2, 0.55, 0.7, 0.35], dtype=dt)
coef = torch.tensor([1.3, -0.7, 2.1, 0.4], dtype=dt)


def F(theta: torch.Tensor) -> torch.Tensor:  # an arbitrary non-linear fitness of the mask
    return torch.sin(theta @ coef) + (theta[..., 0] * theta[..., 2])


all_masks = torch.tensor(list(itertools.product([0.0, 1.0], repeat=n)), dtype=dt)  # [16, 4]
r = rho.clone().requires_grad_(True)
prob = torch.prod(r**all_masks * (1 - r) ** (1 - all_masks), dim=1)
J = (prob * F(all_masks)).sum()
(dJ,) = torch.autograd.grad(J, r)
natural_exact = rho * (1 - rho) * dJ

gen = torch.Generator().manual_seed(1)
N = 200_000
masks = sample_connectivity(rho, N, generator=gen)
torch.testing.assert_close(masks.mean(0), rho, rtol=0, atol=4 * math.sqrt(0.25 / N))  # Bernoulli(rho) samples
est = nes_natural_grad(rho, masks, F(masks))
stderr = ((F(masks)[:, None] * (masks - rho)).std(0) / math.sqrt(N))
assert bool(((est - natural_exact).abs() < 4 * stderr).all())  # unbiased estimate of the natural gradient
assert float(stderr.max()) < 0.01  # the test is sharp enough to see a wrong sign or scale

# %% [markdown]
# **Claim 2 (fitness shaping).** Centered ranks are $\mathrm{rank}/(N-1) - \frac12$: evenly spaced in
# $[-\frac12, \frac12]$, order-preserving, and unchanged by any increasing transform of the fitness (so the update
# ignores the scale of the reward). Checked against a brute-force rank count.

# %%  catches: ranks of the wrong direction, off-by-one normalisation
f = torch.randn(9, dtype=dt)
assert isinstance(centered_rank(f), torch.Tensor) and centered_rank(f).shape == f.shape  # a term dropped to a scalar
brute = torch.tensor([sum(float(fj < fi) for fj in f) for fi in f], dtype=dt) / 8 - 0.5
torch.testing.assert_close(centered_rank(f), brute, rtol=0, atol=1e-15)
torch.testing.assert_close(centered_rank(torch.exp(3 * f) + 7), centered_rank(f), rtol=0, atol=0)

# %% [markdown]
# **Claim 3 (training connectivity without gradients, toy scale).** A LIF neuron (core `lif_step`) receives 8 inputs
# through fixed excitatory/inhibitory weights gated by a boolean mask; the fitness is minus the distance between its
# spike count and a target. EC (population 48, centered ranks, clipped probabilities) reaches the best fitness that a
# brute-force search over all $2^8$ masks finds, and the probabilities stay in $[\epsilon, 1-\epsilon]$.

# %%  catches: update ascending the wrong way, clipping missing or wrong
n_in, T = 8, 30
w_fixed = torch.tensor([0.9, 0.7, -0.8, 0.5, -0.6, 0.4, 0.8, -0.3], dtype=dt)  # E/I signs fixed, as in the paper
drive = torch.tensor([1.0, 0.8, 1.0, 0.6, 0.9, 1.0, 0.5, 0.7], dtype=dt)
target = 9.0


def fitness(masks: torch.Tensor) -> torch.Tensor:  # masks [P, n_in] -> [P]
    current = (masks * w_fixed * drive).sum(-1)  # constant input current per network
    spikes, _ = multi_step(lif_step, current[None].expand(T, -1).clone(), tau=3.0, v_th=0.5)
    return -(spikes.sum(0) - target).abs()


def fitness_loop(mask: torch.Tensor) -> float:  # from the definition: LIF charge, fire at H >= v_th, hard reset to 0
    c = float((mask * w_fixed * drive).sum())
    v, count = 0.0, 0
    for _ in range(T):
        h = v + (c - v) / 3.0
        s = 1 if h >= 0.5 else 0
        count, v = count + s, h * (1 - s)
    return -abs(count - target)


all_in = torch.tensor(list(itertools.product([0.0, 1.0], repeat=n_in)), dtype=dt)  # [256, 8]
# catches: a wrong charge, threshold or reset in the neuron the fitness runs
assert fitness(all_in).tolist() == [fitness_loop(m) for m in all_in]
best_possible = fitness(torch.tensor(list(itertools.product([0.0, 1.0], repeat=n_in)), dtype=dt)).max().item()
rho_t, eps, history = torch.full((n_in,), 0.5, dtype=dt), 0.02, []
gen = torch.Generator().manual_seed(4)
for _ in range(80):
    m = sample_connectivity(rho_t, 48, generator=gen)
    fit = fitness(m)
    history.append(fit.mean().item())
    rho_t = ec_update(rho_t, nes_natural_grad(rho_t, m, centered_rank(fit)), lr=1.5, eps=eps)
    assert bool(((rho_t >= eps) & (rho_t <= 1 - eps)).all())
final_mask = (rho_t > 0.5).to(dt)
assert fitness(final_mask[None]).item() == best_possible  # the deterministic network is optimal
assert history[-1] > history[0] + 2  # the population improved
torch.testing.assert_close(ec_update(torch.tensor([0.97, 0.01, 0.4], dtype=dt), torch.tensor([0.1, -0.1, 0.05], dtype=dt), lr=1.0, eps=0.02), torch.tensor([0.98, 0.02, 0.45], dtype=dt), rtol=0, atol=1e-15)
try:
    ec_update(rho_t, rho_t, lr=1.0, eps=0.5)
    raise AssertionError("eps = 0.5 must be rejected")
except ValueError:
    pass

# %%
plt.figure(figsize=(5, 3.3))
plt.plot(history, label="population mean fitness")
plt.axhline(best_possible, ls=":", color="k", label="best mask (brute force)")
plt.xlabel("generation"); plt.ylabel("fitness"); plt.legend(); plt.tight_layout()
plt.show()

# %% [markdown]
# Verified: the sampled masks are Bernoulli($\rho$) and `nes_natural_grad` is an unbiased estimate of the natural
# gradient $\rho(1-\rho)\partial J/\partial\rho$ (exact enumeration, 4 standard errors); centered ranks match a brute-force
# count and ignore monotone rescaling of fitness; and EC finds the optimal boolean connectivity of a toy LIF neuron
# without any gradient through spikes.
