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
# # Event-driven backpropagation (Zhu et al., NeurIPS 2022)
# Gradients travel only through spike times: a gradient on an output spike time reaches the membrane potential via
# $\partial t/\partial u = -1/\Delta u$, and from there the inputs that arrived since the neuron's previous spike, weighted
# by the synaptic kernel $\epsilon$ (for weights) or its one-step difference (for input spike times).

# %%
import math

import matplotlib.pyplot as plt
import torch

from snnref.training.event_bp import (
    dual_exp_d_eps, dual_exp_eps, event_backward, event_driven_linear_grads, exp_backward_kernel, srm_forward,
)
from functools import partial

torch.set_default_dtype(torch.float64)
TAU_M, TAU_S, TAU_G, V_TH = 4.3, 1.7, 3.1, 0.9  # not 2 / 1: the exponentials and the threshold stay distinct
BIG = 1e9  # no clamping of -1/du, for the exact identities


def eps_ref(k):
    """The paper's kernel from its closed form, theta = 1/tau."""
    tm, ts = 1 / TAU_M, 1 / TAU_S
    return ts / (ts - tm) * ((1 - tm) ** (k + 1) - (1 - ts) ** (k + 1))


# %% [markdown]
# **Claim 1 (forward: kernel sum with restart).** The membrane potential is the input current filtered by
# $\epsilon(k) = \frac{\theta_s}{\theta_s-\theta_m}[(1-\theta_m)^{k+1} - (1-\theta_s)^{k+1}]$ over the inputs received since
# the last spike, $u(t) = \sum_{t^{last} < t' \le t} I(t')\epsilon(t - t')$, a spike where $u \ge V_{th}$; $\epsilon(0) = \theta_s$
# and $\sum_{k \ge 0}\epsilon(k) = \tau_m$ (the charge of a unit input).

# %%  catches: wrong kernel constant or time offset, traces not restarted after a spike, wrong du
g = torch.Generator().manual_seed(4)
T, B, NI, NO = 16, 3, 6, 4
x = (torch.rand(T, B, NI, generator=g) < 0.35).double()
W = 0.9 * torch.rand(NO, NI, generator=g) - 0.15
I = x @ W.T
spikes, du, du_g = srm_forward(I, tau_m=TAU_M, tau_s=TAU_S, tau_g=TAU_G, v_th=V_TH)

u_ref, s_ref, du_ref = torch.zeros(T, B, NO), torch.zeros(T, B, NO), torch.zeros(T, B, NO)
for b in range(B):
    for j in range(NO):
        last, u_post = -1, 0.0
        for t in range(T):
            u = sum(I[tp, b, j].item() * eps_ref(t - tp) for tp in range(last + 1, t + 1))
            assert abs(u - V_TH) > 1e-6  # margin: no spike decided by rounding
            u_ref[t, b, j], du_ref[t, b, j] = u, u - u_post
            s_ref[t, b, j] = float(u >= V_TH)
            if u >= V_TH:
                last, u_post = t, 0.0
            else:
                u_post = u
assert 8 <= s_ref.sum() <= 0.5 * s_ref.numel()  # the layer fires, sparsely
torch.testing.assert_close(spikes, s_ref, rtol=0, atol=0)  # spike pattern of the kernel model
torch.testing.assert_close(du, du_ref, rtol=1e-12, atol=1e-12)  # rise of u per step (post-reset reference)
ks = torch.arange(T, dtype=torch.float64)
eps, d_eps = dual_exp_eps(ks, tau_m=TAU_M, tau_s=TAU_S), dual_exp_d_eps(ks, tau_m=TAU_M, tau_s=TAU_S)
torch.testing.assert_close(eps, torch.tensor([eps_ref(k) for k in range(T)]), rtol=1e-13, atol=1e-15)  # kernel
torch.testing.assert_close(d_eps, torch.tensor([eps_ref(k) - (eps_ref(k - 1) if k else 0.0) for k in range(T)]),
                           rtol=1e-12, atol=1e-15)  # one-step difference, eps(-1) = 0
