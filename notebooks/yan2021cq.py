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
# # Clamped and quantized training (Yan et al., AAAI 2021)
# Train the ANN with activations clamped to $[0, 1]$ and rounded to multiples of $1/F$, the values a unit-threshold
# IF neuron can emit, and the weights transfer to the SNN with almost no loss.

# %%
import math

import matplotlib.pyplot as plt
import torch
from torch import nn

from snnref.conversion.cq import CQ, convert_cq, cq_activation
from snnref.conversion.toolkit import SpikingNeuron, constant_input, simulate, snn_output
from snnref.surrogate import heaviside

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)


def official_if_count(z: float, T: int) -> int:
    """Spikes of the official CUDA kernel's neuron (threshold 1, V0 = 0, fire on u >= 1, subtract 1): the oracle."""
    u, n = 0.0, 0
    for _ in range(T):
        u += z
        if u >= 1.0:
            u -= 1.0
            n += 1
    return n


# %% [markdown]
# **Claim 1 (the CQ activation).** $\hat a(z) = \frac{1}{F}\,\mathrm{round}(F\,\mathrm{clamp}(z, 0, 1))$ takes the
# $F + 1$ levels $0, \frac{1}{F}, \dots, 1$; with the rounding passed straight through, its gradient is
# $\partial\hat a/\partial z = \mathbb{1}[0 < z < 1]$ (the clamp's gradient).

# %%
g = torch.Generator().manual_seed(0)
F = 7
z = torch.rand(300, generator=g) * 1.6 - 0.3  # below 0, inside [0, 1], above 1
u = z.clamp(0, 1) * F
assert ((u - u.floor() - 0.5).abs()[(z > 0) & (z < 1)]).min() > 1e-6  # no input on a rounding edge
closed = torch.tensor([min(max(math.floor(min(max(v, 0.0), 1.0) * F + 0.5), 0), F) / F for v in z.tolist()])
zr = z.clone().requires_grad_(True)
out = cq_activation(zr, factor=F)
torch.testing.assert_close(out.detach(), closed, rtol=0, atol=1e-12)  # catches floor for round, clamp to [0, F]
assert out.detach().unique().numel() == F + 1  # F + 1 levels, 0 and 1 included
assert out.requires_grad  # catches the activation's output cut from the graph
out.sum().backward()
inside = ((z > 0) & (z < 1)).double()
torch.testing.assert_close(zr.grad, inside, rtol=0, atol=0)  # catches plain torch.round (zero gradient), detach
zm = z.clone().requires_grad_(True)
out_m = CQ(factor=F)(zm)
torch.testing.assert_close(out_m.detach(), closed, rtol=0, atol=1e-12)  # the module uses its own factor
assert out_m.requires_grad  # catches the module's output cut from the graph (its layers would not train)
out_m.sum().backward()
torch.testing.assert_close(zm.grad, inside, rtol=0, atol=0)
for bad in (lambda: CQ(factor=0), lambda: CQ(factor=2.5), lambda: CQ(factor=-3)):
    try:
        bad()
    except ValueError:
        continue
    raise AssertionError("invalid factor accepted")

# %% [markdown]
# **Claim 2 (the transferred neuron).** The converted layer is the official kernel's neuron: threshold 1, reset by
# subtraction, $V_0 = 0$. Under a constant input $z$ it fires $\lfloor T\,\mathrm{clamp}(z, 0, 1)\rfloor$ times in
# $T$ steps for $z \le 1$ (every step for $z \ge 1$). At $T = F$ its rate therefore differs from the CQ activation
# by $0$ or exactly $-1/T$ (rounding vs flooring), the gap being $-1/T$ where the fractional part of $Fz$ is at
# least $1/2$; starting the membrane at $V_0 = 1/2$ removes the gap entirely.

