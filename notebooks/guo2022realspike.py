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
# # Real Spike (Guo et al., ECCV 2022)
# Spikes carry a learnable real amplitude during training; at inference the amplitude is folded into the next kernel so that only binary spikes travel.

# %%
import math

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from snnref.neuron import lif_step, multi_step
from snnref.training.real_spike import RealSpikeLIF, fold_into_conv, real_spike

torch.manual_seed(0)
dtype = torch.float64
T, B, C_in, C_out, H, W = 5, 2, 3, 4, 6, 6
tau, v_th = 2.5, 0.8  # tau not 2, v_th not 1: both factors must be used where they belong
layer = RealSpikeLIF(C_in, tau=tau, v_th=v_th).to(dtype)
# the official code starts every amplitude at 1, i.e. from the vanilla binary-spike SNN
assert torch.equal(layer.a.detach(), torch.ones(C_in, dtype=dtype))  # catches: a different initial amplitude
for bad in ({"channels": 0}, {"channels": 2, "tau": 0.5}, {"channels": 2, "v_th": 0.0}):
    try:
        RealSpikeLIF(**bad)
    except ValueError as e:
        assert str(next(iter(bad.keys() - {"channels"}), "channels")) in str(e)  # catches: a missing argument check
    else:
        raise AssertionError(f"accepted {bad}")
with torch.no_grad():
    layer.a.copy_(torch.tensor([0.4, 1.7, -0.9], dtype=dtype))  # distinct, non-unit amplitudes
x = 1.5 * torch.rand(T, B, C_in, H, W, dtype=dtype)  # enough drive that many neurons cross v_th
kernel = torch.randn(C_out, C_in, 3, 3, dtype=dtype)

# %% [markdown]
# **Claim 1 (Sec. 3.3, re-parameterization).** With $\tilde S_t = a\odot S_t$ and $W'_{o,c} = a_c W_{o,c}$,
# $W \ast \tilde S_t = W' \ast S_t$ exactly: the trained network with real-valued spikes and the inference network
# with binary spikes and unshared kernels compute the same next-layer input. The scaled spike is computed here
# from the definition, $a_c S_{t,b,c,h,w}$, by an explicit loop over channels.

# %%
layer.train()
s_real = layer(x)
layer.eval()
s_bin = layer(x)
assert set(s_bin.unique().tolist()) == {0.0, 1.0}  # catches: inference still sending scaled (non-binary) spikes
assert 0.1 < s_bin.mean().item() < 0.9  # the test is not degenerate: neurons both fire and stay silent

by_hand = torch.empty_like(s_bin)
for c in range(C_in):
    by_hand[:, :, c] = layer.a[c].detach() * s_bin[:, :, c]
torch.testing.assert_close(s_real.detach(), by_hand, rtol=0, atol=1e-15)  # catches: scale on the wrong axis / dropped in training

folded = fold_into_conv(kernel, layer.a.detach())
y_train = F.conv2d(by_hand.flatten(0, 1), kernel, padding=1)
y_infer = F.conv2d(s_bin.flatten(0, 1), folded, padding=1)
torch.testing.assert_close(y_infer, y_train, rtol=1e-12, atol=1e-12)  # catches: folding along the output-channel axis
assert fold_into_conv(kernel, layer.a).requires_grad  # catches: a folded kernel cut from the amplitudes' gradient
print("max |W*(aS) - W'*S| =", (y_infer - y_train).abs().max().item())

# %% [markdown]
# **Claim 2 (Sec. 3.3, learning $a$).** For a loss $L$ of the real spikes, $\partial L/\partial a_c = \sum_{t,b,h,w}
# \frac{\partial L}{\partial \tilde S_{t,b,c,h,w}}\, S_{t,b,c,h,w}$, and the surrogate gradient reaching the input at
# a one-step input is $\frac{\partial L}{\partial X_1} = a_c\,\frac{\partial L}{\partial \tilde S_1}\, g'(X_1/\tau - V_{th})/\tau$
# (from $V_0 = 0$, $H_1 = X_1/\tau$; $g'$ the ATan surrogate). Both right-hand sides are written out here and
# compared with autograd.

# %%
layer.train()
layer.zero_grad()
g_out = torch.randn(T, B, C_in, H, W, dtype=dtype)
out = layer(x)
assert out.requires_grad  # catches real spikes cut from the graph (neither a nor the weights would learn)
(out * g_out).sum().backward()
grad_a = (g_out * s_bin).sum(dim=(0, 1, 3, 4))
torch.testing.assert_close(layer.a.grad, grad_a, rtol=1e-12, atol=1e-12)  # catches: a detached or applied twice