assert math.isclose(eps[0].item(), 1 / TAU_S, rel_tol=1e-13)  # epsilon(0) = theta_s
e_long = dual_exp_eps(torch.arange(400, dtype=torch.float64), tau_m=TAU_M, tau_s=TAU_S)
assert math.isclose(e_long.sum().item(), TAU_M, rel_tol=1e-9)  # total charge of a unit input = tau_m

fig, ax = plt.subplots(1, 2, figsize=(10, 3))
ax[0].plot(e_long[:25], "o-", ms=3, label=r"$\epsilon(k)$")
ax[0].plot(dual_exp_d_eps(torch.arange(25.0), tau_m=TAU_M, tau_s=TAU_S), "s-", ms=3, label=r"$\Delta\epsilon(k)$")
ax[0].plot(exp_backward_kernel(torch.arange(25.0), tau_g=TAU_G), "^-", ms=3, label=r"$\kappa(k)$")
ax[0].set_xlabel("k (steps since the input)"); ax[0].legend(fontsize=8)

# %% [markdown]
# **Claim 2 (weight gradient at spike events).** For spike-time gradients $g^m_j$ on the output spikes,
# $$\frac{\partial L}{\partial W_{ji}} = \sum_m g^m_j\,\frac{-1}{\Delta u_j(t^m)}\,\frac{\partial u_j(t^m)}{\partial W_{ji}},$$
# where $\partial u_j(t^m)/\partial W$ is taken by autograd through the kernel sum of Claim 1 with the spike pattern held
# fixed (written here in loops, not with the module). Neurons or time steps after the last spike get nothing.

# %%  catches: kernel lag off by one, window not cut at the previous spike, missing -1/du, gradient at non-spike times
gt = torch.randn(T, B, NO, generator=g)  # gradients on spike times (only spikes count)
KW = dict(tau_m=TAU_M, tau_s=TAU_S, tau_g=TAU_G, v_th=V_TH, max_inv=BIG)
gW, gx = event_driven_linear_grads(x, W, gt, backward_kernel=False, **KW)
W_req = W.clone().requires_grad_(True)
I_req = x @ W_req.T
S = torch.zeros(())
for b in range(B):
    for j in range(NO):
        last = -1
        for t in range(T):
            if s_ref[t, b, j] == 1:
                u_m = sum(I_req[tp, b, j] * eps_ref(t - tp) for tp in range(last + 1, t + 1))
                S = S + gt[t, b, j] * (-1 / du_ref[t, b, j]) * u_m
                last = t
S.backward()
assert gW.abs().max() > 1e-2  # not vacuous
torch.testing.assert_close(gW, W_req.grad, rtol=1e-10, atol=1e-12)  # event-driven weight gradient
# only spike events carry gradient: zero spike-time gradients except at non-spike steps change nothing
gW0, gx0 = event_driven_linear_grads(x, W, gt * (1 - s_ref), backward_kernel=False, **KW)
assert gW0.abs().max() == 0 and gx0.abs().max() == 0  # catches gradient taken at non-spike times
EPS, DEPS = partial(dual_exp_eps, tau_m=TAU_M, tau_s=TAU_S), partial(dual_exp_d_eps, tau_m=TAU_M, tau_s=TAU_S)
g_w, g_in = event_backward(gt * s_ref, s_ref, du_ref, du_ref, eps=EPS, kernel_t=DEPS, max_inv=BIG)
after_last = torch.flip(torch.cummax(torch.flip(s_ref, [0]), dim=0).values, [0]) == 0  # no spike at or after t
assert (g_w[after_last] == 0).all() and (g_in[after_last] == 0).all()  # inputs after a neuron's last spike: none

