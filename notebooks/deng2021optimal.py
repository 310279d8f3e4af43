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
# # Threshold ReLU and the $V_{th}/2T$ shift (Deng & Gu, ICLR 2021)
# Train with a ReLU clipped at the threshold, convert with soft reset, and add $V_{th}/2T$ to every bias so the
# IF neuron rounds instead of flooring.

# %%
import math

import matplotlib.pyplot as plt
import torch
from torch import nn

from snnref.conversion.threshold_shift import shift_biases, threshold_relu
from snnref.conversion.toolkit import SpikingNeuron, constant_input, convert, simulate_layers
from snnref.surrogate import heaviside

torch.manual_seed(4)
dtype = torch.float64

# %% [markdown]
# **Claim 1.** The threshold ReLU is $h(x) = \min(\max(x, 0), V_{th})$ with derivative $1$ on $(0, V_{th})$ and $0$
# outside (the official code's backward).

# %%
v_th = 1.7
x = torch.linspace(-1, 3, 81, dtype=dtype).add(0.011).requires_grad_(True)   # off the kinks
y = threshold_relu(x, v_th=v_th)
assert y.requires_grad and y.grad_fn is not None  # catches a detached activation: nothing to train
torch.testing.assert_close(y.detach(), torch.tensor([min(max(v, 0.0), v_th) for v in x.tolist()], dtype=dtype),
                           rtol=1e-12, atol=1e-12)   # catches: missing upper clip, clip at 1 instead of V_th
y.sum().backward()
torch.testing.assert_close(x.grad, ((x > 0) & (x < v_th)).to(dtype).detach(), rtol=0, atol=0)

# %% [markdown]
# **Claim 2.** The shift turns flooring into rounding (Sec. 5, Fig. 1C). One soft-reset IF neuron, threshold $V_{th}$,
# constant input $z$ for $T$ steps: unshifted it outputs $\frac{V_{th}}{T}\mathrm{clip}(\lfloor Tz/V_{th}\rfloor,0,T)$; with
# $V_{th}/2T$ added to the bias, $\frac{V_{th}}{T}\mathrm{clip}(\lfloor Tz/V_{th} + \tfrac12\rfloor,0,T)$. So the error
# against $h(z)$ drops from $[0, V_{th}/T)$ (always negative, mean $-V_{th}/2T$) to $[-V_{th}/2T, V_{th}/2T]$ with
# mean 0, and the mean squared error over a uniform $z$ drops from $\frac{1}{3}(V_{th}/T)^2$ to $\frac{1}{12}(V_{th}/T)^2$.

# %%
T = 8
lin = nn.Linear(1, 1).double()
with torch.no_grad():
    lin.weight.fill_(1.0)
    lin.bias.fill_(0.0)
one = nn.Sequential(lin, nn.ReLU())
z = torch.linspace(0, v_th, 4001, dtype=dtype)[:-1].add(v_th / 8000).unsqueeze(1)  # [N, 1], midpoints: no ties
for bad in ([v_th] * 2, [v_th] * 3):  # the converter wants exactly one threshold per activation
    try:
        convert(one, bad)
    except ValueError:
        continue
    raise AssertionError("wrong number of thresholds accepted")  # catches thresholds indexed from 1 or every other one
assert convert(one, [v_th])[1].params.get("spike_fn") is heaviside  # catches a surrogate, not the exact step, in the forward pass
edge = simulate_layers(convert(one, [v_th]), constant_input(torch.tensor([[v_th], [v_th - 1e-9]], dtype=dtype), 2))[1]
assert edge.tolist() == [[[v_th], [0.0]], [[v_th], [v_th]]]  # catches '>' instead of '>=': an input of exactly V_th fires at once
outs = {}
for name, model in (("plain", one), ("shifted", shift_biases(one, [v_th], T=T))):
    snn = convert(model, [v_th])
    assert snn[1].v_reset is None  # soft reset
    out = simulate_layers(snn, constant_input(z, T))[-1]
    assert out.shape == (T, len(z), 1)
    outs[name] = out.mean(0)
q = v_th / T
torch.testing.assert_close(outs["plain"], q * torch.clamp(torch.floor(T * z / v_th), 0, T), rtol=0, atol=1e-12)
# catches: shift of V_th/T or V_th/(4T), shift with the wrong sign, shift added to the weight
torch.testing.assert_close(outs["shifted"], q * torch.clamp(torch.floor(T * z / v_th + 0.5), 0, T), rtol=0, atol=1e-12)
err_plain, err_shift = outs["plain"] - threshold_relu(z, v_th=v_th), outs["shifted"] - threshold_relu(z, v_th=v_th)
assert err_plain.max() <= 1e-12 and err_plain.min() > -q
assert err_shift.abs().max() <= q / 2 + 1e-12
assert math.isclose(err_plain.mean().item(), -q / 2, rel_tol=1e-3) and abs(err_shift.mean().item()) < 1e-3 * q
assert math.isclose(err_plain.pow(2).mean().item(), q**2 / 3, rel_tol=1e-3)
assert math.isclose(err_shift.pow(2).mean().item(), q**2 / 12, rel_tol=1e-3)

