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

from snnref.models import sdsa as sdsa_mod
from snnref.models.sdsa import ms_attention_block, sdsa, sdsa_kv

torch.manual_seed(0)
DT = torch.float64
T, B, H, N, d = 4, 2, 2, 9, 6


def spikes(p, *shape):
    return (torch.rand(*shape, dtype=DT) < p).to(DT)


def sg(z):  # SpikingJelly's default surrogate derivative, sigmoid with alpha = 4
    return 4 * torch.sigmoid(4 * z) * (1 - torch.sigmoid(4 * z))


# %% [markdown]
# **Claim 1.** The spiking neuron $\mathcal{SN}$ of every layer is SpikingJelly's multi-step LIF (official defaults
# $\tau = 2$, threshold 1, hard reset to 0, sigmoid surrogate with $\alpha = 4$):
# $H_t = V_{t-1} + (X_t - V_{t-1})/\tau$, $S_t = \Theta(H_t - V_{th})$, $V_t = H_t(1 - S_t)$. Oracle: a loop.
# Backward over two steps: with $z_t = H_t - V_{th}$,
# $\partial S_2/\partial X_2 = g'(z_2)/\tau$ and
# $\partial S_2/\partial X_1 = g'(z_2)(1 - 1/\tau)\,\big((1 - S_1) - H_1 g'(z_1)\big)/\tau$ (the reset carries gradient).

# %%  catches: soft reset, other leak/threshold, returning the membrane states, a detached charge or reset
u_lif = torch.randn(T, B, N, 8, dtype=DT) * 1.5 + 1.2


def loop_lif(x, tau, v_th):
    mem, out = torch.zeros_like(x[0]), []
    for t in range(len(x)):
        mem = mem + (x[t] - mem) / tau
        fired = (mem >= v_th).to(DT)
        mem = mem * (1 - fired)
        out.append(fired)
    return torch.stack(out)


s_lif = sdsa_mod.lif(u_lif)
assert isinstance(s_lif, torch.Tensor) and s_lif.shape == u_lif.shape  # catches: the states list returned, not spikes
torch.testing.assert_close(s_lif, loop_lif(u_lif, 2.0, 1.0), rtol=0, atol=0)  # official defaults
torch.testing.assert_close(sdsa_mod.lif(u_lif, tau=1.7, v_th=1.3), loop_lif(u_lif, 1.7, 1.3), rtol=0, atol=0)
assert 0.1 < s_lif.mean() < 0.9
# T = 2 backward, tau = 1.7, threshold 1.3; inputs chosen so every z_t is at least 0.1 away from 0
tau_, vth_ = 1.7, 1.3
x12 = torch.tensor([[2.6, 3.0, 1.0, 2.0], [1.5, 2.9, 2.4, 1.9]], dtype=DT, requires_grad=True)
c12 = torch.tensor([[0.7, -1.1, 0.4, 0.9], [1.3, 0.6, -0.8, 1.2]], dtype=DT)
o12 = sdsa_mod.lif(x12, tau=tau_, v_th=vth_)
assert o12.requires_grad  # catches: .detach() anywhere in the neuron's forward
(o12 * c12).sum().backward()
xa = x12.detach()
h1 = xa[0] / tau_
s1 = (h1 >= vth_).to(DT)
h2 = h1 * (1 - s1) * (1 - 1 / tau_) + xa[1] / tau_
assert (h1 - vth_).abs().min() > 0.1 and (h2 - vth_).abs().min() > 0.1 and 0 < s1.sum() < 4
dx2 = c12[1] * sg(h2 - vth_) / tau_
dx1 = c12[0] * sg(h1 - vth_) / tau_ + c12[1] * sg(h2 - vth_) * (1 - 1 / tau_) * ((1 - s1) - h1 * sg(h1 - vth_)) / tau_
torch.testing.assert_close(x12.grad, torch.stack([dx1, dx2]), rtol=1e-12, atol=1e-15)  # catches: wrong surrogate, reset gradient cut