# %% [markdown]
# **Claim 3 (input spike times; invariant sum).** Moving an input spike one step later changes $u_j(t^m)$ by
# $-W_{ji}\Delta\epsilon(t^m - t')$ exactly (recomputed here with the spike moved), so
# $\partial L/\partial t_i(t') = x_i(t')\sum_j W_{ji}\,g^m_j\,\frac{-1}{\Delta u_j(t^m)}\,(-\Delta\epsilon(t^m - t'))$. Since
# $\Delta u_j(t^m) = \sum_{i,t'} W_{ji}x_i(t')\Delta\epsilon(t^m - t')$ over the same window, the input-time gradients of a
# sample add up to exactly its output-time gradients, $\sum_{i,t'}\partial L/\partial t_i(t') = \sum_{j,m} g^m_j$ (the paper's
# invariant sum of gradients across layers), as long as $-1/\Delta u$ is not clamped. With the clamp (`max_inv`) small
# rises are capped at $-1/\Delta u = -$`max_inv`.

# %%  catches: a wrong sign or lag of the kernel difference, W not transposed back, gradient at non-input times
torch.testing.assert_close(gx.sum(dim=(0, 2)), (gt * s_ref).sum(dim=(0, 2)), rtol=1e-10, atol=1e-12)  # invariant sum
assert (gx[x == 0] == 0).all()  # only existing input spikes move
checked = 0
for b in range(B):
    for j in range(NO):
        ts = [t for t in range(T) if s_ref[t, b, j] == 1]
        for m, tm in enumerate(ts):
            lo = ts[m - 1] + 1 if m else 0
            for tp in range(lo, tm):
                for i in range(NI):
                    if x[tp, b, i] == 1 and x[tp + 1, b, i] == 0 and abs(W[j, i]) > 0.05:
                        x2 = x[:, b, i].clone(); x2[tp], x2[tp + 1] = 0.0, 1.0
                        Iji = I[:, b, j] + W[j, i] * (x2 - x[:, b, i])
                        shift = sum(Iji[k].item() * eps_ref(tm - k) for k in range(lo, tm + 1)) - u_ref[tm, b, j].item()
                        gt1 = torch.zeros(T, B, NO); gt1[tm, b, j] = 1.0
                        _, gin1 = event_backward(gt1, s_ref, du_ref, du_ref, eps=EPS, kernel_t=DEPS, max_inv=BIG)
                        expected = (-1 / du_ref[tm, b, j].item()) * shift / W[j, i].item()
                        assert math.isclose(gin1[tp, b, j].item(), expected, rel_tol=1e-9, abs_tol=1e-13)  # finite shift
                        checked += 1
assert checked >= 10

# clamp: a spike whose potential rose by less than 1/max_inv gets -max_inv instead of -1/du
small = (s_ref == 1) & (du_ref < 1 / 1.3)
assert small.any() and ((s_ref == 1) & ~small).any()
gw_c, gi_c = event_backward(s_ref, s_ref, du_ref, du_ref, eps=EPS, kernel_t=DEPS, max_inv=1.3)
gw_n, gi_n = event_backward(s_ref, s_ref, du_ref, du_ref, eps=EPS, kernel_t=DEPS, max_inv=BIG)
at = s_ref == 1
for gc, gn in [(gw_c, gw_n), (gi_c, gi_n)]:  # both paths are clamped
    ratio = gc[at] / gn[at]
    torch.testing.assert_close(ratio, torch.where(small[at], 1.3 * du_ref[at], torch.ones_like(ratio)), rtol=1e-12, atol=0)

# a spike whose potential did not rise (impossible in this forward model, possible with an approximate du) passes nothing
du_bad = du_ref.clone(); du_bad[at] = -0.4
gw_b, gi_b = event_backward(s_ref, s_ref, du_bad, du_bad, eps=EPS, kernel_t=DEPS, max_inv=BIG)
assert gw_b.abs().max() == 0 and gi_b.abs().max() == 0  # catches a clamp that lets -1/du be positive

ax[1].bar(["output spikes", "input spikes"], [(gt * s_ref).sum().item(), gx.sum().item()])
ax[1].set_ylabel("sum of spike-time gradients")
plt.tight_layout(); plt.show()

