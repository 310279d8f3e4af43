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
# # Spike-driven Transformer (Yao et al., NeurIPS 2023)
# Self-attention on spikes built from masks and additions only, and residuals on membrane potentials.

# %%
import matplotlib.pyplot as plt
import torch
from torch.overrides import TorchFunctionMode

from snnref.models.sdsa import ms_attention_block, sdsa, sdsa_kv

torch.manual_seed(0)
DT = torch.float64
T, B, H, N, d = 4, 2, 2, 9, 6


def spikes(p, *shape):
    return (torch.rand(*shape, dtype=DT) < p).to(DT)


# %% [markdown]
# **Claim 1.** $\mathrm{SDSA}(Q,K,V) = Q \otimes \mathcal{SN}(\mathrm{SUM}_c(K\otimes V))$: for every head and time step,
# channel $j$ of the shared row is $\sum_{n} K_{nj}V_{nj}$, passed through an LIF neuron over time (threshold 0.5,
# $\tau=2$ in the official code), and token $n$ keeps channel $j$ iff $Q_{nj}=1$. Oracle: explicit loops.

# %%  catches: sum over channels instead of tokens, Q and K swapped, neuron applied per token, wrong threshold/leak
def brute(q, k, v, tau, v_th):
    out = torch.zeros_like(q)
    for b in range(B):
        for h in range(H):
            for j in range(d):
                mem = 0.0
                for t in range(T):
                    kv = sum(k[t, b, h, n, j] * v[t, b, h, n, j] for n in range(N))
                    mem = mem + (kv - mem) / tau  # LIF charge
                    fired = 1.0 if mem >= v_th else 0.0
                    mem = mem * (1 - fired)  # hard reset to 0
                    for n in range(N):
                        out[t, b, h, n, j] = q[t, b, h, n, j] * fired
    return out


q, k, v = spikes(0.5, T, B, H, N, d), spikes(0.3, T, B, H, N, d), spikes(0.25, T, B, H, N, d)
out = sdsa(q, k, v)
torch.testing.assert_close(out, brute(q, k, v, 2.0, 0.5), rtol=0, atol=0)  # the paper's setting
out2 = sdsa(q, k, v, tau=1.7, v_th=1.3)
torch.testing.assert_close(out2, brute(q, k, v, 1.7, 1.3), rtol=0, atol=0)  # non-default leak and threshold
assert 0 < out.mean() < q.mean()  # non-degenerate: some channels masked off, some kept
# the shared row is linear in the tokens: N tokens cost N*d mask-adds, and an extra token with K=0 changes nothing
k_pad = torch.cat([k, torch.zeros(T, B, H, 1, d, dtype=DT)], 3)
v_pad = torch.cat([v, torch.ones(T, B, H, 1, d, dtype=DT)], 3)
torch.testing.assert_close(sdsa_kv(k_pad, v_pad), sdsa_kv(k, v), rtol=0, atol=0)

# %% [markdown]
# **Claim 2.** With spike inputs, SDSA needs no floating-point products: $K \otimes V$ is a mask, $\mathrm{SUM}_c$ a count and
# $Q \otimes \cdot$ a mask. We record every torch function the attention core calls (outside the LIF neuron) and check
# that none multiplies, and that the shared row holds non-negative integers (counts).

# %%  catches: an implementation that multiplies K*V or Q*s, or uses a matmul for the token sum
class Calls(TorchFunctionMode):
    def __init__(self):
        super().__init__()
        self.names = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.names.append(getattr(func, "__name__", str(func)))
        return func(*args, **(kwargs or {}))


PRODUCTS = {"mul", "__mul__", "__rmul__", "mul_", "matmul", "__matmul__", "bmm", "mm", "einsum", "prod", "dot", "__truediv__", "div"}
with Calls() as rec:
    row = sdsa_kv(k, v)
assert rec.names and not PRODUCTS & set(rec.names), rec.names
assert torch.equal(row, row.round()) and row.min() >= 0  # counts of co-active (k, v) pairs
torch.testing.assert_close(row, (k.bool() & v.bool()).sum(-2, keepdim=True).to(DT), rtol=0, atol=0)  # AND then count
import snnref.models.sdsa as sdsa_mod  # noqa: E402

# now the whole of sdsa(), with the neuron's own arithmetic (leak, reset) excluded from the record
real_lif, in_lif = sdsa_mod.lif, [False]


def lif_unrecorded(*a, **kw):
    in_lif[0] = True
    try:
        return real_lif(*a, **kw)
    finally:
        in_lif[0] = False


class CallsOutsideLIF(Calls):
    def __torch_function__(self, func, types, args=(), kwargs=None):
        if in_lif[0]:
            return func(*args, **(kwargs or {}))
        return super().__torch_function__(func, types, args, kwargs)


sdsa_mod.lif = lif_unrecorded
try:
    with CallsOutsideLIF() as rec:
        out_rec = sdsa(q, k, v)