# %% [markdown]
# **Claim 2.** $\mathrm{SDSA}(Q,K,V) = Q \otimes \mathcal{SN}(\mathrm{SUM}_c(K\otimes V))$: for every head and time step,
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
assert isinstance(out, torch.Tensor) and out.shape == q.shape  # catches: a shape that only broadcasting hides
torch.testing.assert_close(out, brute(q, k, v, 2.0, 0.5), rtol=0, atol=0)  # the paper's setting
out2 = sdsa(q, k, v, tau=1.7, v_th=1.3)
torch.testing.assert_close(out2, brute(q, k, v, 1.7, 1.3), rtol=0, atol=0)  # non-default leak and threshold
assert 0 < out.mean() < q.mean()  # non-degenerate: some channels masked off, some kept
# the shared row is linear in the tokens: N tokens cost N*d mask-adds, and an extra token with K=0 changes nothing
k_pad = torch.cat([k, torch.zeros(T, B, H, 1, d, dtype=DT)], 3)
v_pad = torch.cat([v, torch.ones(T, B, H, 1, d, dtype=DT)], 3)
torch.testing.assert_close(sdsa_kv(k_pad, v_pad), sdsa_kv(k, v), rtol=0, atol=0)

# %% [markdown]
# **Claim 3.** With spike inputs SDSA is spike-driven: $K \otimes V$ is an AND, $\mathrm{SUM}_c$ a count and
# $Q \otimes \cdot$ a mask. We record every torch function `sdsa` calls outside its neurons: no matrix product and no
# division, and every element-wise product has a binary $\{0,1\}$ operand (a mask, not a multiplication).
# The shared row holds non-negative integer counts equal to the AND-and-count.

# %%  catches: a matmul for the token sum, a product of two non-binary values, the count not being an AND count
class Calls(TorchFunctionMode):
    def __init__(self):
        super().__init__()
        self.names, self.products = [], []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", str(func))
        self.names.append(name)
        if name in ("mul", "__mul__", "__rmul__", "mul_"):
            self.products.append(args[:2])
        return func(*args, **(kwargs or {}))


def binary(x):
    return isinstance(x, torch.Tensor) and bool(((x == 0) | (x == 1)).all())


FORBIDDEN = {"matmul", "__matmul__", "bmm", "mm", "einsum", "prod", "dot", "__truediv__", "div"}
with Calls() as rec:
    row = sdsa_kv(k, v)
assert rec.products and not FORBIDDEN & set(rec.names), rec.names
assert all(binary(a) or binary(b) for a, b in rec.products)  # products of spikes are ANDs
assert torch.equal(row, row.round()) and row.min() >= 0  # counts of co-active (k, v) pairs
torch.testing.assert_close(row, (k.bool() & v.bool()).sum(-2, keepdim=True).to(DT), rtol=0, atol=0)  # AND then count

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
assert len(rec.products) == 2 and not FORBIDDEN & set(rec.names), sorted(set(rec.names))  # K*V and the Q mask
assert all(binary(a) and binary(b) for a, b in rec.products)  # every product is a mask of spikes
torch.testing.assert_close(out_rec, out, rtol=0, atol=0)

# %% [markdown]
# **Claim 4.** Membrane shortcut: the block adds its branch to the membrane input, $U' = U + \mathrm{SDSA}(\cdot)W_p$, and
# spikes are generated from $U$ first, so every matrix product in the block multiplies a binary matrix (an addition of
# selected weights). With a zero branch ($W_p = 0$) the block is the identity on $U$, so the next neuron sees exactly
# the same membrane input and emits exactly the same spikes. The block equals a per-head reference (also with
# $T = B$ and with a batch of one).

# %%  catches: residual added after the neuron (non-binary inputs), shortcut missing, tokens/channels mixed up
D, heads = 8, 2
u = torch.randn(T, B, N, D, dtype=DT) * 1.5 + 1.2
W = {n: torch.randn(D, D, dtype=DT) * 1.6 + 0.5 for n in ("wq", "wk", "wv", "wp")}


