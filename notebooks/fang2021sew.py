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
# # SEW ResNet: spike-element-wise residual blocks (Fang et al., NeurIPS 2021)
# Put the spiking neuron *before* the residual addition and combine spikes element-wise: the block can then be the
# identity for any neuron model, and its gradient neither vanishes nor explodes with depth.

# %%
import math
from functools import partial

import matplotlib.pyplot as plt
import torch
from torch import nn

from snnref.models.sew_resnet import SEWBlock, sew_block, sew_connect, spiking_resnet_block
from snnref.neuron import if_step, lif_step
from snnref.surrogate import atan_spike

torch.manual_seed(0)
dt = torch.float64


def atan_g(x, alpha):  # the ATan surrogate's derivative, written out: (alpha/2) / (1 + (pi/2 alpha x)^2)
    return (alpha / 2) / (1 + (math.pi / 2 * alpha * x) ** 2)


def loop_neuron(x, v_th, tau=None, v_reset=0.0):
    """IF (tau=None) or LIF neuron with hard reset, from the definition, over [T, ...]."""
    v, out = torch.zeros_like(x[0]), []  # the neurons start at 0
    for t in range(len(x)):
        h = v + x[t] if tau is None else v + (x[t] - (v - v_reset)) / tau
        fired = (h >= v_th).to(x.dtype)
        v = h * (1 - fired) + v_reset * fired
        out.append(fired)
    return torch.stack(out)


# %% [markdown]
# **Claim 1 (the connecting functions).** On spikes $A, S \in \{0, 1\}$: ADD is $A + S$ (values 0, 1, 2), AND is the
# logical $A \wedge S$, IAND is $(\neg A) \wedge S$. Checked against the truth tables written with Python booleans.

# %%  catches: IAND written as A(1 - S), AND as OR, an unknown g silently accepted
for a_bit in (0, 1):
    for s_bit in (0, 1):
        a, s = torch.tensor(float(a_bit), dtype=dt), torch.tensor(float(s_bit), dtype=dt)
        assert sew_connect(a, s, g="ADD").item() == a_bit + s_bit
        assert sew_connect(a, s, g="AND").item() == float(bool(a_bit) and bool(s_bit))
        assert sew_connect(a, s, g="IAND").item() == float((not a_bit) and bool(s_bit))
for bad in (lambda: sew_connect(a, s, g="OR"), lambda: SEWBlock(nn.Identity(), g="XOR"),
            lambda: SEWBlock(nn.Identity(), v_th=0.0)):
    try:
        bad()
        raise AssertionError("invalid argument must be rejected")
    except ValueError:
        pass  # catches: missing validation

# %% [markdown]
# **Claim 2 (identity mapping).** With the branch's last layer at zero (weight and bias 0), the branch neuron never
# fires, $A \equiv 0$, and ADD and IAND blocks output their input spikes unchanged, $O = S$; with the bias at 1 the IF
# neuron fires every step, $A \equiv 1$, and the AND block is the identity. A stack of 6 blocks is the identity too. The
# Spiking ResNet block $\mathrm{SN}(F(S) + S)$ is the identity only if the neuron fires for input 1 and not for 0:
# true for IF with $0 < V_{th} \le 1$, false for IF with $V_{th} = 1.4$ or for a LIF with $\tau = 2.5$ (the input is
# divided by $\tau$), so identity depends on the neuron for Spiking ResNet but not for SEW.

# %%  catches: neuron after the addition in SEW, wrong connecting function, branch ignored
T, B, N = 9, 4, 6
s_in = (torch.rand(T, B, N) < 0.45).to(dt)  # random spike trains
assert 0 < s_in.mean().item() < 1


def linear_branch(weight: float, bias: float) -> nn.Module:
    lin = nn.Linear(N, N).to(dt)
    nn.init.constant_(lin.weight, weight)
    nn.init.constant_(lin.bias, bias)
    return lin


for g, bias in (("ADD", 0.0), ("IAND", 0.0), ("AND", 1.0)):
    blocks = nn.Sequential(*[SEWBlock(linear_branch(0.0, bias), g=g, v_th=0.8) for _ in range(6)])
    torch.testing.assert_close(blocks(s_in), s_in, rtol=0, atol=0)  # exact identity through 6 blocks