# %% [markdown]
# **Claim 4 (reverse gradients and the backward kernel).** $\Delta\epsilon(k)$ is positive only while the kernel rises and
# negative after its peak, so an input long before the output spike gets a timing gradient of the opposite sign (the
# reverse gradient problem). The paper's backward kernel $\kappa(k) = \theta_g(1-\theta_g)^{k+1} > 0$ for the input-time
# path, with $\Delta u_g(t^m) = \theta_g\sum_{t'}I(t')(1-\theta_g)^{t^m-t'+1}$ (a third trace restarted at spikes) in place
# of $\Delta u$, removes the sign flips and keeps the sum of gradients invariant.

# %%  catches: a wrong backward-kernel exponent or scale, du_g not restarted after spikes, the invariant sum broken
kappa = partial(exp_backward_kernel, tau_g=TAU_G)
torch.testing.assert_close(kappa(ks), torch.tensor([(1 - 1 / TAU_G) ** (k + 1) / TAU_G for k in range(T)]), rtol=1e-13, atol=0)
assert (kappa(ks) > 0).all() and (d_eps[4:] < 0).all() and (d_eps[:2] > 0).all()  # kappa > 0; d_eps changes sign
dug_ref = torch.zeros(T, B, NO)
for b in range(B):
    for j in range(NO):
        last = -1
        for t in range(T):
            dug_ref[t, b, j] = sum(I[tp, b, j].item() * (1 - 1 / TAU_G) ** (t - tp + 1) for tp in range(last + 1, t + 1)) / TAU_G
            if s_ref[t, b, j] == 1:
                last = t
torch.testing.assert_close(du_g, dug_ref, rtol=1e-12, atol=1e-13)  # the backward kernel's du, restarted at spikes
gWk, gxk = event_driven_linear_grads(x, W, gt, backward_kernel=True, **KW)
torch.testing.assert_close(gWk, gW, rtol=1e-12, atol=1e-14)  # the weight path is unchanged
torch.testing.assert_close(gxk.sum(dim=(0, 2)), (gt * s_ref).sum(dim=(0, 2)), rtol=1e-10, atol=1e-12)  # invariant sum kept
assert (gxk - gx).abs().max() > 1e-3  # the kernel does change the input-time gradients
# one output spike at a time, positive weights: no input gets a gradient of the opposite sign with kappa
Wp = W.abs() + 0.05
sp, dup, dugp = srm_forward(x @ Wp.T, tau_m=TAU_M, tau_s=TAU_S, tau_g=TAU_G, v_th=V_TH)
flips_orig, flips_kappa = 0, 0
for t, b, j in (sp == 1).nonzero().tolist():
    g1 = torch.zeros(T, B, NO); g1[t, b, j] = 1.0
    _, go = event_backward(g1, sp, dup, dup, eps=EPS, kernel_t=DEPS, max_inv=BIG)
    _, gk = event_backward(g1, sp, dup, dugp, eps=EPS, kernel_t=kappa, max_inv=BIG)
    flips_orig += int((go[:, b, j] < -1e-12).sum())
    flips_kappa += int((gk[:, b, j] < -1e-12).sum())
    assert (gk[:t + 1, b, j] >= 0).all()  # every input before the spike moves the same way as the output spike
assert flips_orig > 0 and flips_kappa == 0  # the reverse gradient problem and its fix

# %% [markdown]
# Verified: the forward model is the kernel sum that restarts after each spike (spikes and $\Delta u$ exact, kernel
# anchored by $\epsilon(0) = \theta_s$ and total charge $\tau_m$); the event-driven weight gradient equals the spike-time
# gradient times $-1/\Delta u$ times autograd's $\partial u(t^m)/\partial W$; input-time gradients match one-step spike
# shifts exactly, vanish away from spikes, and sum to the output-time gradients (the invariant sum); the backward kernel
# removes the reverse gradients of $\Delta\epsilon$ while keeping the weight gradients and the invariant sum.
