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
# # Auxiliary accumulation pathway (Chen et al., arXiv 2023)
# Train a residual SNN whose blocks are joined by spike-only gates together with an accumulation stream that adds
# every block's spikes; drop the accumulation stream at test time.

# %%
import itertools

import matplotlib.pyplot as plt
import torch

from snnref.models.aap import GATES, DualStreamNet, dst_loss, dual_stream_block, spike_gate
from snnref.surrogate import sigmoid_grad, sigmoid_primitive

torch.set_num_threads(1)  # tiny tensors: threading only adds overhead
torch.manual_seed(0)
DT = torch.float64

# %% [markdown]
# **Claim 1 (the gates keep the network full-spike).** The four connections of the spike stream are the Boolean
# functions AND $A \wedge S$, IAND $\neg A \wedge S$, OR $A \vee S$, XOR $A \oplus S$ written as polynomials, so
# binary inputs give binary outputs; the sum $A + S$ of a SEW-ADD block would give the non-spike value 2.
# Oracle: Python's Boolean operators on the four input pairs.

# %%  catches: a gate with a wrong polynomial (e.g. OR without the -AS term), IAND negating the wrong input
truth = {"AND": lambda a, s: a and s, "IAND": lambda a, s: (not a) and s, "OR": lambda a, s: a or s,
         "XOR": lambda a, s: a != s}
pairs = list(itertools.product([0, 1], repeat=2))
a = torch.tensor([p[0] for p in pairs], dtype=DT)
s = torch.tensor([p[1] for p in pairs], dtype=DT)
for g in GATES:
    ref = torch.tensor([float(truth[g](bool(x), bool(y))) for x, y in pairs], dtype=DT)
    torch.testing.assert_close(spike_gate(a, s, g=g), ref, rtol=0, atol=0)
assert (a + s).max() == 2  # what the gates avoid
try:
    spike_gate(a, s, g="ADD")
    raise AssertionError("ADD accepted")  # catches: a non-spike connection slipping into the spike stream
except ValueError:
    pass

# %% [markdown]
# **Claim 2 (one block, both streams).** With an IF neuron (threshold $V_{th}$, hard reset to 0) ending the branch,
# $A_t = \mathrm{SN}(F(S_t))$, the block returns $S' = g(A, S)$ and $Z' = Z + A$. Oracle: the IF loop written here
# for a random linear branch, $V_{th} = 0.8$, and every gate; the accumulated map is integer-valued, equals the
# count of spikes $Z^0 + \sum_l A^l$ after a stack of blocks, and bounds the spike stream of OR blocks from above.

# %%  catches: soft reset, accumulation of the gated output instead of the branch spikes, gate arguments swapped
T, B, D, VTH = 6, 5, 12, 0.8
s0 = (torch.rand(T, B, D, dtype=DT) < 0.4).to(DT)
z0 = s0 * 3.0  # an accumulation map that already holds counts
W = torch.randn(D, D, dtype=DT) * 0.7
branch = lambda x: x @ W + 0.25  # noqa: E731
u, a_ref, margin = torch.zeros(B, D, dtype=DT), [], float("inf")
for t in range(T):
    u = u + branch(s0[t])
    margin = min(margin, (u - VTH).abs().min().item())
    spk = (u >= VTH).to(DT)
    u = u * (1 - spk)
    a_ref.append(spk)
a_ref = torch.stack(a_ref)
assert margin > 1e-6 and 0.1 < a_ref.mean() < 0.9  # not decided by rounding, and not all-or-nothing
for g in GATES:
    s1, z1 = dual_stream_block(s0, z0, branch, g=g, v_th=VTH)
    torch.testing.assert_close(z1, z0 + a_ref, rtol=0, atol=0)
    ref = torch.tensor([float(truth[g](bool(x), bool(y))) for x, y in zip(a_ref.flatten().tolist(), s0.flatten().tolist())],
                       dtype=DT).view_as(s0)
    torch.testing.assert_close(s1, ref, rtol=0, atol=0)