# a constant branch current 0.9 >= V_th = 0.8 makes the IF fire every step: ADD outputs S + 1 (at V_th = 1 it would not)
torch.testing.assert_close(SEWBlock(linear_branch(0.0, 0.9), g="ADD", v_th=0.8)(s_in), s_in + 1, rtol=0, atol=0)
# a non-zero branch does change the output (the block is not trivially the identity)
assert not torch.equal(sew_block(s_in, linear_branch(0.4, 0.3), g="ADD", v_th=0.8), s_in)

zero = linear_branch(0.0, 0.0)
torch.testing.assert_close(spiking_resnet_block(s_in, zero, v_th=0.7), s_in, rtol=0, atol=0)  # IF, V_th <= 1: identity
assert not torch.equal(spiking_resnet_block(s_in, zero, v_th=1.4), s_in)  # IF, V_th > 1: not the identity
assert not torch.equal(spiking_resnet_block(s_in, zero, step=lif_step, tau=2.5, v_th=1.0), s_in)  # LIF: not either
torch.testing.assert_close(sew_block(s_in, zero, g="ADD", v_th=1.4), s_in, rtol=0, atol=0)  # SEW: any threshold

# %% [markdown]
# **Claim 3 (the blocks with a working branch).** For a non-zero branch $F$, over $T = 9$ steps, the SEW block equals
# $g(\mathrm{IF}(F(S)), S)$ and the Spiking ResNet block equals $\mathrm{IF}(F(S) + S)$ (also with a LIF, $\tau = 2.5$,
# reset to $0.2$), with the neurons run as loops from their definition (charge, fire at $H \ge V_{th}$, hard reset).

# %%  catches: a neuron that forgets its membrane, the shortcut dropped from Spiking ResNet, the wrong reset value
lin_f = linear_branch(0.0, 0.0)
with torch.no_grad():
    lin_f.weight.copy_(torch.randn(N, N, dtype=dt) * 0.4)
    lin_f.bias.copy_(torch.rand(N, dtype=dt) * 0.3)
f_s = lin_f(s_in).detach()
a_ref = loop_neuron(f_s, 0.8)
assert 0.1 < a_ref.mean() < 0.9  # the branch neuron fires sometimes
assert not torch.equal(a_ref, (f_s >= 0.8).to(dt))  # and its membrane memory matters (not a per-step threshold)
for g in ("ADD", "AND", "IAND"):
    torch.testing.assert_close(sew_block(s_in, lin_f, g=g, v_th=0.8), sew_connect(a_ref, s_in, g=g), rtol=0, atol=0)
    torch.testing.assert_close(SEWBlock(lin_f, g=g, v_th=0.8)(s_in), sew_connect(a_ref, s_in, g=g), rtol=0, atol=0)
torch.testing.assert_close(spiking_resnet_block(s_in, lin_f, v_th=1.3), loop_neuron(f_s + s_in, 1.3), rtol=0, atol=0)
lif_out = spiking_resnet_block(s_in, lin_f, step=lif_step, tau=2.5, v_th=0.6, v_reset=0.2)
torch.testing.assert_close(lif_out, loop_neuron(f_s + s_in, 0.6, tau=2.5, v_reset=0.2), rtol=0, atol=0)
assert 0.1 < lif_out.mean() < 0.9

# %% [markdown]
# **Claim 4 (gradients through depth).** For $k$ identity blocks (one time step), SEW ADD gives
# $\partial O^k / \partial S^0 = 1$ exactly, while Spiking ResNet gives
# $\prod_{i} \Theta'(S - V_{th}) = g'(S - V_{th})^k$, which vanishes when $g'(1 - V_{th}) < 1$ and explodes when it is
# $> 1$ (ATan surrogate: $g'(x) = \frac{\alpha/2}{1 + (\frac{\pi}{2}\alpha x)^2}$). With a non-zero branch, the SEW ADD
# gradient is $1 + W^\top g'(WS + b - V_{th})$, checked against the analytic form; AND gives
# $A + W^\top(S \odot g')$ and IAND $(1 - A) - W^\top(S \odot g')$ (product rule through both operands).