# %%
net = nn.Sequential(nn.Identity(), CQ(factor=F))
snn = convert_cq(net)
zs = z[z <= 1]
# the converted layers fire with the plain step (no surrogate: conversion has no backward pass)
assert all(m.params.get("spike_fn") is heaviside for m in snn if isinstance(m, SpikingNeuron))
one = simulate(snn, constant_input(zs[:1], F))
assert one.shape == (F, 1)  # catches time and batch axes merged wrongly (visible at batch size 1)
edge = simulate(snn, constant_input(torch.tensor([0.5, 0.25]), 4))  # the membrane reaches 1 exactly
torch.testing.assert_close(edge, torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0], [1.0, 1.0]]), rtol=0, atol=0)  # '>='
for T in (F, 3 * F + 2):
    rate = simulate(snn, constant_input(zs, T)).mean(0)
    loop = torch.tensor([official_if_count(v, T) / T for v in zs.tolist()])
    torch.testing.assert_close(rate, loop, rtol=0, atol=1e-12)  # catches hard reset, V0 != 0, threshold != 1
    torch.testing.assert_close(rate, (zs.clamp(0, 1) * T).floor() / T, rtol=0, atol=1e-12)
gap = simulate(snn, constant_input(zs, F)).mean(0) - cq_activation(zs, factor=F)
frac = zs.clamp(0, 1) * F - (zs.clamp(0, 1) * F).floor()
torch.testing.assert_close(gap, torch.where(frac >= 0.5, -1.0 / F, 0.0), rtol=0, atol=1e-12)
assert (gap != 0).any() and (gap == 0).any()  # both cases occur
shifted = simulate(convert_cq(net, v0_frac=0.5), constant_input(zs, F)).mean(0)
torch.testing.assert_close(shifted, cq_activation(zs, factor=F), rtol=0, atol=1e-12)  # V0 = 1/2 turns floor into round

# %% [markdown]
# **Claim 3 (near-lossless transfer, toy scale; the paper's CIFAR-10 VGG results in Table 2).** A small network
# trained with CQ activations ($F = 8$, bias-free as in the official models) and converted with threshold 1 keeps
# the ANN's accuracy once $T$ is a few multiples of $F$, and its output approaches the ANN's as $T$ grows.

# %%
torch.manual_seed(0)
centers = torch.randn(4, 6, generator=g) * 1.2
labels = torch.randint(0, 4, (400,), generator=g)
data = (centers[labels] + 0.8 * torch.randn(400, 6, generator=g)) * 0.5
model = nn.Sequential(nn.Linear(6, 32, bias=False), CQ(factor=8), nn.Linear(32, 32, bias=False), CQ(factor=8),
                      nn.Linear(32, 4, bias=False))
opt = torch.optim.Adam(model.parameters(), lr=0.02)
for _ in range(150):
    opt.zero_grad()
    nn.functional.cross_entropy(model(data), labels).backward()
    opt.step()
with torch.no_grad():
    ann_out = model(data)
ann_acc = (ann_out.argmax(1) == labels).double().mean().item()
snn_net = convert_cq(model)
Ts = [8, 16, 32, 64, 128, 256]
accs, errs = [], []
for T in Ts:
    o = snn_output(snn_net, data, T=T)
    assert o.shape == ann_out.shape  # catches the read-out taken from the wrong layer or averaged over the batch
    accs.append((o.argmax(1) == labels).double().mean().item())
    errs.append((o - ann_out).abs().mean().item())
print(f"ANN accuracy {ann_acc:.3f}; SNN accuracy by T: {dict(zip(Ts, accs))}")
assert ann_acc > 0.85  # the toy task is learned through the straight-through gradient
assert accs[Ts.index(64)] >= ann_acc - 0.02  # near-lossless at T = 8F
assert errs[-1] < 0.5 * errs[0]  # the approximation error shrinks with T

fig, ax = plt.subplots(1, 2, figsize=(9, 3.2))
zz = torch.linspace(-0.2, 1.2, 701)
ax[0].plot(zz, cq_activation(zz, factor=F), label=f"CQ, F={F}")
ax[0].plot(zz, simulate(snn, constant_input(zz, F)).mean(0), "--", label=f"IF rate, T={F}, $V_0=0$")
ax[0].set_xlabel("z"); ax[0].legend()
ax[1].semilogx(Ts, errs, "o-", base=2)
ax[1].set_xlabel("T"); ax[1].set_ylabel("mean |SNN - ANN| output")
plt.tight_layout()
plt.show()

# %% [markdown]
# Verified: the CQ activation's levels and straight-through gradient against closed forms; the converted neuron
# against a loop written from the official CUDA kernel, its exact floor-vs-round gap at $T = F$ and its removal by
# $V_0 = 1/2$; and near-lossless transfer of a CQ-trained toy network.