# a stack: Z^L counts every spike of every branch; with OR, S^L <= Z^L (a spike on the spike stream is counted)
net = DualStreamNet(D, 4, 3, g="OR", v_th=VTH).to(DT)
with torch.no_grad():
    s, z, total = s0, s0, s0.clone()
    for br in net.branches:
        s, z = dual_stream_block(s, z, br, g="OR", v_th=VTH)
        a_l = z - (total if br is net.branches[0] else prev_z)  # noqa: F821
        prev_z = z
        assert set(a_l.unique().tolist()) <= {0.0, 1.0}  # each block adds spikes, nothing else
        total = z
    assert torch.equal(z, z.round()) and (s <= z).all() and z.max() > 1  # integer counts above the spike stream
    assert set(s.unique().tolist()) <= {0.0, 1.0}

# %% [markdown]
# **Claim 3 (why the pathway helps the backward pass).** Through the gate, the gradient reaching the branch spikes is
# $\partial S'/\partial A$ = $S$ (AND), $-S$ (IAND), $1 - S$ (OR), $1 - 2S$ (XOR): it vanishes or flips sign wherever
# the identity spike takes the wrong value. Through the accumulation, $\partial Z'/\partial A = 1$ everywhere. Oracle:
# autograd against these partial derivatives, then the gradient on the branch's pre-activation at $T = 1$ equals the
# upstream gradient times the sigmoid surrogate $g'(u - V_{th})$, for the accumulation stream alone.

# %%  catches: gradient blocked on the accumulation (.detach()), wrong gate polynomial, surrogate not used
partials = {"AND": lambda s: s, "IAND": lambda s: -s, "OR": lambda s: 1 - s, "XOR": lambda s: 1 - 2 * s}
s_bin = (torch.rand(40, dtype=DT) < 0.5).to(DT)
for g in GATES:
    a_bin = (torch.rand(40, dtype=DT) < 0.5).to(DT).requires_grad_(True)
    out = spike_gate(a_bin, s_bin, g=g)
    assert out.requires_grad  # the gate stays on the autograd graph
    (gs,) = torch.autograd.grad(out.sum(), a_bin)
    torch.testing.assert_close(gs, partials[g](s_bin), rtol=0, atol=0)
x1 = torch.randn(1, 3, D, dtype=DT)
pre = (x1 @ W * 0.6).requires_grad_(True)
up = torch.randn(1, 3, D, dtype=DT)
for g in GATES:
    s_out, z_out = dual_stream_block((torch.rand(1, 3, D) < 0.5).to(DT), torch.zeros(1, 3, D, dtype=DT),
                                     lambda _: pre, g=g, v_th=VTH)
    (gz,) = torch.autograd.grad((z_out * up).sum(), pre)
    torch.testing.assert_close(gz, up * sigmoid_grad(pre.detach() - VTH), rtol=1e-12, atol=0)
# the surrogate used as the reference is checked in turn: it is the derivative of its primitive (autograd), any slope
xg = torch.linspace(-2, 2, 41, dtype=DT, requires_grad=True)
for a in (1.0, 4.0, 7.5):
    (d_sig,) = torch.autograd.grad(sigmoid_primitive(xg, a).sum(), xg)
    torch.testing.assert_close(sigmoid_grad(xg.detach(), a), d_sig, rtol=1e-12, atol=1e-15)

# %% [markdown]
# **Claim 4 (training and test networks).** The dual-stream loss is $\mathrm{CE}(f(\bar S^L), y) + \mathrm{CE}(f(\bar Z^L), y)$
# with one classifier $f$ on the time-averaged maps; the spike stream never reads the accumulation, so removing the
# AAP after training leaves the full-spike network's logits unchanged, and only its loss term trains it alone.

