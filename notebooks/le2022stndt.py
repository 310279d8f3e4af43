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
# # STNDT: spatiotemporal transformer for neural population activity (Le & Shlizerman, NeurIPS 2022)
# Attention across time bins and across neurons, trained with masked Poisson likelihood and a contrastive loss.

# %%
import math

import matplotlib.pyplot as plt
import torch

from snnref.neuro.stndt import masked_poisson_nll, nt_xent, spatiotemporal_attention

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)  # tiny tensors: thread start-up would dominate the run time
gen = torch.Generator().manual_seed(3)
B, T, N = 2, 7, 5
x = torch.poisson(torch.full((B, T, N), 1.3), generator=gen)
W = {k: torch.randn(N if k.endswith("_t") else T, N if k.endswith("_t") else T, generator=gen) * 0.4
     for k in ("wq_t", "wk_t", "wv_t", "wq_s", "wk_s")}

# %% [markdown]
# **Claim 1.** The block is temporal self-attention (time bins as tokens, scale $1/\sqrt N$), followed by spatial
# self-attention (neurons as tokens, scale $1/\sqrt T$) applied to the temporal features, $Z = (A_SZ_T^\top)^\top$.
# This is the paper's Fig. 1. A brute-force loop over explicit sums and exponentials gives the same output.

# %%
def brute(xb, W=W):
    T, N = xb.shape
    q, k, v = xb @ W["wq_t"], xb @ W["wk_t"], xb @ W["wv_t"]
    zt = torch.zeros(T, N)
    for i in range(T):
        e = [math.exp(sum(q[i, a] * k[j, a] for a in range(N)).item() / math.sqrt(N)) for j in range(T)]
        for j in range(T):
            zt[i] += e[j] / sum(e) * v[j]
    xs = xb.T
    qs, ks = xs @ W["wq_s"], xs @ W["wk_s"]
    out = torch.zeros(T, N)
    for i in range(N):
        e = [math.exp(sum(qs[i, a] * ks[j, a] for a in range(T)).item() / math.sqrt(T)) for j in range(N)]
        for j in range(N):
            out[:, i] += e[j] / sum(e) * zt[:, j]
    return out


# first a cube (B = T = N): a transpose over the wrong axes keeps every shape valid, so only the values can tell
x_sq = torch.poisson(torch.full((6, 6, 6), 1.3), generator=gen)
W_sq = {k: torch.randn(6, 6, generator=gen) * 0.4 for k in W}
z_sq = spatiotemporal_attention(x_sq, **W_sq)
for b in range(6):
    # catches: the neurons-as-tokens transpose over the wrong pair of axes (a no-op, or batch mixed with neurons)
    torch.testing.assert_close(z_sq[b], brute(x_sq[b], W_sq), rtol=1e-10, atol=1e-10)
z = spatiotemporal_attention(x, **W)
for b in range(B):
    # catches: softmax over the wrong axis, swapped scales, spatial attention applied to x instead of Z_T
    torch.testing.assert_close(z[b], brute(x[b]), rtol=1e-10, atol=1e-10)
# spatial attention is equivariant to relabelling neurons when the temporal maps are relabelled with them
perm = torch.tensor([3, 0, 4, 1, 2])
Wp = dict(W)
for k in ("wq_t", "wk_t"):
    Wp[k] = W[k][perm]
Wp["wv_t"] = W["wv_t"][perm][:, perm]
torch.testing.assert_close(spatiotemporal_attention(x[..., perm], **Wp), z[..., perm], rtol=1e-10, atol=1e-10)

# %% [markdown]
# **Claim 1b.** The block is differentiable in all five projection maps: the autograd gradient of a weighted sum of
# its output equals a central finite difference of the brute-force loop.

# %%
Wg = {k: w.clone().requires_grad_(True) for k, w in W.items()}
zg = spatiotemporal_attention(x, **Wg)
assert zg.requires_grad  # catches the block output detached from the graph
wgt = torch.randn(B, T, N, generator=gen)
grads = dict(zip(Wg, torch.autograd.grad((zg * wgt).sum(), list(Wg.values()))))
eps = 1e-6
for name, (r, c_) in (("wq_t", (1, 3)), ("wk_t", (4, 0)), ("wv_t", (2, 2)), ("wq_s", (5, 1)), ("wk_s", (0, 6))):
    fd = 0.0
    for sgn in (1, -1):
        Wd = dict(W)
        Wd[name] = W[name].clone()
        Wd[name][r, c_] += sgn * eps
        fd += sgn * sum((brute(x[b], Wd) * wgt[b]).sum().item() for b in range(B)) / (2 * eps)
    # catches: a wrong gradient path (e.g. a detached softmax) through any of the five maps
    assert math.isclose(grads[name][r, c_].item(), fd, rel_tol=1e-5, abs_tol=1e-7), (name, grads[name][r, c_], fd)

