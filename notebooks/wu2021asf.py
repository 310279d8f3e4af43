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
# # Accumulated Spiking Flow (Wu et al., AAAI 2021)
# Forward with spikes; backward through an "equivalent network" on spike counts, $O \approx k\,\mathrm{ReLU}(I)$.

# %%
import math

import matplotlib.pyplot as plt
import torch

from snnref.neuron import if_step, multi_step
from snnref.surrogate import heaviside
from snnref.training.asf import asf_linear, asf_scale, update_scale

torch.manual_seed(0)
dtype = torch.float64
T, B, N_IN, N_OUT = 20, 8, 30, 10
v_th = 1.0
x = (torch.rand(T, B, N_IN, dtype=dtype) < 0.3).to(dtype)  # presynaptic spikes
W = (0.25 * torch.randn(N_OUT, N_IN, dtype=dtype)).requires_grad_(True)

# forward of the spiking layer: IF neurons (official code: no leak, reset to 0)
with torch.no_grad():
    s, _ = multi_step(if_step, x @ W.T, v_th=v_th, v_reset=0.0, spike_fn=heaviside)
O = s.sum(0)                  # accumulated output spikes [B, N_OUT]
X = x.sum(0)                  # accumulated input spikes [B, N_IN]
I = X @ W.detach().T          # accumulated input current [B, N_OUT]

# %% [markdown]
# **Claim 1 (adaptive linear estimation).** $k = \sum_c O_c / \sum_c I_c$ over neurons with $I_c \ge O_c$ (an explicit loop
# below), refreshed as $0.6\,k_{new} + 0.4\,k_{old}$; for an IF neuron with reset to 0 and no negative input, every
# spike costs at least $V_{th}$ of input, so $O \le I/V_{th}$ and $k \le 1/V_{th}$.

# %%
num = den = 0.0
for b in range(B):
    for c in range(N_OUT):
        if I[b, c] >= O[b, c]:
            num += O[b, c].item()
            den += I[b, c].item()
k = asf_scale(O, I)
assert den > 0  # catches: a reset that keeps the charge (then O > I everywhere and no neuron is selected)
assert math.isclose(k, num / den, rel_tol=1e-12)  # catches: ratio over all neurons, or I/O inverted
assert 0 < k <= 1 / v_th
assert asf_scale(torch.zeros(3), torch.zeros(3)) == 1.0  # nothing to estimate from
assert asf_scale(torch.tensor([2.0, 1.0, 5.0]), torch.tensor([2.0, 4.0, 3.0])) == 0.5  # catches: a tie I == O left out (> instead of >=)
one = torch.ones(1, dtype=dtype)
assert asf_scale(5e-4 * one, 1e-3 * one) == 0.5  # catches: fallback taken at denom == 1e-3 (<= instead of <), larger cut-off
assert asf_scale(4e-4 * one, 9e-4 * one) == 1.0  # catches: fallback missing just below 1e-3
assert math.isclose(update_scale(0.3, 0.8), 0.6 * 0.8 + 0.4 * 0.3)  # catches: swapped EMA weights
assert math.isclose(update_scale(0.3, 0.8, momentum=0.25), 0.75 * 0.8 + 0.25 * 0.3)
xp = torch.rand(T, 400, dtype=dtype) * 0.9  # non-negative input currents
sp, _ = multi_step(if_step, xp, v_th=v_th, v_reset=0.0, spike_fn=heaviside)
assert (sp.sum(0) <= xp.sum(0) / v_th + 1e-12).all() and sp.sum() > 0  # each spike consumed >= V_th of input

# %% [markdown]
# **Claim 2 (value from spikes, gradient from the equivalent network).** `asf_linear` returns exactly the spike
# counts $O$, while $\partial L/\partial W = \sum_b (k\,[I_b>0]\odot g_b)\,X_b^\top$ for $L = \sum g\odot O$, a closed form
# computed here from the accumulated flows only (no time loop in the backward pass).

