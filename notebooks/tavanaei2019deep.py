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
# # Deep learning in spiking neural networks (Tavanaei et al., Neural Networks 2019)
# The review's central unsupervised learning rule, pair-based STDP: a synapse is strengthened when the presynaptic
# spike comes first and weakened when it comes after the postsynaptic spike, with an exponential timing window.

# %%
import math

import matplotlib.pyplot as plt
import torch

from snnref.neuron import lif_step, multi_step
from snnref.training.stdp import stdp_online, stdp_pairs, stdp_step, stdp_window

torch.set_default_dtype(torch.float64)
A, B, TAU = 0.8, 0.55, 3.7  # A != B so swapped learning rates show

# %% [markdown]
# **Claim 1 (the STDP window).** With $\Delta t = t_{pre} - t_{post}$:
# $\Delta W = A e^{-|\Delta t|/\tau}$ for $\Delta t \le 0$ (pre before or with post: potentiation) and
# $\Delta W = -B e^{-|\Delta t|/\tau}$ for $\Delta t > 0$ (depression); the window decays by $e^{-1/\tau}$ per step on
# both sides.

# %%  catches: potentiation and depression swapped, A/B swapped, tau used as a rate, the simultaneous pair depressing
dts = torch.arange(-15, 16).double()
w = stdp_window(dts, a=A, b=B, tau=TAU)
for dt, val in zip(dts.tolist(), w.tolist()):
    expected = A * math.exp(-abs(dt) / TAU) if dt <= 0 else -B * math.exp(-abs(dt) / TAU)
    assert math.isclose(val, expected, rel_tol=1e-12), dt  # catches: swapped branches or rates, wrong decay
assert math.isclose(w[15].item(), A, rel_tol=1e-12)  # dt = 0: potentiation by A
assert (w[:16] > 0).all() and (w[16:] < 0).all()  # catches: a simultaneous pair that depresses
assert math.isclose((w[14] / w[13]).item(), math.exp(1 / TAU), rel_tol=1e-12)  # catches: tau used as a rate

fig, ax = plt.subplots(figsize=(6, 3))
ax.stem(dts, w)
ax.axhline(0, color="k", lw=0.6)
ax.set_xlabel(r"$\Delta t = t_{pre} - t_{post}$ (steps)"); ax.set_ylabel(r"$\Delta W$"); plt.show()

# %% [markdown]
# **Claim 2 (all pairs, offline and online).** For two spike trains the total change is
# $\Delta W_{ij} = \sum_{t_{post}} \sum_{t_{pre}} \Delta W(t_{pre} - t_{post})$ over all spike pairs. The matrix form
# `stdp_pairs` and the online two-trace form `stdp_step` (run by the core's `multi_step`) both equal a double loop
# over spike times written here; the online form also matches its running total after each step.

# %%  catches: a trace that decays after adding the spike, an off-by-one step in the depression trace, A and B swapped
g = torch.Generator().manual_seed(7)
T, NPRE, NPOST = 40, 6, 4
pre = (torch.rand(T, NPRE, generator=g) < 0.25).double()
post = (torch.rand(T, NPOST, generator=g) < 0.2).double()
ref, ltp, ltd = torch.zeros(NPOST, NPRE), 0.0, 0.0
for i in range(NPOST):
    for j in range(NPRE):
        for tp in torch.nonzero(post[:, i]).flatten().tolist():
            for tq in torch.nonzero(pre[:, j]).flatten().tolist():
                dt = tq - tp
                ref[i, j] += A * math.exp(-abs(dt) / TAU) if dt <= 0 else -B * math.exp(-abs(dt) / TAU)
                ltp += math.exp(-abs(dt) / TAU) if dt <= 0 else 0.0
                ltd += math.exp(-abs(dt) / TAU) if dt > 0 else 0.0
assert (ref > 0).any() and (ref < 0).any()  # both signs occur in the test data
torch.testing.assert_close(stdp_pairs(pre, post, a=A, b=B, tau=TAU), ref, rtol=1e-12, atol=1e-12)  # catches: a transposed window or time axis
torch.testing.assert_close(stdp_online(pre, post, a=A, b=B, tau=TAU), ref, rtol=1e-12, atol=1e-12)  # catches: trace update order, off-by-one depression
# the total is linear in the rates: d(sum dW)/dA = potentiation sum, d(sum dW)/dB = -(depression sum)
for fn in (stdp_pairs, stdp_online):
    a_t, b_t = torch.tensor(A, requires_grad=True), torch.tensor(B, requires_grad=True)
    tot = fn(pre, post, a=a_t, b=b_t, tau=TAU).sum()
    assert tot.requires_grad  # catches: a detached result
    ga, gb = torch.autograd.grad(tot, (a_t, b_t))
    assert math.isclose(ga.item(), ltp, rel_tol=1e-12) and math.isclose(gb.item(), -ltd, rel_tol=1e-12)  # catches: A and B swapped between LTP and LTD
state = (torch.zeros(NPRE), torch.zeros(NPOST), torch.zeros(()))
running = torch.zeros(NPOST, NPRE)
for t in range(T):
    dw_t, state = stdp_step((pre[t], post[t]), state, a=A, b=B, tau=TAU)
    running = running + dw_t
    torch.testing.assert_close(state[2], running, rtol=1e-12, atol=1e-12)  # catches: a running total that drops a step
    torch.testing.assert_close(state[1], sum(post[k] * math.exp(-(t - k) / TAU) for k in range(t + 1)), rtol=1e-12, atol=1e-12)  # catches: a postsynaptic trace that decays wrongly
torch.testing.assert_close(running, ref, rtol=1e-12, atol=1e-12)  # catches: per-step changes that do not add up to the total

# %% [markdown]
# **Claim 3 (toy scale: STDP selects causal inputs).** A LIF neuron receives ten inputs; inputs 0–2 fire two steps
# before a strong drive that makes the neuron spike, inputs 3–5 fire two steps after it, the rest fire at random.
# Applying the accumulated STDP change raises the weights of the inputs that predict the output spike and lowers those
# that follow it, the behaviour the review credits STDP with for unsupervised feature learning.

# %%  catches: a rule that rewards acausal inputs, a window that ignores spike order
T2, P = 200, 10
inputs = (torch.rand(T2, 10, generator=g) < 0.05).double()
drive = torch.zeros(T2, 1)
for t0 in range(5, T2 - 3, P):
    inputs[t0 - 2, :3] = 1.0
    inputs[t0 + 2, 3:6] = 1.0
    drive[t0] = 3.0
x = drive + 0.1 * inputs.sum(1, keepdim=True)
out, _ = multi_step(lif_step, x, tau=2.5, v_th=1.0, v_reset=0.0)
assert out.sum() >= (T2 - 8) // P  # the neuron fires at every drive
dw = stdp_online(inputs, out, a=A, b=B, tau=TAU)[0]
assert (dw[:3] > 0.5).all() and (dw[3:6] < -0.3).all()  # catches: a rule that rewards acausal inputs
assert dw[:3].min() > dw[6:].max() and dw[3:6].max() < dw[6:].min()  # catches: a window that ignores spike order

# %% [markdown]
# Verified: the STDP window has the review's form (potentiation by $A$ for pre-before-post including simultaneous
# spikes, depression by $B$ otherwise, both decaying with $\tau$); the matrix all-pairs sum and the online two-trace
# implementation both equal a brute-force sum over spike pairs; and on a toy LIF neuron the rule potentiates inputs that
# precede the output spikes and depresses those that follow them.