# %%  catches: detached shortcut, surrogate not used in the branch neuron, wrong alpha passed
k, v_th = 8, 0.9
s0 = torch.tensor([[1.0, 0.0, 1.0]], dtype=dt)  # [B=1, N=3], one time step
zero3 = nn.Linear(3, 3).to(dt)
nn.init.zeros_(zero3.weight), nn.init.zeros_(zero3.bias)
for alpha in (1.6, 3.0):
    fn = partial(atan_spike, alpha=alpha)
    x = s0.clone().requires_grad_(True)
    h = x[None]
    for _ in range(k):
        h = sew_block(h, zero3, g="ADD", v_th=v_th, spike_fn=fn)
    assert h.requires_grad  # catches: a detached neuron, connection or block output
    h.sum().backward()
    torch.testing.assert_close(x.grad, torch.ones_like(s0), rtol=0, atol=0)  # SEW: exactly 1 at any depth

    x = s0.clone().requires_grad_(True)
    h = x[None]
    for _ in range(k):
        h = spiking_resnet_block(h, zero3, v_th=v_th, spike_fn=fn)
    assert h.requires_grad  # catches: a detached Spiking ResNet block
    h.sum().backward()
    expected = atan_g(s0 - v_th, alpha) ** k  # g'(S - V_th)^k
    g1 = (alpha / 2) / (1 + (math.pi / 2 * alpha * 0.1) ** 2)  # closed form at S = 1
    assert math.isclose(expected[0, 0].item(), g1**k, rel_tol=1e-12)
    torch.testing.assert_close(x.grad, expected, rtol=1e-12, atol=0)
    assert (x.grad[0, 0].item() < 0.5) if alpha == 1.6 else (x.grad[0, 0].item() > 2.0)  # vanishes / explodes

# a LIF Spiking ResNet block (tau = 2.5, reset to 0.2, which is also its rest): one step from V = 0 charges
# H = (S + 0.2) / 2.5, so dO/dS = g'(H - V_th) / 2.5: the leak scales every block's surrogate factor by 1 / tau
x = s0.clone().requires_grad_(True)
o = spiking_resnet_block(x[None], zero3, step=lif_step, tau=2.5, v_th=0.6, v_reset=0.2,
                         spike_fn=partial(atan_spike, alpha=3.0))
assert o.requires_grad  # catches: a detached LIF charge
o.sum().backward()
torch.testing.assert_close(x.grad, atan_g((s0 + 0.2) / 2.5 - 0.6, 3.0) / 2.5, rtol=1e-12, atol=0)

lin = linear_branch(0.0, 0.0)
with torch.no_grad():
    lin.weight.copy_(torch.randn(N, N, dtype=dt) * 0.5)
    lin.bias.copy_(torch.rand(N, dtype=dt))
pre = (s_in[0] @ lin.weight.T + lin.bias).detach() - 0.8
assert pre.abs().min() > 0.02  # no pre-activation at the threshold
a0 = (pre >= 0).to(dt)
gp = atan_g(pre, 1.7)
Wd = lin.weight.detach()
for g, analytic in (("ADD", 1 + gp @ Wd), ("AND", a0 + (s_in[0] * gp) @ Wd), ("IAND", (1 - a0) - (s_in[0] * gp) @ Wd)):
    x = s_in[:1].clone().requires_grad_(True)  # one time step [1, B, N]
    out = SEWBlock(lin, g=g, v_th=0.8, spike_fn=partial(atan_spike, alpha=1.7))(x)
    assert out.requires_grad  # catches: .detach() on the module's or the connection's output
    out.sum().backward()
    torch.testing.assert_close(x.grad[0], analytic, rtol=1e-12, atol=1e-12)  # catches: a connection cut from the graph

# %%
depths = range(1, 21)
plt.figure(figsize=(5.5, 3.5))
plt.semilogy(depths, [1.0] * 20, "k-", label="SEW ADD (any $\\alpha$)")
for alpha, style in ((1.6, "--"), (3.0, ":")):
    g1 = (alpha / 2) / (1 + (math.pi / 2 * alpha * (1 - v_th)) ** 2)
    plt.semilogy(depths, [g1**d for d in depths], style, label=f"Spiking ResNet, ATan $\\alpha$={alpha}")
plt.xlabel("number of identity blocks $k$"); plt.ylabel("$\\partial O^k / \\partial S^0$ at $S=1$")
plt.legend(); plt.tight_layout()
plt.show()

# %% [markdown]
# Verified: the three connecting functions against their truth tables; exact identity mapping of ADD, IAND (branch
# at zero) and AND (branch neuron always firing) through six blocks, for any threshold, while the Spiking ResNet block
# is the identity only for IF with $V_{th} \le 1$; and a depth-independent unit gradient for SEW ADD against the
# vanishing or exploding $g'(1 - V_{th})^k$ of Spiking ResNet, plus the analytic gradients of non-trivial SEW blocks for
# all three connections; both blocks equal loop neurons from the definition for a working branch.