# %% [markdown]
# **Claim 2.** The masked-modeling objective is the exact Poisson negative log-likelihood, averaged over masked
# bins only. It is checked against `torch.distributions.Poisson`, an independent implementation. Its minimiser
# over a constant rate is the mean masked count.

# %%
log_rate = torch.randn(B, T, N, generator=gen) * 0.5
mask = (torch.rand(B, T, N, generator=gen) < 0.3).to(torch.float64)
ref = -(torch.distributions.Poisson(torch.exp(log_rate)).log_prob(x) * mask).sum() / mask.sum()
# catches: k! dropped, log-rate used as rate, unmasked bins counted
torch.testing.assert_close(masked_poisson_nll(log_rate, x, mask), ref, rtol=1e-12, atol=1e-12)
c = torch.log((x * mask).sum() / mask.sum()).clone().requires_grad_(True)  # log of the mean masked count
loss_c = masked_poisson_nll(c.expand(B, T, N), x, mask)
assert loss_c.requires_grad  # catches the loss detached from the log-rates
(g,) = torch.autograd.grad(loss_c, c)
assert abs(g.item()) < 1e-12  # stationary exactly at the mean count: catches exp(l) - k*l with a wrong weight

# %% [markdown]
# **Claim 3.** The contrastive loss is NT-Xent. A brute-force double loop over the $2B$ embeddings, from the
# definition, agrees with it. In the ideal case (both views identical, samples orthonormal) it has the closed form
# $-\log\frac{e^{1/\tau}}{e^{1/\tau} + 2B - 2}$.

# %%
def nt_xent_brute(z1, z2, tau):
    zz = torch.cat([z1, z2])
    zz = zz / zz.norm(dim=-1, keepdim=True)
    m = zz.shape[0]
    total = 0.0
    for i in range(m):
        pos = (i + m // 2) % m
        den = sum(math.exp((zz[i] @ zz[k]).item() / tau) for k in range(m) if k != i)
        total += -math.log(math.exp((zz[i] @ zz[pos]).item() / tau) / den)
    return total / m


z1, z2 = torch.randn(4, 6, generator=gen), torch.randn(4, 6, generator=gen)
for tau in (0.07, 0.5):
    # catches: the self-similarity left in the denominator, wrong positive index, missing normalisation
    assert math.isclose(nt_xent(z1, z2, temperature=tau).item(), nt_xent_brute(z1, z2, tau), rel_tol=1e-10)
# the gradient reaching the embeddings equals a central finite difference of the brute-force loss
z1g = z1.clone().requires_grad_(True)
loss = nt_xent(z1g, z2, temperature=0.5)
assert loss.requires_grad  # catches the loss detached from the embeddings
(gz,) = torch.autograd.grad(loss, z1g)
for r, c_ in ((0, 0), (1, 4), (3, 5), (2, 1)):
    dz = torch.zeros(4, 6)
    dz[r, c_] = 1e-6
    fd = (nt_xent_brute(z1 + dz, z2, 0.5) - nt_xent_brute(z1 - dz, z2, 0.5)) / 2e-6
    assert math.isclose(gz[r, c_].item(), fd, rel_tol=1e-5, abs_tol=1e-8)  # catches a wrong gradient path
e = torch.eye(6)[:4]
tau = 0.3
closed = -math.log(math.exp(1 / tau) / (math.exp(1 / tau) + 2 * 4 - 2))
assert math.isclose(nt_xent(e, 2.5 * e, temperature=tau).item(), closed, rel_tol=1e-12)  # scale-invariant
try:
    nt_xent(z1, z2, temperature=0.0)
    raise AssertionError("temperature 0 accepted")
except ValueError as err:
    assert "temperature" in str(err)

taus = torch.logspace(-2, 0.5, 30)
fig, ax = plt.subplots(1, 2, figsize=(9, 3.2))
ax[0].plot(taus, [nt_xent(z1, z2, temperature=t.item()).item() for t in taus])
ax[0].plot(taus, [-math.log(math.exp(1 / t) / (math.exp(1 / t) + 6)) for t in taus.tolist()], "--")
ax[0].set(xscale="log", xlabel="temperature", ylabel="NT-Xent", title="random vs ideal embeddings")
ax[1].imshow(z[0].detach().T, aspect="auto")
ax[1].set(xlabel="time bin", ylabel="neuron", title="STNDT block output")
plt.tight_layout()
plt.show()

# %% [markdown]
# Verified: the spatiotemporal block equals a brute-force double attention and is equivariant to relabelling
# neurons; the masked loss is the exact Poisson NLL (against torch.distributions) with the mean-count minimiser; the
# contrastive loss equals NT-Xent from its definition and its closed form in the ideal case.
