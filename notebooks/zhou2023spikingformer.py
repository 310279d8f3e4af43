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
# # Spikingformer (Zhou et al., arXiv 2023)
# Spike-driven residual learning: moving the neuron to the start of each branch keeps every product spike-driven.

# %%
import matplotlib.pyplot as plt
import torch
from torch.overrides import TorchFunctionMode

from snnref.models import sdsa as sd
from snnref.models.spikformer import spikformer_block, ssa
from snnref.models.spikingformer import spikingformer_block

torch.manual_seed(0)
DT = torch.float64
T, B, N, D, heads = 4, 2, 6, 8, 2


def weights(seed):
    g = torch.Generator().manual_seed(seed)
    return {n: torch.randn(D, D, dtype=DT, generator=g) * 1.2 + 0.6 for n in ("wq", "wk", "wv", "wo")}


class MatmulInputs(TorchFunctionMode):
    def __init__(self):
        super().__init__()
        self.lhs = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if getattr(func, "__name__", "") in ("matmul", "__matmul__"):
            self.lhs.append(args[0])
        return func(*args, **(kwargs or {}))


# %% [markdown]
# **Claim 1.** The block is the pre-activation form $X' = X + \mathrm{SSA}'(Q,K,V)W_o$ with
# $Q = \mathcal{SN}(\mathcal{SN}(X)W_q)$ (same for $K$, $V$): it matches a reference built by hand from SSA and the
# neuron (also with $T = B$ and with a batch of one, where a time/batch mix-up cannot hide behind a shape error), and
# with a zero projection it is the identity on the (real-valued) residual stream. Its surrogate gradients with respect
# to the input and all four weights equal the reference's.

# %%  catches: neuron after the projection (Spikformer placement), missing pre-activation, residual missing
W = weights(1)
# the neuron SN of the block (official defaults: tau = 2, threshold 1, hard reset to 0), against a loop
x_n = torch.randn(T, B, N, D, dtype=DT) * 1.3 + 1.6
s_n = sd.lif(x_n)
assert isinstance(s_n, torch.Tensor) and s_n.shape == x_n.shape  # catches: the neuron's states returned, not spikes
mem, ref_n = torch.zeros_like(x_n[0]), []
for t in range(T):
    mem = mem + (x_n[t] - mem) / 2.0
    f = (mem >= 1.0).to(DT)
    mem = mem * (1 - f)
    ref_n.append(f)
torch.testing.assert_close(s_n, torch.stack(ref_n), rtol=0, atol=0)


def reference(x, W):
    """The block by hand: pre-activation neuron, spiking Q, K, V, SSA on each head's channel slice, projection."""
    qkv = [sd.lif(sd.lif(x) @ W[n]) for n in ("wq", "wk", "wv")]
    att = torch.cat([ssa(*(z[..., h * 4:(h + 1) * 4].unsqueeze(2) for z in qkv))[:, :, 0] for h in range(heads)], -1)
    return x + att @ W["wo"], qkv, att


for shape in ((3, 3, N, D), (3, 1, N, D)):  # T = B, then a batch of one
    x_ = torch.randn(*shape, dtype=DT) * 1.3 + 1.6
    torch.testing.assert_close(spikingformer_block(x_, heads=heads, **W), reference(x_, W)[0], rtol=1e-12, atol=1e-12)
x = torch.randn(T, B, N, D, dtype=DT) * 1.3 + 1.6
y = spikingformer_block(x, heads=heads, **W)
y_ref, qkv, att = reference(x, W)
torch.testing.assert_close(y, y_ref, rtol=1e-12, atol=1e-12)
assert att.abs().sum() > 0  # the branch is active
torch.testing.assert_close(spikingformer_block(x, heads=heads, **dict(W, wo=torch.zeros(D, D, dtype=DT))), x,
                           rtol=0, atol=0)
# SSA itself (shared with Spikformer): LIF over time of s * sum_m sum_c Q_ic K_mc V_mj, checked with einsum + a loop LIF
q_, k_, v_ = (z[..., :4].unsqueeze(2) for z in qkv)
pre = torch.einsum("tbhic,tbhmc,tbhmj->tbhij", q_, k_, v_) * 0.125
mem, ref_s = torch.zeros_like(pre[0]), []
for t in range(T):
    mem = mem + (pre[t] - mem) / 2.0
    f = (mem >= 0.5).to(DT)
    mem = mem * (1 - f)
    ref_s.append(f)
