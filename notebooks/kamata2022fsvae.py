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
# # Fully Spiking VAE (Kamata et al., AAAI 2022)
# The latent variables of the VAE are spike trains: each latent spike is one of $k$ spikes of an SNN chosen at random,
# which samples a Bernoulli variable without real-valued randomness, and posterior and prior are compared after a
# post-synaptic filter.

# %%
import math

import matplotlib.pyplot as plt
import torch

from snnref.models.fsvae import fsvae_distance, psp, random_select

torch.manual_seed(0)
dt = torch.float64

# %% [markdown]
# **Claim 1 (random selection is Bernoulli sampling).** If the SNN emits $k$ spikes $q_1..q_k$ for a latent unit and
# one is chosen uniformly, then $P(z = 1) = \frac{1}{k}\sum_j q_j$ exactly (the firing rate of the $k$ spikes). Checked
# by frequency over many draws (4 standard errors) for units with different rates, and the gradient reaches exactly
# the selected spike.

# %%  catches: always picking the first spike, choosing with the wrong distribution, a detached sample
k = 10
q = torch.zeros(5, k, dtype=dt)
for i, n_on in enumerate([0, 2, 5, 7, 10]):
    q[i, :n_on] = 1.0  # units firing with rate 0, 0.2, 0.5, 0.7, 1
gen = torch.Generator().manual_seed(3)
draws = torch.stack([random_select(q, generator=gen) for _ in range(20_000)])  # [N, 5]
rate = q.mean(-1)
freq = draws.mean(0)
se = torch.sqrt(rate * (1 - rate) / 20_000) + 1e-12
assert bool(((freq - rate).abs() <= 4 * se).all())  # Bernoulli(mean of the k spikes)
assert freq[0] == 0 and freq[-1] == 1  # degenerate rates are exact

qg = torch.rand(3, k, dtype=dt).requires_grad_(True)
gen2 = torch.Generator().manual_seed(7)
z = random_select(qg, generator=gen2)
assert z.requires_grad  # catches: a detached sample (the encoder would get no gradient)
z.sum().backward()
idx = torch.randint(0, k, (3,), generator=torch.Generator().manual_seed(7))  # the same draw
torch.testing.assert_close(z, qg.detach()[torch.arange(3), idx], rtol=0, atol=0)
expected_grad = torch.zeros(3, k, dtype=dt)
expected_grad[torch.arange(3), idx] = 1.0
torch.testing.assert_close(qg.grad, expected_grad, rtol=0, atol=0)  # gradient only to the chosen spike
# latent units with more axes, [T, C, k] -> [T, C]: the choice is along the last axis only. C = k, so that choosing
# along the wrong axis would stay in range and show up in the values rather than as a crash
q3 = torch.rand(3, 6, 6, dtype=dt)
z3 = random_select(q3, generator=torch.Generator().manual_seed(11))
assert z3.shape == (3, 6)  # catches: the selected axis kept or unsqueezed in the wrong place
idx3 = torch.randint(0, 6, (3, 6), generator=torch.Generator().manual_seed(11))
tt3, cc3 = torch.meshgrid(torch.arange(3), torch.arange(6), indexing="ij")
torch.testing.assert_close(z3, q3[tt3, cc3, idx3], rtol=0, atol=0)  # catches: gathering along the channel axis

# %% [markdown]
# **Claim 2 (the distance between posterior and prior).** The PSP filter is a leaky integrator,
# $\mathrm{PSP}_t = \sum_{i \le t}\frac{1}{\tau_s}(1 - \frac{1}{\tau_s})^{t-i} x_i$, i.e. a lower-triangular matrix
# $A$; so the distance is the quadratic form $\frac{1}{TC}\,\mathrm{tr}\big(D^\top A^\top A D\big)$ of the rate
# difference $D = \bar q - \bar p$. It is zero when the firing probabilities agree at every step and, because of the
# filter, it tells apart two probability sequences with the same rates in a different order. Its gradient (used to
# train the posterior) is $\partial\mathcal{D}/\partial q_{\cdot,j} = \frac{2}{TCk}A^\top A D$ for each of the $k$ spikes.

# %%  catches: no filter (plain MSE), filter with the wrong leak, mean over k skipped
T, C, tau_s = 8, 4, 2.6
qs = (torch.rand(T, C, k, dtype=dt) < 0.4).to(dt)
ps = (torch.rand(T, C, k, dtype=dt) < 0.6).to(dt)
tt = torch.arange(T, dtype=dt)
A = (1 / tau_s) * (1 - 1 / tau_s) ** (tt[:, None] - tt[None, :]) * (tt[:, None] >= tt[None, :])
torch.testing.assert_close(psp(qs.mean(-1), tau_s=tau_s), A @ qs.mean(-1), rtol=1e-12, atol=1e-14)
D = qs.mean(-1) - ps.mean(-1)
quad = torch.trace(D.T @ A.T @ A @ D) / (T * C)
assert math.isclose(fsvae_distance(qs, ps, tau_s=tau_s).item(), quad.item(), rel_tol=1e-12)
assert fsvae_distance(qs, qs.flip(-1), tau_s=tau_s).item() == 0.0  # same rates, any spike order within k
rates = torch.tensor([0.9, 0.1, 0.9, 0.1], dtype=dt)
a = (torch.arange(k, dtype=dt) < k * rates[:, None, None]).to(dt).expand(4, 1, k)  # [T=4, C=1, k]
b = a.flip(0)  # same multiset of rates, reversed in time
assert fsvae_distance(a, b, tau_s=tau_s).item() > 1e-3  # the filter sees temporal order
qg, pg = qs.clone().requires_grad_(True), ps.clone().requires_grad_(True)
dist = fsvae_distance(qg, pg, tau_s=tau_s)
assert dist.requires_grad  # catches: a detached PSP filter or distance
dist.backward()
grad_bar = 2 / (T * C) * A.T @ A @ D  # [T, C], d D / d q_bar
torch.testing.assert_close(qg.grad, (grad_bar / k)[..., None].expand(T, C, k), rtol=1e-12, atol=1e-15)
torch.testing.assert_close(pg.grad, -(grad_bar / k)[..., None].expand(T, C, k), rtol=1e-12, atol=1e-15)

# %%
fig, ax = plt.subplots(1, 2, figsize=(9.5, 3.2))
ax[0].bar(range(5), freq.numpy(), label="sampled frequency")
ax[0].plot(range(5), rate.numpy(), "k_", markersize=30, label="mean of k spikes")
ax[0].set_xlabel("latent unit"); ax[0].set_ylabel("P(z = 1)"); ax[0].legend()
ax[1].plot(psp(a[:, 0, :].mean(-1)[:, None], tau_s=tau_s)[:, 0], "o-", label="PSP of rates a")
ax[1].plot(psp(b[:, 0, :].mean(-1)[:, None], tau_s=tau_s)[:, 0], "s-", label="PSP of reversed rates")
ax[1].set_xlabel("time step"); ax[1].legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# Verified: choosing one of $k$ SNN spikes at random samples $\mathrm{Bernoulli}(\frac1k\sum_j q_j)$ and passes the
# gradient to the chosen spike (also for [T, C, k] inputs); the PSP filter equals its closed form, and the
# posterior–prior distance is the corresponding quadratic form of the rate difference, blind to spike order within $k$
# but not to order in time, with the analytic gradient.
