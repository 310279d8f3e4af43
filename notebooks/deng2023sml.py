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
# # Surrogate Module Learning (Deng et al., ICML 2023)
# ANN heads on intermediate SNN features give early layers a gradient path around later spiking layers; one loss trains both.

# %%
import math

import matplotlib.pyplot as plt
import torch

from snnref.neuron import lif_step, multi_step
from snnref.surrogate import rectangular_spike
from snnref.training.sml import sml_loss, soft_kl

torch.manual_seed(0)
dtype = torch.float64
B, K, n = 6, 5, 2
tau, alpha, lam = 2.5, 0.7, 0.4  # not the defaults, not 1 or 2

f = torch.randn(B, K, dtype=dtype, requires_grad=True)
s = [torch.randn(B, K, dtype=dtype, requires_grad=True) for _ in range(n)]
y = torch.randint(0, K, (B,))

# %% [markdown]
# **Claim 1 (the loss).** $L = (1-\lambda)\frac{\mathrm{CE}(f,y) + \alpha\sum_i\mathrm{CE}(s_i,y)}{1+n\alpha} +
# \lambda\frac{\sum_i \mathrm{KL}(p_\tau(f)\|p_\tau(s_i)) + \mathrm{KL}(p_\tau(s_i)\|p_\tau(f))}{2n}$, recomputed here with explicit
# loops over samples and classes.

# %%
def log_softmax_loop(z):
    out = torch.empty_like(z)
    for b in range(z.shape[0]):
        m = max(z[b].tolist())
        lse = m + math.log(sum(math.exp(v - m) for v in z[b].tolist()))
        out[b] = z[b] - lse
    return out


def ce_loop(z, y):
    ls = log_softmax_loop(z)
    return -sum(ls[b, y[b]].item() for b in range(z.shape[0])) / z.shape[0]


def kl_loop(p_logits, q_logits):  # KL(p || q) with p = softmax(p_logits / tau), batch mean
    lp, lq = log_softmax_loop(p_logits / tau), log_softmax_loop(q_logits / tau)
    return sum((lp[b].exp() * (lp[b] - lq[b])).sum().item() for b in range(p_logits.shape[0])) / p_logits.shape[0]


with torch.no_grad():
    hard = (ce_loop(f, y) + alpha * sum(ce_loop(si, y) for si in s)) / (1 + n * alpha)
    soft = sum(kl_loop(f, si) + kl_loop(si, f) for si in s) / (2 * n)
    expected = (1 - lam) * hard + lam * soft
L = sml_loss(f, s, y, tau=tau, alpha=alpha, lam=lam)
assert math.isclose(L.item(), expected, rel_tol=1e-12)  # catches: wrong normalisation, KL direction, temperature
try:
    sml_loss(f, [], y)
except ValueError as e:
    assert "surrogate_outs" in str(e)  # catches: no check for a missing surrogate module
else:
    raise AssertionError("empty surrogate list accepted")

# %% [markdown]
# **Claim 2 (who is pulled towards whom).** With the KL targets detached,
# $\partial L/\partial s_i = \frac{1}{B}\left[\frac{(1-\lambda)\alpha}{1+n\alpha}(\mathrm{softmax}(s_i) - e_y) + \frac{\lambda}{2n\tau}(p_\tau(s_i) - p_\tau(f))\right]$
# and $\partial L/\partial f = \frac{1}{B}\left[\frac{1-\lambda}{1+n\alpha}(\mathrm{softmax}(f) - e_y) + \frac{\lambda}{2n\tau}\sum_i(p_\tau(f) - p_\tau(s_i))\right]$.

# %%
assert L.requires_grad  # catches: the loss cut from the graph
L.backward()
e_y = torch.nn.functional.one_hot(y, K).to(dtype)
with torch.no_grad():
    p = lambda z, t=1.0: torch.softmax(z / t, dim=1)  # noqa: E731
    for si in s:
        g = ((1 - lam) * alpha / (1 + n * alpha) * (p(si) - e_y) + lam / (2 * n * tau) * (p(si, tau) - p(f, tau))) / B
        torch.testing.assert_close(si.grad, g, rtol=1e-10, atol=1e-13)  # catches: target not detached (extra term)
    gf = ((1 - lam) / (1 + n * alpha) * (p(f) - e_y)
          + lam / (2 * n * tau) * sum(p(f, tau) - p(si, tau) for si in s)) / B
    torch.testing.assert_close(f.grad, gf, rtol=1e-10, atol=1e-13)  # catches: one KL direction missing
assert soft_kl(f, f, tau=tau).abs().item() < 1e-15  # identical outputs: no imitation pressure

# %% [markdown]
# **Claim 3 (the shortcut path).** Two LIF layers from the core; a surrogate module (a linear ANN head on the rate
# of layer 1) and the SNN output (the rate of layer 2). When layer 2's potentials are far from threshold, its
# rectangular surrogate blocks all gradient, so $\partial\,\mathrm{CE}(f)/\partial W_1 = 0$ exactly, while the
# surrogate module's loss still reaches $W_1$, and that gradient does not depend on $W_2$ at all.

# %%
T, N_IN, H = 8, 10, 12
x = (torch.rand(T, B, N_IN, dtype=dtype) < 0.5).to(dtype)
W1 = (0.6 * torch.randn(N_IN, H, dtype=dtype)).requires_grad_(True)
A = torch.randn(H, K, dtype=dtype)


def forward(W2):
    h, _ = multi_step(lif_step, x @ W1, tau=1.5, v_th=1.0, spike_fn=rectangular_spike)
    o, _ = multi_step(lif_step, h @ W2, tau=1.5, v_th=1.0, spike_fn=rectangular_spike)
    return o.mean(0) * 10, h.mean(0) @ A  # SNN logits f, surrogate-module logits s


W2_silent = 0.001 * torch.randn(H, K, dtype=dtype)  # layer-2 potentials stay near 0, far from the box |x| < 0.5 of v_th
f_out, s_out = forward(W2_silent)
assert f_out.abs().max() == 0  # layer 2 never fires
(g_snn,) = torch.autograd.grad(torch.nn.functional.cross_entropy(f_out, y), W1, retain_graph=True)
assert g_snn.abs().max() == 0  # the spiking path gives layer 1 nothing
(g_sm,) = torch.autograd.grad(torch.nn.functional.cross_entropy(s_out, y), W1)
assert g_sm.abs().max() > 1e-3  # the surrogate module does (catches: head detached from the SNN features)
_, s_out2 = forward(0.5 * torch.randn(H, K, dtype=dtype))
(g_sm2,) = torch.autograd.grad(torch.nn.functional.cross_entropy(s_out2, y), W1)
torch.testing.assert_close(g_sm2, g_sm, rtol=0, atol=0)  # the shortcut bypasses layer 2 entirely

# %%
fig, ax = plt.subplots(figsize=(6, 3))
ax.bar(["via SNN output", "via surrogate module"], [g_snn.abs().mean().item(), g_sm.abs().mean().item()])
ax.set_ylabel(r"mean $|\partial L/\partial W_1|$")
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
# Verified: the SML loss against explicit loops; its gradients with detached KL targets against closed forms; and,
# on core LIF layers, that a surrogate module delivers gradient to an early layer when the later spiking layer
# blocks it.
