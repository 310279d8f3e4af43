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
# # OTTT: online training through time (Xiao et al., NeurIPS 2022)
# No backpropagation through time: each step's error is combined with a leaky trace of the presynaptic spikes,
# and the weight gradient is accumulated online with memory independent of the number of time steps.

# %%
import math
from functools import partial

import matplotlib.pyplot as plt
import torch

from snnref.neuron import lif_step, multi_step
from snnref.surrogate import sigmoid_spike
from snnref.training.ottt import ottt_linear, ottt_step, presynaptic_trace

torch.set_default_dtype(torch.float64)
TAU, V_TH = 2.7, 0.6
LAM = 1 - 1 / TAU
SPIKE = partial(sigmoid_spike, alpha=4.0)
g = torch.Generator().manual_seed(3)
T, B, N0, N1 = 12, 4, 6, 5
x = (torch.rand(T, B, N0, generator=g) < 0.5).double()  # presynaptic spikes [T, B, N0]
W0 = 0.5 * torch.randn(N1, N0, generator=g) + 0.25
c = torch.randn(T, B, N1, generator=g)  # per-step loss L^t = sum(c_t * s^t)

# %% [markdown]
# **Claim 1 (the presynaptic trace).** $\hat a^t = \lambda\hat a^{t-1} + x^t$ with $\lambda = 1 - 1/\tau$ is the
# leaky sum $\hat a^t = \sum_{\tau' \le t}\lambda^{t-\tau'}x^{\tau'}$, and `ottt_linear` computes $Wx^t$ forward while its
# backward gives $g^\top\hat a^t$ for the weight and $gW$ for the input.

# %%  catches: a trace with decay 1/tau instead of 1 - 1/tau, the weight gradient using x instead of the trace
a = torch.zeros(B, N0)
for t in range(T):
    a = presynaptic_trace(a, x[t], tau=TAU)
    closed = sum(LAM ** (t - s) * x[s] for s in range(t + 1))
    torch.testing.assert_close(a, closed, rtol=1e-12, atol=1e-12)
xi = x[5].clone().requires_grad_(True)
Wl = W0.clone().requires_grad_(True)
gout = torch.randn(B, N1, generator=g)
# first on square matrices (batch = inputs = outputs), where mixing up the trace and the weight gives wrong numbers
xs_, as_, Ws_ = (torch.randn(3, 3, generator=g) for _ in range(3))
xq, Wq = xs_.clone().requires_grad_(True), Ws_.clone().requires_grad_(True)
gq = torch.randn(3, 3, generator=g)
out = ottt_linear(xq, as_, Wq)
assert out.requires_grad  # catches a layer output cut from the graph
out.backward(gq)
torch.testing.assert_close(Wq.grad, gq.T @ as_, rtol=1e-13, atol=1e-13)  # catches saved tensors swapped
torch.testing.assert_close(xq.grad, gq @ Ws_, rtol=1e-13, atol=1e-13)
out = ottt_linear(xi, a, Wl)
torch.testing.assert_close(out, x[5] @ W0.T, rtol=0, atol=0)
assert out.requires_grad
out.backward(gout)
torch.testing.assert_close(Wl.grad, gout.T @ a, rtol=1e-13, atol=1e-13)  # trace, not the instantaneous input
torch.testing.assert_close(xi.grad, gout @ W0, rtol=1e-13, atol=1e-13)  # input gradient unchanged

# %% [markdown]
# **Claim 2 (no gradient through time).** In the online step the carried potential is detached: the spike at step
# $t$ has no gradient with respect to inputs of earlier steps, which is what removes the $O(T)$ memory of BPTT.

# %%  catches: an online step that keeps the graph across steps
I1 = (x[0] @ W0.T).clone().requires_grad_(True)
I2 = (x[1] @ W0.T).clone().requires_grad_(True)
s1, v1 = ottt_step(I1, torch.zeros(B, N1), tau=TAU, v_th=V_TH, spike_fn=SPIKE)
s2, _ = ottt_step(I2, v1, tau=TAU, v_th=V_TH, spike_fn=SPIKE)
assert s2.requires_grad  # catches a charge or spike function cut from the graph (or an input dropped from the charge)
s2.sum().backward()
assert I1.grad is None and I2.grad.abs().sum() > 0
s_b, _ = multi_step(lif_step, torch.stack([I1, I2]), tau=TAU, v_th=V_TH, v_reset=None, decay_input=False,
                    spike_fn=SPIKE, detach_reset=True)