def block_reference(u, W):
    """Per-head reference: spikes by hand, sdsa on each head's channel slice, projection, shortcut."""
    s = sdsa_mod.lif(u)
    qkv = [sdsa_mod.lif(s @ W[n]) for n in ("wq", "wk", "wv")]
    att = []
    for h in range(heads):
        sl = slice(h * D // heads, (h + 1) * D // heads)
        att.append(sdsa(*(x[..., sl].unsqueeze(2) for x in qkv))[:, :, 0])
    return u + torch.cat(att, -1) @ W["wp"]


# T = B first (mixing up time and batch keeps every shape), then a batch of one (it then broadcasts to a wrong shape)
for shape in ((3, 3, N, D), (3, 1, N, D)):
    u_ = torch.randn(*shape, dtype=DT) * 1.5 + 1.2
    torch.testing.assert_close(ms_attention_block(u_, heads=heads, **W), block_reference(u_, W), rtol=1e-12, atol=1e-12)


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
torch.testing.assert_close(u2, block_reference(u, W), rtol=1e-12, atol=1e-12)

# %% [markdown]
# **Claim 5.** Training: the Hadamard products pass the surrogate gradient to all of $Q$, $K$ and $V$, as in the
# official code (`k.mul(v)`, `q.mul(kv)`). At $T = 1$ from rest, $\mathrm{SDSA} = Q \otimes \Theta(z)$ with
# $z = \mathrm{SUM}_c(K\otimes V)/\tau - V_{th}$, so for $L = \sum c \odot \mathrm{SDSA}$ and
# $G_j = \frac{g'(z_j)}{\tau}\sum_n c_{nj}Q_{nj}$: $\partial L/\partial Q = c \odot \Theta(z)$,
# $\partial L/\partial V_{nj} = K_{nj}G_j$, $\partial L/\partial K_{nj} = V_{nj}G_j$. The block's gradients (all four
# weights and $U$) equal the per-head reference's.

# %%  catches: masks that stop the gradient to Q or K (W_q, W_k never learn), detached attention, head split or output
q1, k1, v1 = (spikes(0.5, 1, B, H, N, d).requires_grad_() for _ in range(3))
c = torch.randn(1, B, H, N, d, dtype=DT)
o1 = sdsa(q1, k1, v1, tau=tau_, v_th=vth_)
assert o1.requires_grad  # catches: .detach() on the attention output
(o1 * c).sum().backward()
z = (k1 * v1).detach().sum(-2, keepdim=True) / tau_ - vth_  # count / 1.7 - 1.3: never within 0.1 of 0
assert z.abs().min() > 0.1 and 0 < (z > 0).double().mean() < 1
G = sg(z) / tau_ * (c * q1.detach()).sum(-2, keepdim=True)
for got, want in ((q1.grad, c * (z >= 0).to(DT)), (v1.grad, k1.detach() * G), (k1.grad, v1.detach() * G)):
    assert got is not None and got.abs().sum() > 0  # catches: no gradient at all for Q or K
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-15)

Wg = {n: w.clone().requires_grad_() for n, w in W.items()}
Wr = {n: w.clone().requires_grad_() for n, w in W.items()}
ug, ur = u.clone().requires_grad_(), u.clone().requires_grad_()
cu = torch.randn_like(u)
yg = ms_attention_block(ug, heads=heads, **Wg)
assert yg.requires_grad  # catches: .detach() on the block output
(yg * cu).sum().backward()
(block_reference(ur, Wr) * cu).sum().backward()
for n in W:
    assert Wg[n].grad is not None and Wg[n].grad.abs().sum() > 0  # catches: a weight cut from the graph
    torch.testing.assert_close(Wg[n].grad, Wr[n].grad, rtol=1e-10, atol=1e-12)
torch.testing.assert_close(ug.grad, ur.grad, rtol=1e-10, atol=1e-12)  # shortcut and spike paths both included

# %%
fig, ax = plt.subplots(1, 3, figsize=(10, 3))
ax[0].imshow(q[0, 0, 0], cmap="gray_r"); ax[0].set_title("Q (tokens x channels)")
ax[1].imshow(row[:, 0, 0, 0], cmap="viridis"); ax[1].set_title(r"SUM$_c$(K$\otimes$V) over time")
ax[2].imshow(out[0, 0, 0], cmap="gray_r"); ax[2].set_title("SDSA output, t=0")
for a in ax:
    a.set_xlabel("channel")
plt.tight_layout(); plt.show()

# %% [markdown]
# Verified: the neuron equals a loop LIF and its two-step surrogate gradient equals the closed form; SDSA equals its
# loop definition (paper setting and a non-degenerate one) and its products are all masks of spikes (AND-count-mask);
# the membrane-shortcut block feeds only spikes to its matrix products, reduces to the identity on the membrane
# potential when its branch is zero and matches a per-head reference; gradients reach Q, K, V and every weight.