torch.testing.assert_close(ssa(q_, k_, v_), torch.stack(ref_s), rtol=0, atol=0)
assert not torch.equal(ssa(q_, k_, v_), ssa(k_, q_, v_))  # Q and K play different roles
# gradients reach the residual stream and every weight (no detached path)
xg, xr = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
Wg = {n: w.clone().requires_grad_(True) for n, w in W.items()}
Wr = {n: w.clone().requires_grad_(True) for n, w in W.items()}
yg = spikingformer_block(xg, heads=heads, **Wg)
assert yg.requires_grad  # catches: a detached block output
yg.sum().backward()
reference(xr, Wr)[0].sum().backward()
assert (xg.grad - 1).abs().sum() > 0 and Wg["wo"].grad.abs().sum() > 0 and Wg["wq"].grad.abs().sum() > 0
torch.testing.assert_close(Wg["wo"].grad, torch.einsum("tbni,tbnj->ij", att, torch.ones_like(x)), rtol=1e-12, atol=1e-12)
for n in W:  # catches: a detached head split or neuron (no gradient reaches W_q, W_k, W_v)
    torch.testing.assert_close(Wg[n].grad, Wr[n].grad, rtol=1e-10, atol=1e-12)
torch.testing.assert_close(xg.grad, xr.grad, rtol=1e-10, atol=1e-12)
try:
    spikingformer_block(x, heads=3, **W)
    raise AssertionError("heads=3 accepted for D=8")  # catches: missing validation
except ValueError:
    pass

# %% [markdown]
# **Claim 2.** The paper's point: stacked Spikingformer blocks feed only spikes to every matrix product, whereas in
# stacked Spikformer blocks the second block's products receive the residual sum of spikes, which reaches 2 (a
# non-spike, so the product needs multiplications or repeated additions). A product with a binary left operand is a
# sum of selected weight rows, checked against an explicit gather-and-add. The Spikformer block used for the comparison
# is checked against its hand-built reference, in value and in its gradients with respect to the weights.

# %%  catches: any placement of the residual or neuron that lets a non-binary tensor into a product
x_spk = (torch.rand(T, B, N, D, dtype=DT) < 0.45).to(DT)  # both stacks start from the same input spikes
W1, W2 = weights(2), weights(3)
with MatmulInputs() as rec_new:
    spikingformer_block(spikingformer_block(x_spk, heads=heads, **W1), heads=heads, **W2)
with MatmulInputs() as rec_old:
    spikformer_block(spikformer_block(x_spk, heads=heads, **W1), heads=heads, **W2)


def binary(t):
    return bool(((t == 0) | (t == 1)).all())


weight_products_new = [m for m in rec_new.lhs if m.shape[-1] == D and m.shape[-2] == N]
assert len(weight_products_new) == 8 and all(binary(m) for m in weight_products_new)  # 4 products x 2 blocks
assert all(binary(m) for m in rec_new.lhs if m.shape[-1] != 1)  # attention products too (Q, K^T are spikes)
non_binary_old = [m for m in rec_old.lhs if not binary(m)]
# the Spikformer block used for the comparison is the one checked in its own notebook: X + SN(SSA' W_o)
W1g = {n: w.clone().requires_grad_(True) for n, w in W1.items()}
W1r = {n: w.clone().requires_grad_(True) for n, w in W1.items()}
ref_old = x_spk + sd.lif(torch.cat([ssa(*(sd.lif(x_spk @ W1r[n])[..., h * 4:(h + 1) * 4].unsqueeze(2)
                                         for n in ("wq", "wk", "wv")))[:, :, 0] for h in range(heads)], -1) @ W1r["wo"])
y_old = spikformer_block(x_spk, heads=heads, **W1g)
torch.testing.assert_close(y_old, ref_old, rtol=0, atol=0)
assert y_old.requires_grad  # catches: a detached Spikformer block
c_old = torch.randn_like(x_spk)
(y_old * c_old).sum().backward()
(ref_old * c_old).sum().backward()
for n in W1:  # catches: a detached head split or output neuron in the compared block
    assert W1g[n].grad is not None and W1g[n].grad.abs().sum() > 0
    torch.testing.assert_close(W1g[n].grad, W1r[n].grad, rtol=1e-10, atol=1e-12)
ref_old = ref_old.detach()
assert non_binary_old and max(m.max().item() for m in non_binary_old) == 2.0  # Spikformer: 2s enter a product
m0 = weight_products_new[0]
gathered = torch.stack([W1["wq"][m0[idx].bool()].sum(0) for idx in [(0, 0, 0), (1, 1, 3)]])
torch.testing.assert_close(gathered, torch.stack([(m0 @ W1["wq"])[0, 0, 0], (m0 @ W1["wq"])[1, 1, 3]]),
                           rtol=1e-12, atol=1e-12)  # spike x weight = add the selected rows

# %%
vals_old = torch.cat([m.flatten() for m in rec_old.lhs])
vals_new = torch.cat([m.flatten() for m in rec_new.lhs])
plt.hist([vals_new.numpy(), vals_old.numpy()], bins=[-0.5, 0.5, 1.5, 2.5, 3.5], label=["Spikingformer", "Spikformer"])
plt.xlabel("value of left operands entering matrix products (two stacked blocks)"); plt.legend(); plt.yscale("log")
plt.show()

# %% [markdown]
# Verified: the Spikingformer block is the pre-activation residual form built from SSA and the LIF core, it is the
# identity for a zero branch, and stacking it keeps every product spike-driven, while Spikformer's spike-wise ADD
# residual sends the value 2 into the next block's products; the gradients of both blocks equal their hand-built
# references.