# %%
g = torch.randn(B, N_OUT, dtype=dtype)
out = asf_linear(X, W, O, k=k)
torch.testing.assert_close(out, O, rtol=0, atol=1e-12)  # catches: the equivalent network leaking into the forward value
assert out.requires_grad  # catches: the output detached from W (no gradient at all)
(out * g).sum().backward()
expected = (k * (I > 0).to(dtype) * g).T @ X
torch.testing.assert_close(W.grad, expected, rtol=1e-12, atol=1e-12)  # catches: missing ReLU gate, k not applied, X not accumulated
assert ((I < 0).any() and (I > 0).any())  # both sides of the gate are exercised

# %% [markdown]
# **Claim 2, exact case.** Accumulated inputs $X = (2, 1, 3)$ and a square $3\times3$ weight chosen so that
# $I = XW^\top = (0, -1, 6)$ hits the gate's edge exactly. The gate is $[I > 0]$, so the neuron at $I = 0$ passes no
# gradient: $\partial L/\partial X = (k\,[I>0]\odot g)\,W$ and $\partial L/\partial W = (k\,[I>0]\odot g)^\top X$; the
# recorded counts $O$ are data, so no gradient reaches them.

# %%
Xq = torch.tensor([[2.0, 1.0, 3.0]], dtype=dtype, requires_grad=True)
Wq = torch.tensor([[1.0, -2.0, 0.0], [0.5, 1.0, -1.0], [1.0, 1.0, 1.0]], dtype=dtype, requires_grad=True)
Oq = torch.tensor([[1.0, 0.0, 4.0]], dtype=dtype, requires_grad=True)
gq = torch.tensor([[0.7, -1.3, 0.4]], dtype=dtype)
kq = 0.55
torch.testing.assert_close(Xq.detach() @ Wq.detach().T, torch.tensor([[0.0, -1.0, 6.0]], dtype=dtype), rtol=0, atol=0)
outq = asf_linear(Xq, Wq, Oq, k=kq)
torch.testing.assert_close(outq, Oq.detach(), rtol=0, atol=0)
assert outq.requires_grad  # catches: the output detached (no gradient reaches X or W)
(outq * gq).sum().backward()
gate = torch.tensor([[0.0, 0.0, 1.0]], dtype=dtype)  # [I > 0] for I = (0, -1, 6)
torch.testing.assert_close(Xq.grad, (kq * gate * gq) @ Wq.detach(), rtol=0, atol=1e-15)  # catches: gate [I >= 0] (opens at I = 0)
torch.testing.assert_close(Wq.grad, (kq * gate * gq).T @ Xq.detach(), rtol=0, atol=1e-15)
assert Oq.grad is None  # catches: O not detached (the spike counts would receive dL/dO = g)

# %% [markdown]
# **Claim 3 (the estimate tracks the spiking layer).** Across a range of input scales, $k\,\mathrm{ReLU}(I)$ predicts the
# spike counts far better than the plain rate model $\mathrm{ReLU}(I)/V_{th}$ that ignores the hard reset's losses.

# %%
errs_k, errs_r = [], []
for scale in (0.2, 0.3, 0.45):
    Ws = scale * torch.randn(N_OUT, N_IN, dtype=dtype)
    ss, _ = multi_step(if_step, x @ Ws.T, v_th=v_th, v_reset=0.0, spike_fn=heaviside)
    Os, Is = ss.sum(0), X @ Ws.T
    ks = asf_scale(Os, Is)
    errs_k.append((ks * Is.clamp(min=0) - Os).abs().mean().item())
    errs_r.append((Is.clamp(min=0) / v_th - Os).abs().mean().item())
print("mean |error| with k:", [round(e, 2) for e in errs_k], " with 1/V_th:", [round(e, 2) for e in errs_r])
assert all(a < 0.8 * b for a, b in zip(errs_k, errs_r))

# %%
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.scatter(I.flatten(), O.flatten(), s=8, label="IF spike counts")
ii = torch.linspace(float(I.min()), float(I.max()), 100, dtype=dtype)
ax.plot(ii, k * ii.clamp(min=0), "r", label=r"$k\,\mathrm{ReLU}(I)$")
ax.set_xlabel("accumulated input I"); ax.set_ylabel("accumulated output O"); ax.legend()
plt.show()

# %% [markdown]
# Verified: the adaptive scale and its moving average against loops, the bound $O \le I/V_{th}$ for the IF neuron, that
# ASF-BP's forward value is the true spike count while its weight gradient is the equivalent network's closed form,
# and that the estimate beats the plain rate model.
