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
# # Spikformer (Zhou et al., ICLR 2023)
# Softmax-free self-attention on spike-form queries, keys and values, in blocks with spike-wise ADD residuals.

# %%
import matplotlib.pyplot as plt
import torch

from snnref.models.spikformer import spikformer_block, ssa

torch.manual_seed(0)
DT = torch.float64
T, B, H, N, d = 4, 2, 2, 7, 5


def spikes(p, *shape):
    return (torch.rand(*shape, dtype=DT) < p).to(DT)


# %% [markdown]
# **Claim 1.** $\mathrm{SSA}'(Q,K,V) = \mathcal{SN}(QK^{\top}V\cdot s)$: entry $(i, j)$ at time $t$ is
# $s\sum_{m}\sum_{c} Q_{ic}K_{mc}V_{mj}$, fed to an LIF neuron over time (official: $s = 0.125$, threshold 0.5, $\tau = 2$).
# Oracle: explicit loops; also with $s = 0.3$, $\tau = 1.6$, threshold $0.9$.

# %%  catches: K not transposed, V applied on the wrong side, scale or threshold wrong, neuron not over time
def brute(q, k, v, s, tau, v_th):
    out = torch.zeros_like(q)
    for b in range(B):
        for h in range(H):
            for i in range(N):
                for j in range(d):
                    mem = 0.0
                    for t in range(T):
                        x = s * sum(q[t, b, h, i, c] * k[t, b, h, m, c] * v[t, b, h, m, j]
                                    for m in range(N) for c in range(d))
                        mem = mem + (x - mem) / tau
                        fired = 1.0 if mem >= v_th else 0.0
                        mem = mem * (1 - fired)
                        out[t, b, h, i, j] = fired
    return out


q, k, v = spikes(0.5, T, B, H, N, d), spikes(0.5, T, B, H, N, d), spikes(0.4, T, B, H, N, d)
out = ssa(q, k, v)
# catches: returning the neuron's membrane states instead of its spikes (a list, or the wrong shape)
assert isinstance(out, torch.Tensor) and out.shape == q.shape and out.dtype == DT
torch.testing.assert_close(out, brute(q, k, v, 0.125, 2.0, 0.5), rtol=0, atol=0)
torch.testing.assert_close(ssa(q, k, v, s=0.3, tau=1.6, v_th=0.9), brute(q, k, v, 0.3, 1.6, 0.9), rtol=0, atol=0)
assert 0.05 < out.mean() < 0.95  # non-degenerate firing

# %% [markdown]
# **Claim 2.** Why no softmax is needed and why it is cheap: $QK^{\top}$ counts shared active channels, so it is an integer
# matrix in $[0, d]$ (non-negative, unlike float queries and keys); products of spike matrices are sums of selected
# entries (AND then count); and $(QK^{\top})V = Q(K^{\top}V)$ exactly, so the $N\times N$ map never has to be formed.

# %%  catches: (used as a check of the premises the module relies on)
scores = q @ k.transpose(-2, -1)
assert torch.equal(scores, scores.round()) and scores.min() >= 0 and scores.max() <= d
and_count = (q.bool().unsqueeze(-2) & k.bool().unsqueeze(-3)).sum(-1).to(DT)  # [.., N, N] by logic only
torch.testing.assert_close(scores, and_count, rtol=0, atol=0)
torch.testing.assert_close((q @ k.transpose(-2, -1)) @ v, q @ (k.transpose(-2, -1) @ v), rtol=0, atol=0)
qf, kf = torch.randn(N, d, dtype=DT), torch.randn(N, d, dtype=DT)
assert (qf @ kf.T).min() < 0  # real-valued Q, K give negative scores: that is what softmax had to fix

# %% [markdown]
# **Claim 3.** The block adds spikes to spikes, $X' = X + \mathcal{SN}(\mathrm{SSA}'(Q,K,V)W_o)$. With a silent branch
# ($W_o = 0$, so the neuron receives 0 and never fires) the input spikes pass unchanged; with an active branch the sum
# reaches 2 where both fire, so the next layer receives non-binary values (the issue Spikingformer later removes).

# %%  catches: residual missing or applied before the neuron, heads split into the wrong axis
D, heads = 8, 2
from snnref.models import sdsa as sd  # noqa: E402

W = {n: torch.randn(D, D, dtype=DT) * 1.2 + 0.4 for n in ("wq", "wk", "wv", "wo")}


def block_reference(x, W):
    """Per-head reference built from ssa on hand-made head slices (channels h*4..h*4+3 form head h)."""
    qkv = [sd.lif(x @ W[n]) for n in ("wq", "wk", "wv")]
    att = torch.cat([ssa(*(z[..., h * 4:(h + 1) * 4].unsqueeze(2) for z in qkv))[:, :, 0] for h in range(heads)], -1)
    return x + sd.lif(att @ W["wo"])


