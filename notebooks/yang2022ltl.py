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
# # Local Tandem Learning (Yang et al., NeurIPS 2022)
# A student SNN learns layer by layer from a pre-trained teacher ANN: each layer's firing rate is pulled towards the
# teacher's activation by a local loss, with no gradient crossing layer boundaries.

# %%
import math
from functools import partial

import matplotlib.pyplot as plt
import torch

from snnref.neuron import lif_step, multi_step
from snnref.surrogate import atan_spike
from snnref.training.ltl import firing_rate, ltl_layer, ltl_local_loss

torch.set_default_dtype(torch.float64)
g = torch.Generator().manual_seed(0)
T, TAU, V_TH, V_R = 12, 3.0, 0.7, -0.1
SPIKE = partial(atan_spike, alpha=3.0)
LIF = dict(tau=TAU, v_th=V_TH, v_reset=V_R, spike_fn=SPIKE)  # hard reset to V_R, which is also the rest level

# %% [markdown]
# **Claim 1 (the local loss).** $\mathcal{L}^l = \frac{1}{N}\|a^l - r^l\|^2$ with $r^l = \frac{1}{T}\sum_t s^l[t]$
# (mean over neurons and samples); its gradient with respect to each spike is
# $\partial\mathcal{L}^l/\partial s^l_i[t] = \frac{2}{NT}(r^l_i - a^l_i)$, the same at every time step.

# %%  catches: a rate summed instead of averaged over time, a mean over the wrong axis, the target and rate swapped in sign
s = (torch.rand(T, 5, 7, generator=g) < 0.4).double().requires_grad_()
a = torch.rand(5, 7, generator=g)
r = s.detach().sum(0) / T
loss = ltl_local_loss(s, a)
assert loss.requires_grad  # catches: a detached loss or rate
assert math.isclose(loss.item(), ((a - r) ** 2).sum().item() / 35, rel_tol=1e-12)  # catches: a sum instead of a mean, a wrong rate
torch.testing.assert_close(firing_rate(s.detach()), r, rtol=1e-12, atol=0)  # catches: a rate not divided by T
(gs,) = torch.autograd.grad(loss, s)
torch.testing.assert_close(gs, (2 * (r - a) / (35 * T)).expand(T, 5, 7), rtol=1e-12, atol=1e-15)  # catches: a missing factor 2 or 1/T in the gradient

# %% [markdown]
# **Claim 2 (a student layer, its gradient, and layer decoupling).** A student layer is a LIF layer (leak $1/\tau$,
# hard reset to $V_R$) driven by $W s^{l-1}[t]$ — checked against a loop written here, and autograd's
# $\partial\mathcal{L}^1/\partial W$ equals a hand-written forward-mode BPTT recursion through leak, surrogate and
# reset. With two layers and $\mathcal{L} = \mathcal{L}^1 +
# \mathcal{L}^2$, the first layer's weights receive exactly the gradient of $\mathcal{L}^1$ alone, while an end-to-end
# network without the stop-gradient would pass $\mathcal{L}^2$'s error into them.

# %%  catches: a missing stop-gradient between layers, a detached reset or leak inside the layer, a wrong rest level
x = torch.rand(6, 8, generator=g)
x_seq = x.expand(T, 6, 8)  # constant (direct) input current to layer 1
W1 = (1.5 * torch.randn(16, 8, generator=g)).requires_grad_()
W2 = (0.5 * torch.randn(10, 16, generator=g)).requires_grad_()
s1 = ltl_layer(x_seq, W1, **LIF)
v = torch.zeros(6, 16)
ref = torch.zeros(T, 6, 16)
cur = (x @ W1.T).detach()
dv = torch.zeros(6, 16, 8)  # dV_{b,i} / dW_{i,k}: a neuron depends only on its own row of W
dr = torch.zeros(6, 16, 8)
for t in range(T):
    h = v + (cur - (v - V_R)) / TAU
    dh = (1 - 1 / TAU) * dv + x[:, None, :] / TAU
    assert (h - V_TH).abs().min() > 1e-9  # no spike decided by rounding
    ref[t] = (h >= V_TH).double()
    ds = (1.5 / (1 + (1.5 * math.pi * (h - V_TH)) ** 2))[..., None] * dh  # atan surrogate, alpha = 3
    dv = (1 - ref[t])[..., None] * dh + (V_R - h)[..., None] * ds
    v = h * (1 - ref[t]) + V_R * ref[t]
    dr += ds / T
