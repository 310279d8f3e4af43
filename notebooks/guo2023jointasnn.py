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
# # Joint A-SNN: weight factorization between an ANN and an SNN (Guo et al., Pattern Recognition 2023)
# The ANN and the SNN are trained together; they share the singular vectors of every weight and keep their own
# singular values, so the ANN can guide the SNN while each keeps a weight suited to its activation.

# %%
import math

import matplotlib.pyplot as plt
import torch

from snnref.models.joint_asnn import SharedFactorizedWeight, compose, factorize
from snnref.neuron import lif_step, multi_step

torch.manual_seed(0)
dt = torch.float64

# %% [markdown]
# **Claim 1 (the factorization starts from the original weight).** With $W = U\,\mathrm{diag}(\sigma)V^\top$ and
# $\sigma_{ANN} = \sigma_{SNN} = \sigma$ at initialisation, both networks start with exactly the original weight, for a
# linear layer and for a convolution kernel factorized per kernel position; $U$ and $V$ have orthonormal columns.

# %%  catches: a reshape instead of a permute for conv kernels, sigma applied on the wrong side, ANN/SNN swapped
for w in (torch.randn(6, 9, dtype=dt), torch.randn(5, 4, 3, 3, dtype=dt)):
    layer = SharedFactorizedWeight(w)
    torch.testing.assert_close(layer.weight(snn=False), w, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(layer.weight(snn=True), w, rtol=1e-12, atol=1e-12)
    u, s, vh = factorize(w)
    eye = torch.eye(u.shape[-1], dtype=dt)
    torch.testing.assert_close(u.transpose(-1, -2) @ u, eye.expand_as(u.transpose(-1, -2) @ u), rtol=0, atol=1e-12)
    torch.testing.assert_close(vh @ vh.transpose(-1, -2), eye.expand_as(vh @ vh.transpose(-1, -2)), rtol=0, atol=1e-12)
w = torch.randn(6, 9, dtype=dt)
layer = SharedFactorizedWeight(w)
with torch.no_grad():
    layer.sigma_snn.mul_(torch.linspace(0.5, 1.5, 6, dtype=dt))
torch.testing.assert_close(layer.weight(snn=False), w, rtol=1e-12, atol=1e-12)  # the ANN keeps its own sigma
torch.testing.assert_close(layer.weight(snn=True), (layer.u * layer.sigma_snn) @ layer.vh, rtol=1e-12, atol=1e-12)
try:
    SharedFactorizedWeight(torch.randn(3, 4, 5, dtype=dt))
    raise AssertionError("3-D weight must be rejected")
except ValueError:
    pass

# %% [markdown]
# **Claim 2 (what each loss trains).** A loss computed by the SNN alone gives no gradient to $\sigma_{ANN}$ and the
# gradient $\partial\mathcal{L}/\partial\sigma_{SNN,i} = u_i^\top G\, v_i$ to its own singular values, where
# $G = \partial\mathcal{L}/\partial W_{SNN}$ (the chain rule through $W = \sum_i \sigma_i u_i v_i^\top$); the shared
# $U, V$ receive gradients from both networks. Checked with a LIF layer (core `lif_step`, surrogate gradient), itself
# checked against a loop ($\tau = 2.5$, threshold 1, hard reset to 0).

# %%  catches: sigma shared by both networks, U or V detached, a wrong gradient path
x = torch.rand(7, 4, 9, dtype=dt) * 1.5  # [T, B, in]
layer = SharedFactorizedWeight(torch.randn(6, 9, dtype=dt) * 0.6)
w_snn = layer.weight(snn=True)
assert w_snn.requires_grad  # catches: a detached composed weight
w_snn.retain_grad()
spikes, mem = multi_step(lif_step, x @ w_snn.T, tau=2.5, v_th=1.0)
assert spikes.requires_grad  # catches: a detached neuron
v_ref, s_ref, m_ref = torch.zeros(4, 6, dtype=dt), [], []
for t in range(7):  # the LIF layer from its definition
    v_ref = v_ref + ((x[t] @ w_snn.T).detach() - v_ref) / 2.5
    fired = (v_ref >= 1.0).to(dt)
    v_ref = v_ref * (1 - fired)
    s_ref.append(fired)
    m_ref.append(v_ref)
torch.testing.assert_close(spikes, torch.stack(s_ref), rtol=0, atol=0)  # catches: a wrong charge, threshold or reset
torch.testing.assert_close(torch.stack(mem).detach(), torch.stack(m_ref), rtol=1e-12, atol=1e-14)
assert 0.05 < spikes.mean() < 0.95 and torch.stack(m_ref).abs().max() > 0.1
snn_loss = (spikes.mean(0) - 0.3).pow(2).sum()
snn_loss.backward()
assert layer.sigma_ann.grad is None or bool((layer.sigma_ann.grad == 0).all())  # the ANN's sigma is untouched
G = w_snn.grad
analytic = torch.einsum("oi,oi->i", layer.u.detach(), G @ layer.vh.detach().T)  # u_i^T G v_i
torch.testing.assert_close(layer.sigma_snn.grad, analytic, rtol=1e-10, atol=1e-12)
assert layer.u.grad.abs().sum() > 0 and layer.vh.grad.abs().sum() > 0  # shared factors learn from the SNN too

w_ann = layer.weight(snn=False)
assert w_ann.requires_grad
ann_loss = torch.relu(x.mean(0) @ w_ann.T).sum()
layer.zero_grad()
ann_loss.backward()
assert layer.sigma_snn.grad is None or bool((layer.sigma_snn.grad == 0).all())  # and vice versa

# %% [markdown]
# **Claim 3 (what is shared).** For an $m \times n$ weight of rank $r = \min(m, n)$ the pair of networks stores
# $mr + rn + 2r$ numbers: the singular vectors once and two singular-value vectors. The two networks differ in only
# $r$ numbers per layer, which is what ties the SNN to the ANN (it is not a memory saving: for a square layer it is
# slightly more than two independent weights).

# %%  catches: separate U/V per network
for m, n in ((6, 9), (64, 64), (10, 3)):
    layer = SharedFactorizedWeight(torch.randn(m, n, dtype=dt))
    r = min(m, n)
    assert sum(p.numel() for p in layer.parameters()) == m * r + r * n + 2 * r
    assert layer.sigma_ann.numel() == layer.sigma_snn.numel() == r  # the networks differ in r numbers

# %%
layer = SharedFactorizedWeight(torch.randn(12, 12, dtype=dt))
plt.figure(figsize=(5, 3.2))
plt.plot(layer.sigma_ann.detach(), "o-", label="$\\sigma_{ANN}$ (initial)")
with torch.no_grad():
    layer.sigma_snn.mul_(torch.linspace(1.3, 0.7, 12, dtype=dt))
plt.plot(layer.sigma_snn.detach(), "s--", label="$\\sigma_{SNN}$ (after an update)")
plt.xlabel("singular index $i$"); plt.ylabel("singular value"); plt.legend(); plt.tight_layout()
plt.show()

# %% [markdown]
# Verified: the SVD factorization reproduces linear and convolution weights exactly for both networks at
# initialisation, with orthonormal shared factors; an SNN-only loss trains its own singular values (with the analytic
# gradient $u_i^\top G v_i$) and the shared factors but not the ANN's singular values, and vice versa; and the pair
# stores $mr + rn + 2r$ numbers, differing in $r$ per layer.