# first with T = B: a block that mixes up the time and batch axes keeps every shape there, so only values can tell
x_sq = spikes(0.45, 3, 3, N, D)
torch.testing.assert_close(spikformer_block(x_sq, heads=heads, **W), block_reference(x_sq, W), rtol=0, atol=0)
# and a batch of one: merging heads back as [B, T, ...] then broadcasts against X to the wrong shape [T, T, ...]
x_one = spikes(0.45, 3, 1, N, D)
torch.testing.assert_close(spikformer_block(x_one, heads=heads, **W), block_reference(x_one, W), rtol=0, atol=0)
x = spikes(0.45, T, B, N, D)
y = spikformer_block(x, heads=heads, **W)
torch.testing.assert_close(spikformer_block(x, heads=heads, **dict(W, wo=torch.zeros(D, D, dtype=DT))), x,
                           rtol=0, atol=0)  # identity when the branch is silent
assert set(y.unique().tolist()) == {0.0, 1.0, 2.0}  # ADD of two spike tensors is not binary
torch.testing.assert_close(y, block_reference(x, W), rtol=0, atol=0)
assert not torch.equal(spikformer_block(x, heads=1, **W), y)  # unlike SDSA, SSA mixes channels within a head
try:
    spikformer_block(x, heads=3, **W)
    raise AssertionError("heads=3 accepted for D=8")  # catches: missing validation
except ValueError:
    pass

# %% [markdown]
# **Claim 4.** Training uses surrogate gradients through every spiking neuron (sigmoid surrogate,
# $g'(z) = \alpha\sigma(\alpha z)(1-\sigma(\alpha z))$, $\alpha = 4$). At $T = 1$ from rest the neuron fires where
# $z = sA/\tau - V_{th} \ge 0$ with $A = QK^{\top}V$, so for a loss $L = \sum_{ij} c_{ij}\,\mathrm{SSA}'_{ij}$:
# $\partial L/\partial V = (QK^{\top})^{\top} G$ and $\partial L/\partial Q = G\,(K^{\top}V)^{\top}$ with
# $G = c \odot g'(z)\, s/\tau$. The block's gradients (all four weights and the input) equal those of the per-head
# reference.

# %%  catches: a detached neuron output, attention or head split (no gradient reaches Q, K, V or the weights)
s_, tau_, vth_ = 0.3, 1.6, 0.85  # z = 0.1875 * count - 0.85 never within 0.08 of 0
q1, k1, v1 = (spikes(0.5, 1, B, H, N, d).requires_grad_() for _ in range(3))
c = torch.randn(1, B, H, N, d, dtype=DT)
o1 = ssa(q1, k1, v1, s=s_, tau=tau_, v_th=vth_)
assert o1.requires_grad  # catches: .detach() on the attention output or inside the neuron
(o1 * c).sum().backward()
z = s_ * (q1 @ k1.mT @ v1).detach() / tau_ - vth_
assert z.abs().min() > 0.05  # margins away from the threshold
sig = torch.sigmoid(4.0 * z)
G = c * 4.0 * sig * (1 - sig) * s_ / tau_
torch.testing.assert_close(v1.grad, (q1 @ k1.mT).detach().mT @ G, rtol=1e-12, atol=1e-14)
torch.testing.assert_close(q1.grad, G @ (k1.mT @ v1).detach().mT, rtol=1e-12, atol=1e-14)

Wg = {n: w.clone().requires_grad_() for n, w in W.items()}
Wr = {n: w.clone().requires_grad_() for n, w in W.items()}
xg, xr = x.clone().requires_grad_(), x.clone().requires_grad_()
cy = torch.randn(T, B, N, D, dtype=DT)
yg = spikformer_block(xg, heads=heads, **Wg)
assert yg.requires_grad  # catches: .detach() on the block output
(yg * cy).sum().backward()
(block_reference(xr, Wr) * cy).sum().backward()
for n in W:
    assert Wg[n].grad is not None and Wg[n].grad.abs().sum() > 0  # catches: a head split cut from the graph
    torch.testing.assert_close(Wg[n].grad, Wr[n].grad, rtol=1e-10, atol=1e-12)
torch.testing.assert_close(xg.grad, xr.grad, rtol=1e-10, atol=1e-12)  # residual path included

# %%
fig, ax = plt.subplots(1, 3, figsize=(10, 3))
ax[0].imshow(scores[0, 0, 0], cmap="viridis"); ax[0].set_title(r"$QK^\top$ (integer counts)")
ax[1].imshow(out[:, 0, 0].sum(0), cmap="viridis"); ax[1].set_title("SSA' spikes summed over T")
ax[2].hist(y.flatten().numpy(), bins=[-0.5, 0.5, 1.5, 2.5]); ax[2].set_title("block output values")
plt.tight_layout(); plt.show()

# %% [markdown]
# Verified: SSA equals its loop definition (official and non-default constants), its scores are non-negative integer
# counts and the product can be reassociated exactly, and the spike-wise ADD residual is the identity for a silent
# branch but produces the non-binary value 2 otherwise; surrogate gradients match the closed form at $T=1$ and reach
# every weight of the block.