finally:
    sdsa_mod.lif = real_lif
assert rec.names and not PRODUCTS & set(rec.names), sorted(set(rec.names))  # mask/count/mask only
torch.testing.assert_close(out_rec, out, rtol=0, atol=0)

# %% [markdown]
# **Claim 3.** Membrane shortcut: the block adds its branch to the membrane input, $U' = U + \mathrm{SDSA}(\cdot)W_p$, and
# spikes are generated from $U$ first, so every matrix product in the block multiplies a binary matrix (an addition of
# selected weights). With a zero branch ($W_p = 0$) the block is the identity on $U$, so the next neuron sees exactly
# the same membrane input and emits exactly the same spikes.

# %%  catches: residual added after the neuron (non-binary inputs), shortcut missing, tokens/channels mixed up
D, heads = 8, 2
u = torch.randn(T, B, N, D, dtype=DT) * 1.5 + 1.2
W = {n: torch.randn(D, D, dtype=DT) * 1.6 + 0.5 for n in ("wq", "wk", "wv", "wp")}


class MatmulInputs(TorchFunctionMode):
    def __init__(self):
        super().__init__()
        self.lhs = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if getattr(func, "__name__", "") in ("matmul", "__matmul__"):
            self.lhs.append(args[0])
        return func(*args, **(kwargs or {}))


with MatmulInputs() as rec:
    u2 = ms_attention_block(u, heads=heads, **W)
assert len(rec.lhs) == 4 and all(((x == 0) | (x == 1)).all() for x in rec.lhs)  # only spikes enter products
assert not torch.equal(u2, u)  # the branch does something
zero = dict(W, wp=torch.zeros(D, D, dtype=DT))
torch.testing.assert_close(ms_attention_block(u, heads=heads, **zero), u, rtol=0, atol=0)  # identity on U
# SDSA acts channel by channel (token sum, neuron and mask are all per channel), so the head split cannot matter
one = ms_attention_block(u, heads=1, **W)
torch.testing.assert_close(one, u2, rtol=0, atol=0)  # catches: a split that mixes tokens and channels
try:
    ms_attention_block(u, heads=3, **W)
    raise AssertionError("heads=3 accepted for D=8")  # catches: missing validation
except ValueError:
    pass
# the block's neurons: LIF with the official defaults (tau=2, threshold 1, hard reset to 0), checked by a loop
mem, ref_s = torch.zeros_like(u[0]), []
for t in range(T):
    mem = mem + (u[t] - mem) / 2.0
    fired = (mem >= 1.0).to(DT)
    mem = mem * (1 - fired)
    ref_s.append(fired)
torch.testing.assert_close(sdsa_mod.lif(u), torch.stack(ref_s), rtol=0, atol=0)  # catches: soft reset, other leak/threshold
# backward: SpikingJelly's default surrogate, sigmoid with alpha = 4: dS/dX = 4 sig(4z)(1 - sig(4z)) / tau, z = X/tau - 1
x1 = torch.tensor([[1.3, 2.6, 0.4]], dtype=DT, requires_grad=True)
sdsa_mod.lif(x1).sum().backward()
z = x1.detach() / 2.0 - 1.0
torch.testing.assert_close(x1.grad, 4 * torch.sigmoid(4 * z) * (1 - torch.sigmoid(4 * z)) / 2.0, rtol=1e-12, atol=0)
# per-head reference: run sdsa on each head's slice by hand
s = sdsa_mod.lif(u)
qkv = [sdsa_mod.lif(s @ W[n]) for n in ("wq", "wk", "wv")]
ref = u.clone()
att = torch.zeros_like(u)
for h in range(heads):
    sl = slice(h * D // heads, (h + 1) * D // heads)
    a = sdsa(*(x[..., sl].unsqueeze(2) for x in qkv))[:, :, 0]
    att[..., sl] = a
torch.testing.assert_close(u2, u + att @ W["wp"], rtol=1e-12, atol=1e-12)

# %%
fig, ax = plt.subplots(1, 3, figsize=(10, 3))
ax[0].imshow(q[0, 0, 0], cmap="gray_r"); ax[0].set_title("Q (tokens x channels)")
ax[1].imshow(row[:, 0, 0, 0], cmap="viridis"); ax[1].set_title(r"SUM$_c$(K$\otimes$V) over time")
ax[2].imshow(out[0, 0, 0], cmap="gray_r"); ax[2].set_title("SDSA output, t=0")
for a in ax:
    a.set_xlabel("channel")
plt.tight_layout(); plt.show()

# %% [markdown]
# Verified: SDSA equals its loop definition (paper setting and a non-degenerate one), its core calls no product
# (AND-count-mask only), and the membrane-shortcut block feeds only spikes to its matrix products and reduces to the
# identity on the membrane potential when its branch is zero.
