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
# # SNN representations compared with the visual pathway (Huang, Ma, Yu, Zhou & Tian, AAAI 2023)
# Representational similarity analysis (RSA) between time-averaged spike rates of an SNN layer and neural responses.

# %%
import math

import matplotlib.pyplot as plt
import torch

from snnref.neuro.rsa import rdm, rsa_similarity, spike_rates

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)  # tiny tensors: thread start-up would dominate the run time
gen = torch.Generator().manual_seed(6)
K, D = 9, 6  # more stimuli than units: a K/D mix-up in the triangle indices changes the pairs instead of crashing
r1 = torch.randn(K, D, generator=gen)
r2 = r1 + 0.8 * torch.randn(K, D, generator=gen)

# %% [markdown]
# **Claim 1.** The RDM is $1 - $ Pearson correlation between the response patterns of every pair of stimuli
# (symmetric, zero diagonal). The similarity score is the Spearman correlation of the two RDMs' upper triangles.
# Both are compared with brute-force loops: Pearson from sums, and Spearman as
# $1 - \frac{6\sum d^2}{m(m^2-1)}$ on ranks.

# %%
def pearson(a, b):
    a, b = a.tolist(), b.tolist()
    ma, mb = sum(a) / len(a), sum(b) / len(b)
    num = sum((x - ma) * (y - mb) for x, y in zip(a, b))
    return num / math.sqrt(sum((x - ma) ** 2 for x in a) * sum((y - mb) ** 2 for y in b))


R = rdm(r1)
assert torch.is_tensor(R) and R.shape == (K, K)  # catches the matrix term dropped (a bare constant returned)
for i in range(K):
    for j in range(K):
        # catches: covariance instead of correlation, distance on the wrong axis (units instead of stimuli)
        assert math.isclose(R[i, j].item(), 1 - pearson(r1[i], r1[j]), abs_tol=1e-12)


def spearman_brute(r_a, r_b):
    ra, rb = rdm(r_a), rdm(r_b)
    va = [ra[i, j].item() for i in range(K) for j in range(i + 1, K)]
    vb = [rb[i, j].item() for i in range(K) for j in range(i + 1, K)]
    rank = lambda v: {x: k for k, x in enumerate(sorted(v))}
    ka, kb = rank(va), rank(vb)
    m = len(va)
    return 1 - 6 * sum((ka[x] - kb[y]) ** 2 for x, y in zip(va, vb)) / (m * (m * m - 1))


s_t = rsa_similarity(r1, r2)
assert torch.is_tensor(s_t) and s_t.shape == ()  # catches the rank term dropped (a bare constant returned)
s = s_t.item()
assert math.isclose(s, spearman_brute(r1, r2), abs_tol=1e-12), s  # catches Pearson on RDMs, the diagonal included
assert math.isclose(rsa_similarity(r1, r1).item(), 1.0, abs_tol=1e-12)

# %% [markdown]
# **Claim 2.** Invariances that make RSA usable across species and models. The score does not change when each
# stimulus's response pattern is rescaled and shifted, or when units are permuted or duplicated. Mismatched
# stimulus sets are rejected.

# %%
scale = torch.rand(K, 1, generator=gen) + 0.5
shift = torch.randn(K, 1, generator=gen)
perm = torch.randperm(D, generator=gen)
assert math.isclose(rsa_similarity(r1 * scale + shift, r2).item(), s, abs_tol=1e-12)  # catches missing centring
assert math.isclose(rsa_similarity(r1[:, perm], r2).item(), s, abs_tol=1e-12)
assert math.isclose(rsa_similarity(torch.cat([r1, r1], 1), r2).item(), s, abs_tol=1e-12)
try:
    rsa_similarity(r1, r2[:-1])
    raise AssertionError("mismatched stimuli accepted")
except ValueError as e:
    assert "r1" in str(e)

# %% [markdown]
# **Claim 3.** An SNN layer's representation, its time-averaged LIF spike rates, is more similar to a "recorded"
# population that shares its input filters than to one with unrelated filters. This is a toy version of the paper's
# comparison of models against neural data, on the core LIF neuron. The spike rates themselves are checked against
# a brute-force LIF loop.