# %%  catches: separate classifiers, a loss missing a stream, spike stream reading the accumulation
net = DualStreamNet(D, 3, 4, g="IAND", v_th=VTH).to(DT)
assert net.fc.weight.shape == (4, D) and len(net.branches) == 3 and net.branches[0].weight.shape == (D, D)
y = torch.randint(0, 4, (B,))
ls, la = net(s0)
with torch.no_grad():
    s, z = s0, s0
    for br in net.branches:
        s, z = dual_stream_block(s, z, br, g="IAND", v_th=VTH)
    torch.testing.assert_close(ls, s.mean(0) @ net.fc.weight.T + net.fc.bias, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(la, z.mean(0) @ net.fc.weight.T + net.fc.bias, rtol=1e-12, atol=1e-12)
    # detachable: the spike stream with the accumulation started from anything else is the same
    s2, z2 = s0, torch.full_like(s0, 7.0)
    for br in net.branches:
        s2, z2 = dual_stream_block(s2, z2, br, g="IAND", v_th=VTH)
    assert torch.equal(s2, s) and not torch.equal(z2, z)
ce = torch.nn.functional.cross_entropy
torch.testing.assert_close(dst_loss(ls, la, y), ce(ls, y) + ce(la, y), rtol=1e-12, atol=0)
assert abs(ce(ls, y).item() - ce(la, y).item()) > 1e-3  # the two terms differ: dropping one would show

for kw in ({"g": "ADD"}, {"n_blocks": 0}):
    try:
        DualStreamNet(D, **{"n_blocks": 2, **kw}, n_classes=3)
        raise AssertionError(f"{kw} accepted")  # catches: missing validation
    except ValueError as e:
        assert next(iter(kw)) in str(e)
DualStreamNet(D, 1, 3)  # one block is allowed

# %% [markdown]
# **Claim 5 (gradient reaching deep blocks, toy scale).** In a stack of 8 IAND blocks the full-spike stream alone
# passes little gradient to the first block; the dual-stream loss adds the accumulation's direct paths, so the first
# block receives a larger gradient (here, random network, fixed seed).

# %%  catches: the accumulation path cut from the graph
torch.manual_seed(3)
deep = DualStreamNet(D, 8, 4, g="IAND", v_th=VTH).to(DT)
with torch.no_grad():
    for br in deep.branches:
        br.weight.mul_(1.6)
        br.bias.fill_(0.3)
inp = (torch.rand(T, 16, D, dtype=DT) < 0.4).to(DT)
yy = torch.randint(0, 4, (16,))
norms = {}
for name in ("FSNN only", "dual stream"):
    deep.zero_grad()
    ls, la = deep(inp)
    loss = ce(ls, yy) if name == "FSNN only" else dst_loss(ls, la, yy)
    assert loss.requires_grad  # the loss stays on the autograd graph
    loss.backward()
    norms[name] = [br.weight.grad.norm().item() for br in deep.branches]
print({k: [round(v, 4) for v in vals] for k, vals in norms.items()})
assert norms["dual stream"][0] > 2 * norms["FSNN only"][0]

# %%
fig, ax = plt.subplots(1, 2, figsize=(10, 3.4))
ax[0].semilogy(range(1, 9), norms["FSNN only"], "o-", label="CE on spike stream only")
ax[0].semilogy(range(1, 9), norms["dual stream"], "s-", label="dual-stream loss (with AAP)")
ax[0].set_xlabel("block"); ax[0].set_ylabel("|dL/dW|"); ax[0].legend()
ax[1].imshow(z[:, 0].numpy(), aspect="auto", cmap="viridis"); ax[1].set_title("accumulated map $Z^L$ (t x unit)")
ax[1].set_xlabel("unit"); ax[1].set_ylabel("t")
plt.tight_layout(); plt.show()

# %% [markdown]
# Verified: the four spike gates are the Boolean functions (binary in, binary out), each block matches an IF loop on
# both streams, the accumulation counts every branch spike and passes an undamped gradient that the gates do not, the
# loss supervises both streams through one classifier, and the spike stream is independent of the pathway, so the
# pathway can be removed for a spike-only test network.
