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
# # EVSNN / PA-EVSNN: membrane potentials for event-based video reconstruction (Zhu et al., CVPR 2022)
# An event camera reports per-pixel changes of log brightness; a spiking network that reconstructs intensity video
# keeps its running image in the membrane potential of non-firing (MP) neurons, whose leak the AMP neuron adapts to the
# input.

# %%
import math

import matplotlib.pyplot as plt
import torch

from snnref.models.evsnn import AMPGate, amp_step, mp_step
from snnref.neuron import multi_step

torch.manual_seed(0)
dt = torch.float64

# %% [markdown]
# **The sensor.** A pixel of an event camera keeps a reference log intensity $L_{ref}$ and emits an event of polarity
# $p = \pm 1$ whenever $|\log I(t) - L_{ref}| \ge C$ (contrast threshold $C$), then moves $L_{ref}$ by $pC$. We
# synthesise events from a known brightness $I(t) = 0.5 + 0.4\sin(2\pi f t + \phi)$ per pixel, sampled finely, and bin
# them into windows (the network's time steps) as the signed count $n^+ - n^-$.

# %%
def synth_events(log_i: torch.Tensor, C: float, per_window: int) -> torch.Tensor:
    """Signed event counts per window [T, P] from log intensity samples [S, P] (S = T * per_window + 1)."""
    ref = log_i[0].clone()
    counts = torch.zeros((log_i.shape[0] - 1) // per_window, log_i.shape[1], dtype=log_i.dtype)
    for k in range(1, log_i.shape[0]):
        while True:  # several events may fire between two samples
            up, down = log_i[k] - ref >= C, ref - log_i[k] >= C
            if not bool((up | down).any()):
                break
            step = up.to(log_i.dtype) - down.to(log_i.dtype)
            ref = ref + C * step
            counts[(k - 1) // per_window] += step
    return counts


T, per_window, P, C = 40, 25, 6, 0.07
t = torch.linspace(0, 1, T * per_window + 1, dtype=dt)[:, None]
freq, phase = torch.rand(1, P, dtype=dt) * 2 + 0.5, torch.rand(1, P, dtype=dt) * 6.28
log_i = torch.log(0.5 + 0.4 * torch.sin(2 * math.pi * freq * t + phase))  # [S, P]
events = synth_events(log_i, C, per_window)  # [T, P]
assert events.abs().sum() > 100  # a busy event stream

# %% [markdown]
# **Claim 1 (the membrane potential is the image).** A non-leaky MP neuron (IF charge, no firing) driven by $C$ times
# the signed event counts holds $V_t = C\sum_{s \le t}(n^+_s - n^-_s)$, which tracks the log-intensity change
# $\log I(t) - \log I(0)$ to within the contrast threshold $C$ at every window end: the sensor model guarantees it, and
# it is why a potential (not spikes) is the natural output for reconstruction.

# %%  catches: a leak in the IF variant, firing/reset of the MP neuron, output not the potential
v_if, _ = multi_step(mp_step, C * events[:, None, :], tau=None)  # [T, 1, P]
truth = (log_i[per_window::per_window] - log_i[0])[:, None, :]
assert (v_if - truth).abs().max().item() < C  # within one contrast step
torch.testing.assert_close(v_if[:, 0], C * events.cumsum(0), rtol=0, atol=1e-12)  # pure integration, never reset

# %% [markdown]
# **Claim 2 (MP neuron with leak).** With leak $\tau$, the MP neuron is an exponential moving average of its input,
# $V_t = \sum_{i \le t} \frac{1}{\tau}(1 - \frac{1}{\tau})^{t-i} X_i$ (from $V_0 = 0$), and passing the last potential
# to the next window (`last_mem` in the official code) is the same as running the whole sequence at once. The gradient
# of the last potential is $\partial V_T/\partial X_t = \frac{1}{\tau}(1 - \frac{1}{\tau})^{T-t}$ (1 for the IF variant).

# %%  catches: wrong leak factor, input not divided by tau, state not carried between windows
tau = 3.7
x = torch.randn(30, 2, 5, dtype=dt)
v_mp, _ = multi_step(mp_step, x, tau=tau)
k = torch.arange(30, dtype=dt)
weights = (1 / tau) * (1 - 1 / tau) ** (k[:, None] - k[None, :]) * (k[:, None] >= k[None, :])  # [t, i]
torch.testing.assert_close(v_mp, torch.einsum("ti,ibn->tbn", weights, x), rtol=1e-12, atol=1e-12)
first, states = multi_step(mp_step, x[:12], tau=tau)
second, _ = multi_step(mp_step, x[12:], states[-1], tau=tau)
torch.testing.assert_close(torch.cat([first, second]), v_mp, rtol=0, atol=1e-14)
# the potential is differentiable in the inputs: dV_T/dX_t = (1/tau)(1 - 1/tau)^(T-t) (LIF), 1 (IF)
xg = x[:, 0, 0].clone().requires_grad_(True)
for tau_g in (tau, None):
    v_g, _ = multi_step(mp_step, xg[:, None], tau=tau_g)
    assert v_g.requires_grad  # catches a detached charge (no gradient through the running image)
    (g_x,) = torch.autograd.grad(v_g[-1, 0], xg)
    want = torch.ones(30, dtype=dt) if tau_g is None else (1 / tau) * (1 - 1 / tau) ** (29 - k)
    torch.testing.assert_close(g_x, want, rtol=1e-12, atol=1e-15)

# %% [markdown]
# **Claim 3 (AMP neuron).** $V_t = V_{t-1} + \sigma(w_t)(X_t - V_{t-1})$: with a constant $w$ it is the MP neuron with
# $\tau = 1 + e^{-w}$; with $w_t$ predicted by the gate from the input, each step is a convex combination, so $V_t$
# stays between $V_{t-1}$ and $X_t$; and $\partial V_t/\partial w_t = (X_t - V_{t-1})\,\sigma(w_t)(1 - \sigma(w_t))$.

# %%  catches: sigma(w) used as tau instead of 1/tau, gate not reaching the update, wrong gradient
w_const = torch.tensor(-0.8, dtype=dt)
v_amp, _ = multi_step(amp_step, x, w=w_const)
v_ref, _ = multi_step(mp_step, x, tau=1 + math.exp(0.8))
torch.testing.assert_close(v_amp, v_ref, rtol=1e-12, atol=1e-12)

gate = AMPGate(3, 8, reduction=4).to(dt)
# fc3 reads the C_out pooled maxima and the C_in firing rates, fc2 maps C_out / reduction units to one logit
assert (gate.fc3.in_features, gate.fc3.out_features, gate.fc2.in_features, gate.fc2.out_features) == (11, 2, 2, 1)
s_seq = (torch.rand(10, 2, 3, 4, 4, dtype=dt) < 0.3).to(dt)  # input spikes [T, B, C_in, H, W]
u_seq = torch.randn(10, 2, 8, 4, 4, dtype=dt)  # ConvBN output [T, B, C_out, H, W]
v = torch.zeros(2, 8, 4, 4, dtype=dt)
for s_t, u_t in zip(s_seq, u_seq):
    w_t = gate(s_t, u_t)
    assert w_t.shape == (2, 1, 1, 1)
    v_new, _ = amp_step(u_t, v, w=w_t)
    lam = torch.sigmoid(w_t)
    torch.testing.assert_close(v_new, v + lam * (u_t - v), rtol=1e-12, atol=1e-12)  # the update, from its definition
    lo, hi = torch.minimum(v, u_t), torch.maximum(v, u_t)
    assert bool(((v_new >= lo - 1e-12) & (v_new <= hi + 1e-12)).all())  # convex combination
    v = v_new
# the gate reads both inputs: the max-pooled ConvBN output and the firing rate of the input spikes
pooled = torch.cat([u_seq[0].amax(dim=(2, 3)), s_seq[0].mean(dim=(2, 3))], dim=1)
torch.testing.assert_close(gate(s_seq[0], u_seq[0]).flatten(), gate.fc2(torch.relu(gate.fc3(pooled))).flatten(), rtol=0, atol=1e-14)
assert not torch.equal(gate(s_seq[0], u_seq[0]), gate(torch.zeros_like(s_seq[0]), u_seq[0]))  # depends on spikes
try:
    AMPGate(3, 2, reduction=4)
    raise AssertionError("c_out // reduction = 0 must be rejected")
except ValueError:
    pass

w = torch.tensor(0.35, dtype=dt, requires_grad=True)
x1, v0 = torch.tensor(1.3, dtype=dt), torch.tensor(-0.4, dtype=dt)
out = amp_step(x1, v0, w=w)[0]
assert out.requires_grad  # catches a detached charge
out.backward()
sig = 1 / (1 + math.exp(-0.35))
assert math.isclose(w.grad.item(), (1.3 + 0.4) * sig * (1 - sig), rel_tol=1e-12)
# the gate is trained through the update: d(sum V_t)/d(fc2.bias) = sum (X_t - V_{t-1}) sigma'(w_t)
v_prev = torch.randn(2, 8, 4, 4, dtype=dt)
w_t = gate(s_seq[0], u_seq[0])
assert w_t.requires_grad  # catches a detached gate output
(g_b,) = torch.autograd.grad(amp_step(u_seq[0], v_prev, w=w_t)[0].sum(), gate.fc2.bias)
sg_t = torch.sigmoid(w_t.detach())
torch.testing.assert_close(g_b, ((u_seq[0] - v_prev) * sg_t * (1 - sg_t)).sum().reshape(1), rtol=1e-12, atol=1e-14)

# %%
fig, ax = plt.subplots(1, 2, figsize=(10, 3.5))
ax[0].plot(range(1, T + 1), truth[:, 0, 0], "k-", label="$\\log I(t) - \\log I(0)$")
ax[0].step(range(1, T + 1), v_if[:, 0, 0], where="post", label="MP-IF potential from events")
ax[0].set_xlabel("window"); ax[0].legend()
ax[1].bar(range(1, T + 1), events[:, 0])
ax[1].set_xlabel("window"); ax[1].set_ylabel("signed event count (pixel 0)")
plt.tight_layout()
plt.show()

# %% [markdown]
# Verified: on synthetic events from a known brightness, a non-leaky MP neuron's potential reconstructs the log
# intensity change to within the contrast threshold; the leaky MP neuron is an exponential moving average whose state
# carries across windows; the AMP neuron is a gated convex update equal to MP for a constant gate, with the analytic
# gradient in its gate, and its gate reads both the pooled ConvBN output and the input firing rate and is trained
# through the update.
