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
# # Differentiation on Spike Representation (Meng et al., CVPR 2022)
# Spikes forward; gradients through the clipped-average map that the IF neuron's firing rate approximates.

# %%
import math

import matplotlib.pyplot as plt
import torch

from snnref.neuron import if_charge, reset
from snnref.surrogate import heaviside
from snnref.training.dsr import dsr_if

torch.manual_seed(0)
dtype = torch.float64
v_th = 0.8  # not 1: the spike height and the clamp bound must both follow it

# %% [markdown]
# **Claim 1 (forward and the representation bound).** The forward pass is an IF neuron that fires when
# $V \ge \alpha V_{th}$ ($\alpha = \frac{1}{2}$), emits $V_{th}$ and subtracts it (brute-force loop below). For inputs in
# $[0, V_{th}]$ the potential stays in $[-V_{th}/2, V_{th}/2)$, so the rate $r$ obeys $|r - \bar x| \le V_{th}/(2T)$; for
# $x_t \ge V_{th}$ the neuron fires every step ($r = V_{th}$) and for $x_t \le 0$ never ($r = 0$).

# %%
errors = {}
for T in (2, 4, 8, 16, 32):
    x = v_th * torch.rand(T, 500, dtype=dtype)
    o = dsr_if(x, v_th=v_th)
    v = torch.zeros(500, dtype=dtype)
    for t in range(T):
        v = v + x[t]
        s = (v >= 0.5 * v_th).to(dtype) * v_th
        v = v - s
        assert torch.equal(o[t], s)  # catches: firing at V_th instead of alpha*V_th, unit spike height
    err = (o.mean(0) - x.mean(0)).abs().max().item()
    errors[T] = err
    assert err <= v_th / (2 * T) + 1e-12  # catches: hard reset (loses the residue), wrong spike height
assert errors[32] < errors[2]
x_hi = v_th + torch.rand(6, 50, dtype=dtype)
torch.testing.assert_close(dsr_if(x_hi, v_th=v_th).mean(0), torch.full((50,), v_th, dtype=dtype), rtol=1e-12, atol=0)
assert dsr_if(-torch.rand(6, 50, dtype=dtype), v_th=v_th).abs().max() == 0

# %% [markdown]
# **Claim 2 (the backward pass is the derivative of the representation).** For $L = \sum_t c_t \cdot o_t$, DSR's
# gradient equals autograd of the surrogate objective $\sum_t c_t \cdot \operatorname{clamp}(\bar x, 0, V_{th})$, written
# here with `torch.minimum`/`torch.maximum`, both for the inputs and for a trainable $V_{th}$.

