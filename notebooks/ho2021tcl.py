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
# # TCL: trainable clipping layers (Ho & Chang, DAC 2021)
# Learn each layer's clipping value $\lambda$ with an L2 penalty, then convert with $\lambda$ as the threshold: rare large
# activations are clipped instead of dictating the scale, so the SNN is accurate after fewer steps.

# %%
import math

import matplotlib.pyplot as plt
import torch
from torch import nn

from snnref.conversion.tcl import TrainableClip, clip_activation, tcl_penalty, tcl_thresholds
from snnref.conversion.toolkit import constant_input, convert, simulate_layers
from snnref.surrogate import heaviside

torch.manual_seed(15)
dtype = torch.float64

# %% [markdown]
# **Claim 1.** The clipping layer is $y = \min(\max(x,0),\lambda)$ with the gradients that make $\lambda$ trainable:
# $\partial y/\partial x = [0 < x < \lambda]$ and $\partial y/\partial\lambda = [x > \lambda]$ (autograd against these indicators).

# %%
layer = TrainableClip(lam0=1.3, dtype=dtype)
x = (torch.linspace(-1, 3, 57, dtype=dtype) + 0.013).requires_grad_(True)   # off the kinks
y = layer(x)
assert y.requires_grad and y.grad_fn is not None  # catches a detached clip: lambda could not be trained
torch.testing.assert_close(y.detach(), torch.tensor([min(max(v, 0.0), 1.3) for v in x.tolist()], dtype=dtype),
                           rtol=1e-12, atol=1e-12)              # catches: no upper clip, clip at 1
y.sum().backward()
torch.testing.assert_close(x.grad, ((x > 0) & (x < 1.3)).to(dtype).detach(), rtol=0, atol=0)
assert layer.lam.grad.item() == float((x > 1.3).sum().item())  # catches: lambda detached or entering with the wrong sign
torch.testing.assert_close(clip_activation(torch.tensor([2.0, -1.0, 0.5], dtype=dtype), torch.tensor(0.8, dtype=dtype)),
                           torch.tensor([0.8, 0.0, 0.5], dtype=dtype))
for bad in (0.0, -1.0):
    try:
        TrainableClip(lam0=bad)
    except ValueError:
        pass
    else:
        raise AssertionError(f"lam0={bad} accepted")

# %% [markdown]
# **Claim 2.** The penalty is $c\sum_l(\lambda^l)^2$ with gradient $2c\lambda^l$, and `tcl_thresholds` returns the $\lambda^l$ in
# layer order.

# %%
model = nn.Sequential(nn.Linear(3, 4), TrainableClip(lam0=0.7, dtype=dtype), nn.Linear(4, 4), TrainableClip(lam0=2.5, dtype=dtype)).double()
c = 3e-3
pen = tcl_penalty(model, c=c)
assert math.isclose(pen.item(), c * (0.7**2 + 2.5**2), rel_tol=1e-12)   # catches: sum of |lambda|, missing c
assert pen.requires_grad  # catches a detached penalty: it would not pull lambda down
pen.backward()
assert math.isclose(model[1].lam.grad.item(), 2 * c * 0.7, rel_tol=1e-12)
assert math.isclose(model[3].lam.grad.item(), 2 * c * 2.5, rel_tol=1e-12)
assert tcl_thresholds(model) == [0.7, 2.5]                                # catches: wrong order or missing layers

# %% [markdown]
# **Claim 3.** At toy scale, the accuracy-latency trade-off the paper targets: train only the $\lambda$'s of a random
# 10-32-32-5 network (150 Adam steps, MSE to the unclipped ANN plus $10^{-3}\sum\lambda^2$). The learned $\lambda$'s fall well below the
# maximum activations; converted with them as thresholds, the SNN is closer to the ANN at $T=8$ than with max-activation
# thresholds, while at $T=128$ the max thresholds win (the clipping error remains).

# %%
net = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 5)).double()
xb = torch.randn(256, 10, dtype=dtype)
ths = [torch.relu(net[:1](xb)).max().item(), torch.relu(net[:3](xb)).max().item()]  # max activation per layer
target = net(xb).detach()
for p in net.parameters():
    p.requires_grad_(False)
clipped = nn.Sequential(net[0], TrainableClip(lam0=ths[0], dtype=dtype), net[2], TrainableClip(lam0=ths[1], dtype=dtype), net[4])
opt = torch.optim.Adam([m.lam for m in clipped if isinstance(m, TrainableClip)], lr=0.04)
for _ in range(150):
    opt.zero_grad()
    loss = (clipped(xb) - target).pow(2).mean() + tcl_penalty(clipped, c=1e-3)
    loss.backward()
    opt.step()
lam = tcl_thresholds(clipped)
assert all(l < 0.6 * t for l, t in zip(lam, ths)), (lam, ths)
for bad in (lam[:1], lam + [1.0], lam * 2):  # the converter takes exactly one threshold per ReLU
    try:
        convert(net, bad)
    except ValueError:
        continue
    raise AssertionError("wrong number of thresholds accepted")  # catches thresholds indexed from 1 or every other one
snn_tcl = convert(net, lam)
assert [m.v_th for m in snn_tcl[1::2]] == lam and snn_tcl[1].params.get("spike_fn") is heaviside  # lambda^l as threshold, exact step
edge = snn_tcl[1](torch.tensor([[[lam[0], lam[0] - 1e-9]], [[0.0, 0.0]]], dtype=dtype))  # [T=2, B=1, 2]: exactly lambda, just below
assert edge.tolist() == [[[lam[0], 0.0]], [[0.0, 0.0]]]  # catches '>' instead of '>=': a potential of exactly lambda fires


def snn_err(snn, t):
    out = simulate_layers(snn, constant_input(xb, t))[-1]
    assert out.shape == (t, 256, 5)  # the read-out, not a hidden layer
    return (out.mean(0) - target).abs().mean().item()


Ts = [8, 32, 128]
e_max = [snn_err(convert(net, ths), t) for t in Ts]
e_tcl = [snn_err(snn_tcl, t) for t in Ts]
assert e_tcl[0] < 0.8 * e_max[0], (e_tcl[0], e_max[0])   # short simulations: the learned clip wins
assert e_max[-1] < e_tcl[-1]                              # long simulations: clipping error dominates

# %%
fig, ax = plt.subplots(1, 2, figsize=(10, 3.2))
xx = torch.linspace(-1, 3, 200, dtype=dtype)
ax[0].plot(xx, torch.relu(xx), "k:", label="ReLU")
ax[0].plot(xx, clip_activation(xx, torch.tensor(1.3, dtype=dtype)), label=r"clip, $\lambda=1.3$")
ax[0].set_xlabel("x"); ax[0].legend()
ax[1].loglog(Ts, e_max, "s-", label="max-activation thresholds")
ax[1].loglog(Ts, e_tcl, "o-", label="trained $\\lambda$ thresholds")
ax[1].set_xlabel("T"); ax[1].set_ylabel("mean |SNN - ANN|"); ax[1].legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# Verified: the clipping layer's value and both gradients, the L2 penalty and its gradient, threshold extraction, and
# the converted layers' thresholds ($\lambda^l$, exact step, $v \ge \lambda$ fires, one per ReLU), and
# on a toy network the trade-off TCL exploits: learned clipping values make the short simulation more accurate.