x1 = x[:1].clone().requires_grad_(True)  # one time step: no gradient arrives through later membrane potentials
(layer(x1) * g_out[:1]).sum().backward()
a_b = layer.a.detach().reshape(1, -1, 1, 1)
u1 = x[0] / tau - v_th
grad_x1 = a_b * g_out[0] / (1 + (math.pi * u1) ** 2) / tau  # ATan surrogate with alpha = 2: 1 / (1 + (pi u)^2)
torch.testing.assert_close(x1.grad[0], grad_x1, rtol=1e-12, atol=1e-12)  # catches: missing 1/tau in charge, a not in the backward path

# %% [markdown]
# **Core check.** With firing disabled the LIF step integrates a constant $c$ as $V_t = c(1-(1-1/\tau)^t)$, and a
# single spike resets to $V_{reset}=0$.

# %%
v = torch.zeros((), dtype=dtype)
c = 0.7
for t in range(1, 12):
    _, v = lif_step(torch.tensor(c, dtype=dtype), v, tau=tau, v_th=math.inf)
    assert math.isclose(v.item(), c * (1 - (1 - 1 / tau) ** t), rel_tol=1e-12)  # catches: wrong leak factor
s1, v1 = lif_step(torch.tensor(3.0, dtype=dtype), torch.zeros((), dtype=dtype), tau=tau, v_th=v_th)
assert s1.item() == 1.0 and v1.item() == 0.0  # catches: no hard reset after a spike

# %%
tr = by_hand[:, 0, :, 2, 2].numpy()
fig, ax = plt.subplots(figsize=(6, 3))
for c in range(C_in):
    ax.step(range(T), tr[:, c] + 0.02 * c, where="mid", label=f"channel {c}, a={layer.a[c].item():.1f}")
ax.set_xlabel("time step t")
ax.set_ylabel(r"real spike $a_c S_t$")
ax.legend()
plt.show()

# %% [markdown]
# **Core check.** The core `lif_step`, looped by `multi_step`, equals a brute-force LIF loop written from its
# definition (charge with and without input decay, firing at $H \ge V_{th}$, soft and hard reset), and
# `detach_reset` changes the gradient but not the spikes.

# %%
def lif_loop(xs, tau_, vth_, v_reset_, decay_input_):
    v_ = torch.zeros_like(xs[0])
    rest = 0.0 if v_reset_ is None else v_reset_
    out_s, out_v = [], []
    for xt in xs:
        h_ = v_ + (xt - (v_ - rest)) / tau_ if decay_input_ else v_ - (v_ - rest) / tau_ + xt
        s_ = (h_ >= vth_).to(xs.dtype)
        v_ = h_ - vth_ * s_ if v_reset_ is None else h_ * (1 - s_) + v_reset_ * s_
        out_s.append(s_)
        out_v.append(v_)
    return torch.stack(out_s), torch.stack(out_v)


gen = torch.Generator().manual_seed(1)
x_core = 0.9 * torch.rand(12, 50, generator=gen, dtype=torch.float64)
for v_reset_c in (None, -0.2):
    for decay_c in (True, False):
        xs_c = x_core * (1.8 if decay_c else 1.0)  # input decay divides the drive by tau: scale it so neurons fire
        s_ref, v_ref = lif_loop(xs_c, 2.7, 0.6, v_reset_c, decay_c)
        s_core, v_core = multi_step(lif_step, xs_c, tau=2.7, v_th=0.6, v_reset=v_reset_c, decay_input=decay_c)
        assert torch.equal(s_core, s_ref) and 0 < s_ref.mean().item() < 1  # catches: core charge/fire/reset bugs
        torch.testing.assert_close(torch.stack(v_core), v_ref, rtol=1e-12, atol=1e-12)  # catches: wrong reset value
x_g = x_core.clone().requires_grad_(True)
g_full = torch.autograd.grad(multi_step(lif_step, x_g, tau=2.7, v_th=0.6, v_reset=None)[0].sum(), x_g)[0]
g_det = torch.autograd.grad(multi_step(lif_step, x_g, tau=2.7, v_th=0.6, v_reset=None, detach_reset=True)[0].sum(), x_g)[0]
assert not torch.allclose(g_full, g_det)  # catches: detach_reset ignored by the core reset
assert multi_step(lif_step, x_g, tau=2.7, v_th=0.6, decay_input=False)[0].requires_grad  # catches: a charge cut from the graph

# %% [markdown]
# Verified: the real-valued spikes equal $a_c S_t$; folding $a$ into the next kernel's input-channel axis gives the
# same convolution output from binary spikes (to 1e-12); the gradients of $a$ and of the input match their closed forms.