s_b[1].sum().backward()
assert I1.grad.abs().sum() > 0  # whereas BPTT does carry it back
# the reset is detached too (official detach_reset=True): the new potential has slope 1 in the current input
I3 = (1.5 * x[2] @ W0.T).clone().requires_grad_(True)
s3, v3 = ottt_step(I3, torch.zeros(B, N1), tau=TAU, v_th=V_TH, spike_fn=SPIKE)
assert s3.sum() > 0
v3.sum().backward()
torch.testing.assert_close(I3.grad, torch.ones(B, N1), rtol=0, atol=0)  # catches a reset left in the graph

# %% [markdown]
# **Claim 3 (equivalence with BPTT for one layer).** With the reset detached, the only path through time is the leak
# $\partial u^{t}/\partial u^{t-1} = \lambda$, so BPTT gives
# $\nabla_W L = \sum_{\tau'}\sum_{t \ge \tau'}\lambda^{t-\tau'}\delta^t (x^{\tau'})^\top = \sum_t \delta^t(\hat a^t)^\top$ with
# $\delta^t = \partial L^t/\partial u^t$: the online OTTT gradient, accumulated step by step without storing the past,
# equals autograd's BPTT gradient through the unrolled layer. The forward pass itself is checked against a loop over
# $u^t = \lambda(u^{t-1} - V_{th}s^{t-1}) + Wx^t$, $s^t = [u^t \ge V_{th}]$ written here.

# %%  catches: potential not detached in the online step (double counting), a wrong leak, soft vs hard reset mismatch
W_bptt = W0.clone().requires_grad_(True)
s_bptt, _ = multi_step(lif_step, x @ W_bptt.T, tau=TAU, v_th=V_TH, v_reset=None, decay_input=False,
                       spike_fn=SPIKE, detach_reset=True)
assert s_bptt.requires_grad  # catches a charge or spike function cut from the graph
(c * s_bptt).sum().backward()

W_on = W0.clone().requires_grad_(True)
v, a = torch.zeros(B, N1), torch.zeros(B, N0)
s_on, grads_t = [], []
for t in range(T):  # online: one backward per step, nothing kept from earlier steps but v and the trace
    a = presynaptic_trace(a, x[t], tau=TAU)
    s, v = ottt_step(ottt_linear(x[t], a, W_on), v, tau=TAU, v_th=V_TH, spike_fn=SPIKE)
    (c[t] * s).sum().backward()
    s_on.append(s.detach())
    grads_t.append(W_on.grad.norm().item())
torch.testing.assert_close(torch.stack(s_on), s_bptt.detach(), rtol=0, atol=0)  # same forward
u_ref, s_prev, s_ref = torch.zeros(B, N1), torch.zeros(B, N1), []
for t in range(T):  # the OTTT neuron from its definition
    u_ref = LAM * (u_ref - V_TH * s_prev) + x[t] @ W0.T
    assert ((u_ref - V_TH).abs() > 1e-9).all()  # margins: no spike decided by rounding
    s_prev = (u_ref >= V_TH).double()
    s_ref.append(s_prev)
torch.testing.assert_close(torch.stack(s_on), torch.stack(s_ref), rtol=0, atol=0)  # catches threshold, leak, reset sign
assert 0.1 < s_bptt.mean() < 0.8
torch.testing.assert_close(W_on.grad, W_bptt.grad, rtol=1e-10, atol=1e-12)  # OTTT == BPTT (reset detached)

# with the reset *in* the graph, BPTT has extra terms that OTTT ignores
W_full = W0.clone().requires_grad_(True)
s_full, _ = multi_step(lif_step, x @ W_full.T, tau=TAU, v_th=V_TH, v_reset=None, decay_input=False,
                       spike_fn=SPIKE, detach_reset=False)
(c * s_full).sum().backward()
assert (W_full.grad - W_on.grad).abs().max() > 1e-3

fig, ax = plt.subplots(1, 2, figsize=(10, 3))
ax[0].plot(range(1, T + 1), grads_t, "o-"); ax[0].set_xlabel("step t"); ax[0].set_title(r"$\|\nabla_W\|$ accumulated online")
ax[1].plot(torch.stack([sum(LAM ** (t - s) * x[s, 0, 0] for s in range(t + 1)) for t in range(T)]), "o-", label=r"$\hat a^t$")
ax[1].step(range(T), x[:, 0, 0], where="mid", label="$x^t$"); ax[1].legend(fontsize=8); ax[1].set_xlabel("t")
plt.tight_layout(); plt.show()

# %% [markdown]
# Verified: the presynaptic trace is the leaky sum of past spikes, the trace-weighted linear layer passes the trace to
# the weight gradient, the online OTTT gradient for a layer equals BPTT with the reset detached (and differs from BPTT
# through the reset), and the online step keeps no gradient path to earlier time steps.