# %%
gen.manual_seed(13)  # a fresh stream, independent of the draws above
stim = torch.rand(K, 6, generator=gen)
W_model = torch.randn(6, 40, generator=gen)
W_other = torch.randn(6, 40, generator=gen)
T, TAU = 30, 3.7
drive = (stim @ W_model).clamp(min=0) * 1.3
rates = spike_rates(drive.expand(T, K, 40), tau=TAU, v_th=1.1)
v, count = torch.zeros(K, 40), torch.zeros(K, 40)
for _ in range(T):  # LIF from the definition: leak to 0, fire at >= 1.1, hard reset to 0
    h = v + (drive - v) / TAU
    sp = (h >= 1.1).to(torch.float64)
    count += sp
    v = h * (1 - sp)
torch.testing.assert_close(rates, count / T)  # catches a wrong tau or threshold passed to the core
assert 0.05 < rates.mean() < 0.6  # neurons actually spike, without saturating
neural_same = (stim @ W_model).clamp(min=0) + 0.3 * torch.randn(K, 40, generator=gen)
neural_other = (stim @ W_other).clamp(min=0) + 0.3 * torch.randn(K, 40, generator=gen)
s_same, s_other = rsa_similarity(rates, neural_same).item(), rsa_similarity(rates, neural_other).item()
print(f"RSA with matched population {s_same:.3f}, with unrelated population {s_other:.3f}")
assert s_same > s_other + 0.2

# %% [markdown]
# **Claim 4.** The representation and the RDM are differentiable, so RSA can be used as a training signal. The
# spike rates carry the core LIF neuron's surrogate gradient: autograd through `spike_rates` equals autograd through
# a LIF loop written here with the same `atan_spike` surrogate. The RDM's gradient equals a central finite
# difference of $1-\rho$ computed from sums.

# %%
from snnref.surrogate import atan_spike

xg = (drive.expand(T, K, 40) * (1 + 0.1 * torch.rand(T, K, 40, generator=gen))).clone().requires_grad_(True)
rg = spike_rates(xg, tau=TAU, v_th=1.1)
assert rg.requires_grad  # catches the rates (or the charge inside the core) detached from the graph
wgt = torch.randn(K, 40, generator=gen)
(gx,) = torch.autograd.grad((rg * wgt).sum(), xg)
xb = xg.detach().clone().requires_grad_(True)
v, acc = torch.zeros(K, 40), torch.zeros(K, 40)
for t in range(T):  # the same LIF from the definition, differentiable through the atan surrogate
    h = v + (xb[t] - v) / TAU
    sp = atan_spike(h - 1.1)
    acc = acc + sp
    v = h * (1 - sp)
(gb,) = torch.autograd.grad((acc / T * wgt).sum(), xb)
torch.testing.assert_close(gx, gb, rtol=1e-10, atol=1e-12)  # catches a wrong gradient path through the rates
assert gx.abs().max() > 1e-3  # the surrogate gradient actually reaches the input

rr = r1.clone().requires_grad_(True)
Rg = rdm(rr)
assert Rg.requires_grad  # catches the RDM detached from the responses
(gr,) = torch.autograd.grad(Rg[1, 4], rr)
eps = 1e-6
for a in (1, 4):
    for u in range(D):
        ep = torch.zeros(K, D)
        ep[a, u] = eps
        fd = ((1 - pearson((r1 + ep)[1], (r1 + ep)[4])) - (1 - pearson((r1 - ep)[1], (r1 - ep)[4]))) / (2 * eps)
        assert math.isclose(gr[a, u].item(), fd, abs_tol=1e-7)  # catches a wrong gradient of the normalisation
assert gr[[i for i in range(K) if i not in (1, 4)]].abs().max() == 0  # one entry depends only on its two stimuli

fig, ax = plt.subplots(1, 3, figsize=(10, 3))
for a, (name, rr) in zip(ax, (("SNN rates", rates), ("matched", neural_same), ("unrelated", neural_other))):
    a.imshow(rdm(rr), cmap="viridis")
    a.set(title=f"RDM: {name}")
plt.tight_layout()
plt.show()

# %% [markdown]
# Verified: the RDM and the RSA score equal their brute-force definitions (Pearson dissimilarity, Spearman on
# ranks); the score is invariant to per-stimulus affine changes, unit permutation and duplication; LIF spike-rate
# representations from the core match a brute-force loop and score higher against a population sharing their input
# filters than against an unrelated one; the rates carry the core's surrogate gradient and the RDM's gradient
# matches finite differences.