# %%
def representation_grads(x_: torch.Tensor, c_: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The oracle: autograd of sum_t c_t * clamp(mean_t x_t, 0, V_th) in x and V_th."""
    xr = x_.detach().clone().requires_grad_(True)
    vr = torch.tensor(v_th, dtype=dtype, requires_grad=True)
    rep_ = torch.minimum(torch.maximum(xr.mean(0), torch.zeros(x_.shape[1], dtype=dtype)), vr)
    (c_ * rep_).sum().backward()
    return xr.grad, vr.grad


# first a square input (T = N = 5): averaging over the wrong axis keeps a valid shape here and shows as a wrong value
xs5 = (1.6 * torch.rand(5, 5, dtype=dtype) - 0.3).requires_grad_(True)
vt5 = torch.tensor(v_th, dtype=dtype, requires_grad=True)
c5 = torch.randn(5, 5, dtype=dtype)
out5 = dsr_if(xs5, v_th=vt5)
assert out5.requires_grad  # catches the spikes cut from the graph (DSR's backward would never run)
(c5 * out5).sum().backward()
gx5, gv5 = representation_grads(xs5, c5)
torch.testing.assert_close(xs5.grad, gx5, rtol=1e-12, atol=1e-14)  # catches: mean or gradient sum over the wrong axis
torch.testing.assert_close(vt5.grad, gv5, rtol=1e-12, atol=1e-14)

T, N = 6, 300
x = (1.6 * torch.rand(T, N, dtype=dtype) - 0.3).requires_grad_(True)  # some averages below 0, some above V_th
vt = torch.tensor(v_th, dtype=dtype, requires_grad=True)
c = torch.randn(T, N, dtype=dtype)
(c * dsr_if(x, v_th=vt)).sum().backward()
gx, gv = x.grad.clone(), vt.grad.clone()
x2 = x.detach().clone().requires_grad_(True)
vt2 = torch.tensor(v_th, dtype=dtype, requires_grad=True)
rep = torch.minimum(torch.maximum(x2.mean(0), torch.zeros(N, dtype=dtype)), vt2)
(c * rep).sum().backward()
xb = x.detach().mean(0)
assert ((xb < 0).any() and (xb > v_th).any() and ((xb > 0) & (xb < v_th)).any())  # all three regions are exercised
assert ((xb - v_th).abs() > 1e-9).all() and (xb.abs() > 1e-9).all()  # no ties at the kinks
torch.testing.assert_close(gx, x2.grad, rtol=1e-12, atol=1e-14)  # catches: per-step gradient not averaged, wrong mask
torch.testing.assert_close(gv, vt2.grad, rtol=1e-12, atol=1e-14)  # catches: V_th gradient over the wrong neurons
try:
    dsr_if(x.detach(), alpha=0.0)
except ValueError as e:
    assert "alpha" in str(e)  # catches: missing check
else:
    raise AssertionError("alpha=0 accepted")

# %% [markdown]
# **Boundaries and core pieces.** The clamp's gradient is taken as 1 on the closed interval $0 \le \bar x \le V_{th}$ (as in the
# official code) and the threshold gradient only where $\bar x > V_{th}$; the inputs below hit $\bar x = 0$ and $\bar x = V_{th}$
# exactly. The core pieces used by the forward pass: `if_charge` adds and stays differentiable, `reset` subtracts
# (soft) or sets $V_{reset}$ (hard), and `heaviside` fires at equality.

# %%
vb = 0.5
xb2 = torch.tensor([[0.5, 0.25, 0.3], [0.5, -0.25, 0.9], [0.5, 0.25, 0.6], [0.5, -0.25, 0.9]], dtype=dtype).requires_grad_(True)
vtb = torch.tensor(vb, dtype=dtype, requires_grad=True)
# column means: exactly V_th, exactly 0, and 0.675 > V_th
(dsr_if(xb2, v_th=vtb).sum(0) * torch.tensor([1.0, 2.0, 3.0], dtype=dtype)).sum().backward()
torch.testing.assert_close(xb2.grad, torch.tensor([[1.0, 2.0, 0.0]] * 4, dtype=dtype), rtol=0, atol=1e-15)  # catches: open interval at 0 or V_th
assert vtb.grad.item() == 3.0 * 4  # catches: V_th gradient counting the neuron with x_bar == V_th
hb = torch.tensor([0.2, 0.7, 1.1], dtype=dtype)
sb = heaviside(hb - 0.7)
assert sb.tolist() == [0.0, 1.0, 1.0]  # catches: > instead of >= in the step
torch.testing.assert_close(reset(hb, sb, v_th=0.7, v_reset=None), torch.tensor([0.2, 0.0, 0.4], dtype=dtype), rtol=0, atol=1e-15)
torch.testing.assert_close(reset(hb, sb, v_th=0.7, v_reset=-0.3), torch.tensor([0.2, -0.3, -0.3], dtype=dtype), rtol=0, atol=1e-15)  # catches: hard reset value
hg = hb.clone().requires_grad_(True)
soft_v, hard_v = reset(hg, sb, v_th=0.7, v_reset=None), reset(hg, sb, v_th=0.7, v_reset=-0.3)
assert soft_v.requires_grad and hard_v.requires_grad  # catches: a reset cut from the graph
(g_soft,) = torch.autograd.grad(soft_v.sum(), hg)
(g_hard,) = torch.autograd.grad(hard_v.sum(), hg)
assert g_soft.tolist() == [1.0, 1.0, 1.0] and g_hard.tolist() == [1.0, 0.0, 0.0]  # dV/dH = 1 (soft), 1 - S (hard)
vg = torch.tensor([0.1], dtype=dtype, requires_grad=True)
assert if_charge(torch.tensor([0.4], dtype=dtype), vg).requires_grad and math.isclose(if_charge(torch.tensor([0.4], dtype=dtype), vg).item(), 0.5)  # catches: charge detached or not a sum

# %%
Ts = sorted(errors)
fig, ax = plt.subplots(figsize=(6, 3))
ax.loglog(Ts, [errors[T] for T in Ts], "o-", label=r"max $|r - \bar x|$")
ax.loglog(Ts, [v_th / (2 * T) for T in Ts], "k--", label=r"$V_{th}/(2T)$")
ax.set_xlabel("T"); ax.legend()
plt.show()

# %% [markdown]
# Verified: the IF forward pass against a loop, the $V_{th}/(2T)$ bound between firing rate and average input, the
# saturated regimes, and that DSR's backward pass is exactly the gradient of the clipped-average representation
# (inputs and threshold).