# %% [markdown]
# **Claim 3.** `shift_biases` adds exactly $V^l_{th}/(2T)$ to the layer feeding the $l$-th activation (creating a missing
# bias), and on a toy 3-layer network with threshold ReLUs the shifted SNN is closer to the ANN than the plain one
# at short simulation times.

# %%
net = nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 12, bias=False), nn.ReLU(), nn.Linear(12, 4)).double()
ths = [0.9, 0.6]
T = 5
for bad in ([0.9], [0.9, 0.6, 0.3]):  # one threshold per activation
    try:
        shift_biases(net, bad, T=T)
    except ValueError:
        continue
    raise AssertionError("wrong number of thresholds accepted")
deep = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 3), nn.ReLU()).double()
deep_sh = shift_biases(deep, [0.8, 0.4, 1.2], T=4)
for i, th in zip((0, 2, 4), (0.8, 0.4, 1.2)):  # three layers, three different thresholds: each gets its own
    torch.testing.assert_close(deep_sh[i].bias - deep[i].bias, torch.full((3,), th / 8, dtype=dtype), rtol=0, atol=1e-15)  # catches the threshold index not advancing by one
assert [m.v_th for m in convert(deep, [0.8, 0.4, 1.2]) if isinstance(m, SpikingNeuron)] == [0.8, 0.4, 1.2]
sh = shift_biases(net, ths, T=T)
torch.testing.assert_close(sh[0].bias - net[0].bias, torch.full((20,), 0.9 / 10, dtype=dtype), rtol=0, atol=1e-15)
torch.testing.assert_close(sh[2].bias, torch.full((12,), 0.6 / 10, dtype=dtype), rtol=0, atol=1e-15)  # new bias, one per output
torch.testing.assert_close(sh[4].bias, net[4].bias, rtol=0, atol=0)   # catches: shifting the read-out layer too
assert net[2].bias is None                                           # the input model is left untouched
conv = shift_biases(nn.Sequential(nn.Conv2d(2, 3, 1, bias=False), nn.ReLU()).double(), [0.8], T=4)
torch.testing.assert_close(conv[0].bias, torch.full((3,), 0.1, dtype=dtype), rtol=0, atol=1e-15)  # one per out channel
for bad in ({"T": 0}, ):
    try:
        shift_biases(net, ths, **bad)
    except ValueError:
        pass
    else:
        raise AssertionError(f"accepted {bad}")
for bad_model in (nn.Sequential(nn.ReLU(), nn.Linear(2, 2)), nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.ReLU())):
    try:
        shift_biases(bad_model, [1.0, 1.0], T=4)
    except ValueError:
        pass
    else:  # catches: shifting one layer twice for two stacked activations
        raise AssertionError("an activation without its own weighted layer was accepted")


class ThReLU(nn.Module):
    def __init__(self, v_th):
        super().__init__()
        self.v_th = v_th

    def forward(self, x):
        return threshold_relu(x, v_th=self.v_th)


ann = nn.Sequential(net[0], ThReLU(ths[0]), net[2], ThReLU(ths[1]), net[4])
xb = torch.rand(256, 10, dtype=dtype)
target = ann(xb).detach()
gaps = {}
for T_ in (3, 5, 8, 16):
    plain = simulate_layers(convert(net, ths), constant_input(xb, T_))[-1].mean(0)
    shifted = simulate_layers(convert(shift_biases(net, ths, T=T_), ths), constant_input(xb, T_))[-1].mean(0)
    gaps[T_] = ((plain - target).abs().mean().item(), (shifted - target).abs().mean().item())
    assert gaps[T_][1] < 0.7 * gaps[T_][0], (T_, gaps[T_])   # the shift removes most of the flooring error

# %%
fig, ax = plt.subplots(1, 2, figsize=(10, 3.2))
ax[0].plot(z[:, 0], threshold_relu(z, v_th=v_th)[:, 0], "k:", label="threshold ReLU h(z)")
ax[0].plot(z[:, 0], outs["plain"][:, 0], label="IF, no shift (floor)")
ax[0].plot(z[:, 0], outs["shifted"][:, 0], label="IF, shift $V_{th}/2T$ (round)")
ax[0].set_xlabel("z"); ax[0].set_ylabel("output, T=8"); ax[0].legend(fontsize=7)
Ts = list(gaps)
ax[1].plot(Ts, [gaps[t][0] for t in Ts], "o-", label="no shift")
ax[1].plot(Ts, [gaps[t][1] for t in Ts], "s-", label="shifted")
ax[1].set_xlabel("T"); ax[1].set_ylabel("mean |SNN - ANN|"); ax[1].legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# Verified: the threshold ReLU and its gradient; the IF output with and without the $V_{th}/2T$ shift against the
# floor and round closed forms, with the error bounds, means and mean squares the analysis predicts; the per-layer
# shift amounts (three layers, three thresholds; a wrong threshold count refused); and, on a toy network, a clearly smaller conversion error with the shift at 3 to 16 steps.