assert 0.1 < ref.mean() < 0.9  # the layer fires and resets
torch.testing.assert_close(s1, ref, rtol=0, atol=0)  # catches: wrong leak, rest level or reset in the layer
a1 = torch.rand(6, 16, generator=g)
l1 = ltl_local_loss(s1, a1)
assert l1.requires_grad  # the spikes carry the graph back to W1
(gw,) = torch.autograd.grad(l1, W1, retain_graph=True)
rate = ref.mean(0)
gw_ref = (2 * (rate - a1)[..., None] * dr).sum(0) / (6 * 16)
assert gw_ref.abs().max() > 1e-3  # the gradient is not trivially zero
torch.testing.assert_close(gw, gw_ref, rtol=1e-9, atol=1e-12)  # catches: a detached leak, reset or surrogate path

a2 = torch.rand(6, 10, generator=g)
s2 = ltl_layer(s1, W2, **LIF)
g1, g2 = torch.autograd.grad(ltl_local_loss(s1, a1) + ltl_local_loss(s2, a2), (W1, W2), retain_graph=True)
(g1_alone,) = torch.autograd.grad(ltl_local_loss(ltl_layer(x_seq, W1, **LIF), a1), W1)
torch.testing.assert_close(g1, g1_alone, rtol=1e-12, atol=1e-15)  # layer 2's loss does not reach W1
assert g2.abs().sum() > 1e-3  # the second layer learns
s2_e2e, _ = multi_step(lif_step, s1 @ W2.T, **LIF)  # no stop-gradient: end-to-end BPTT
(g1_e2e,) = torch.autograd.grad(ltl_local_loss(s1, a1) + ltl_local_loss(s2_e2e, a2), W1)
assert (g1_e2e - g1_alone).abs().max() > 1e-4  # the check above is not vacuous

# %% [markdown]
# **Claim 3 (toy scale: the student tracks the teacher layer by layer).** A two-layer teacher ANN with activations
# clipped to $[0, 1]$ gives targets $a^1, a^2$ on 64 inputs; a student SNN with random weights is trained with Adam on
# $\mathcal{L}^1 + \mathcal{L}^2$. Both local losses fall to a small fraction of their initial values and the student's
# output rates pick the same most active output unit as the teacher for most inputs.

# %%  catches: targets that never reach the layer they belong to, a rate that does not respond to the weights
X = torch.rand(64, 8, generator=g)
Wt1, Wt2 = 0.5 * torch.randn(16, 8, generator=g), 0.5 * torch.randn(10, 16, generator=g)
A1 = (X @ Wt1.T).clamp(0, 1)
A2 = (A1 @ Wt2.T).clamp(0, 1)
S1 = torch.nn.Parameter(0.3 * torch.randn(16, 8, generator=g))
S2 = torch.nn.Parameter(0.3 * torch.randn(10, 16, generator=g))
opt = torch.optim.Adam([S1, S2], lr=0.05)
hist = []
for it in range(80):
    o1 = ltl_layer(X.expand(T, 64, 8), S1, **LIF)
    o2 = ltl_layer(o1, S2, **LIF)
    l1, l2 = ltl_local_loss(o1, A1), ltl_local_loss(o2, A2)
    opt.zero_grad(); (l1 + l2).backward(); opt.step()
    hist.append((l1.item(), l2.item()))
assert hist[-1][0] < 0.1 * hist[0][0] and hist[-1][1] < 0.15 * hist[0][1], (hist[0], hist[-1])  # catches: targets that never reach their layer
agree = (firing_rate(o2).argmax(1) == A2.argmax(1)).double().mean().item()
assert agree >= 0.8, agree  # catches: a student that does not track the teacher

fig, ax = plt.subplots(figsize=(7, 3))
ax.plot([h[0] for h in hist], label=r"$\mathcal{L}^1$")
ax.plot([h[1] for h in hist], label=r"$\mathcal{L}^2$")
ax.set_yscale("log"); ax.set_xlabel("Adam step"); ax.legend(fontsize=8); plt.show()

# %% [markdown]
# Verified: the local loss is the mean squared gap between the teacher's activation and the layer's firing rate with
# the closed-form gradient; a student layer is a hard-reset LIF layer on $W s^{l-1}[t]$ whose weight gradient matches a hand-written BPTT recursion; the stop-gradient makes each
# layer's weights see only its own loss (unlike end-to-end BPTT); and layer-wise training makes a random student track a
# teacher ANN's two layers.
