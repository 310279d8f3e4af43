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
# # Dynamic spike threshold and coincidence detection (Azouz & Gray, PNAS 2000)
# A threshold that tracks the membrane potential makes the spike threshold fall with the rate of depolarisation.

# %%
import math

import matplotlib.pyplot as plt
import torch

from snnref.neuro.dynamic_threshold import DynamicThresholdLIF, dynamic_threshold_step, threshold_filter

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)  # tiny tensors: thread start-up would dominate the run time
# mV, time in steps; alpha, tau, tau_theta deliberately not round
P = dict(tau=20.3, tau_theta=6.7, theta_0=-50.0, alpha=0.6, v_rest=-65.0, v_reset=-61.9)


def reference_run(x, p):
    """Brute-force oracle from the definition, plain Python floats: returns spikes, thresholds, voltages."""
    v, th, out = p["v_rest"], p["theta_0"], []
    for xt in x:
        h = v + (xt - (v - p["v_rest"])) / p["tau"]
        th = th + (p["theta_0"] + p["alpha"] * (h - p["v_rest"]) - th) / p["tau_theta"]
        s = 1.0 if h >= th else 0.0
        v = p["v_reset"] if s else h
        out.append((s, th, v))
    return out


# %% [markdown]
# **Claim 1.** The threshold is a first-order low-pass of the voltage,
# $\theta_t = \theta_{t-1} + \frac{1}{\tau_\theta}(\theta_0 + \alpha(V_t - V_{rest}) - \theta_{t-1})$. On a voltage ramp
# $V_t - V_{rest} = s\,t$ it has the closed form
# $\theta_t - \theta_0 = \alpha s\,[\,t - (\tau_\theta - 1)(1 - (1 - 1/\tau_\theta)^t)\,]$, a lag of
# $\alpha s(\tau_\theta - 1)$ behind $\theta_0 + \alpha s t$ in steady state.

# %%
for s in (0.37, 1.9):
    th = torch.tensor(P["theta_0"])
    for t in range(1, 61):
        th = threshold_filter(torch.tensor(P["theta_0"] + P["alpha"] * s * t), th, tau_theta=P["tau_theta"])
        c = P["tau_theta"] - 1
        closed = P["theta_0"] + P["alpha"] * s * (t - c * (1 - (1 - 1 / P["tau_theta"]) ** t))
        # catches: 1/tau_theta replaced by 1 - 1/tau_theta, a missing alpha, a filter that never moves
        assert math.isclose(th.item(), closed, rel_tol=0, abs_tol=1e-10), (s, t, th.item(), closed)

# %% [markdown]
# **Claim 2.** The spike threshold is inversely related to the rate of depolarisation before the spike. This is the
# paper's central in-vivo observation. Under constant currents of increasing amplitude, the neuron built on the
# LIF core reaches threshold faster, and the threshold at the first spike falls monotonically. It stays between
# $\theta_0$ (instantaneous rise) and $V_{rest} + (\theta_0 - V_{rest})/(1-\alpha)$ (quasi-static rise). Every spike
# time and threshold matches a brute-force loop written from the definition.

# %%
currents = [41.0, 47.0, 60.0, 90.0, 170.0]  # steady V must exceed the quasi-static bound
first_theta, slopes = [], []
T = 400
for amp in currents:
    x = torch.full((T, 1), amp)
    spikes, thetas = DynamicThresholdLIF(**P)(x)
    ref = reference_run([amp] * T, P)
    ref_spk = torch.tensor([r[0] for r in ref])
    # catches: any change to charge, threshold update order, fire convention or reset
    torch.testing.assert_close(spikes[:, 0], ref_spk, rtol=0, atol=0)
    torch.testing.assert_close(thetas[:, 0], torch.tensor([r[1] for r in ref]), rtol=1e-12, atol=1e-12)
    t0 = int(torch.nonzero(spikes[:, 0])[0])
    v_before = ref[t0 - 1][2] if t0 > 0 else P["v_rest"]
    first_theta.append(thetas[t0, 0].item())
    slopes.append(amp / P["tau"] - (v_before - P["v_rest"]) / P["tau"])  # dV per step just before the spike
upper = P["v_rest"] + (P["theta_0"] - P["v_rest"]) / (1 - P["alpha"])
assert all(a > b for a, b in zip(first_theta, first_theta[1:])), first_theta  # catches alpha sign / no adaptation
assert all(P["theta_0"] < th < upper for th in first_theta), (first_theta, upper)
assert all(a < b for a, b in zip(slopes, slopes[1:]))

fig, ax = plt.subplots(1, 2, figsize=(9, 3.2))
ax[0].plot(slopes, first_theta, "o-")
ax[0].set(xscale="log", xlabel="dV/dt before spike (mV/step)", ylabel="threshold at spike (mV)")

# %% [markdown]
# **Claim 3.** Coincidence detection. The paper's model result is that synchronous excitatory inputs are amplified.
# Five synchronous inputs fire the neuron. Twelve inputs spread over 22 steps drive the passive membrane
# (brute-force loop) 12 mV *above* the resting threshold $\theta_0$, but the neuron stays silent because the
# threshold keeps up. A fixed-threshold neuron ($\alpha = 0$, which reduces to the core's LIF) fires for both volleys.

# %%
def volley(k, gap, w=75.0, T=200):
    x = torch.zeros(T, 1)
    for i in range(k):
        x[10 + i * gap, 0] += w
    return x


sync, spread = volley(5, 0), volley(12, 2)
v, peak = P["v_rest"], -math.inf
for xt in spread[:, 0].tolist():  # passive membrane from the definition
    v = v + (xt - (v - P["v_rest"])) / P["tau"]
    peak = max(peak, v)
assert peak > P["theta_0"] + 10  # the dispersed volley is not simply too weak
s_sync, th_sync = DynamicThresholdLIF(**P)(sync)
s_spread, th_spread = DynamicThresholdLIF(**P)(spread)
assert s_sync.sum() == 1 and s_spread.sum() == 0  # catches: threshold not tracking V (alpha ignored)
fixed = {**P, "alpha": 0.0, "v_reset": P["v_rest"]}  # the core LIF rests where it resets
assert DynamicThresholdLIF(**fixed)(sync)[0].sum() >= 1 and DynamicThresholdLIF(**fixed)(spread)[0].sum() >= 1
ax[1].plot(th_spread[:, 0], "r--", label="threshold (spread)")
vs, v = [], torch.tensor([P["v_rest"]])
state = (torch.tensor([P["v_rest"]]), torch.tensor([P["theta_0"]]))
for xt in spread:
    _, state = dynamic_threshold_step(xt, state, **P)
    vs.append(state[0].item())
ax[1].plot(vs, "k", label="V (spread)")
ax[1].axhline(P["theta_0"], color="gray", lw=0.8)
ax[1].set(xlabel="step", ylabel="mV", xlim=(0, 80))
ax[1].legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# **Claim 4.** The threshold is part of the differentiable state, so a surrogate gradient sees it. One step from
# $(V, \theta)$ gives $\partial H/\partial X = 1/\tau$, $\partial\theta_t/\partial X = \alpha/(\tau\tau_\theta)$ and,
# with the ATan surrogate $g'(u) = (a/2)/(1 + (\frac{\pi}{2}a u)^2)$ ($a = 2$), the spike's derivative
# $\partial S/\partial X = g'(H - \theta_t)\,\frac{1}{\tau}\,(1 - \alpha/\tau_\theta)$: the tracking threshold
# shrinks the gradient by $1 - \alpha/\tau_\theta$. Through the hard reset,
# $\partial V_t/\partial X = (1 - S)/\tau + (V_{reset} - H)\,\partial S/\partial X$.

# %%
v0, th0 = torch.tensor(-52.0), torch.tensor(-49.0)
for xv in (95.0, 120.0):  # just below / above the moving threshold: without and with a spike
    x = torch.tensor(xv, requires_grad=True)
    s, (v1, th1) = dynamic_threshold_step(x, (v0, th0), **P)
    # catches: a .detach() on the charge, the spike or the surrogate (no gradient reaches the input)
    assert s.requires_grad and v1.requires_grad and th1.requires_grad
    h = v0 + (xv - (v0 - P["v_rest"])) / P["tau"]
    th = th0 + (P["theta_0"] + P["alpha"] * (h - P["v_rest"]) - th0) / P["tau_theta"]
    u = (h - th).item()
    g = 1.0 / (1 + (0.5 * math.pi * 2.0 * u) ** 2)
    ds, = torch.autograd.grad(s, x, retain_graph=True)
    dth, = torch.autograd.grad(th1, x, retain_graph=True)
    # catches: a detached threshold (gradient g'/tau, without the factor 1 - alpha/tau_theta)
    assert math.isclose(ds.item(), g / P["tau"] * (1 - P["alpha"] / P["tau_theta"]), rel_tol=1e-10), (ds, u)
    assert math.isclose(dth.item(), P["alpha"] / (P["tau"] * P["tau_theta"]), rel_tol=1e-12)
    dv, = torch.autograd.grad(v1, x)
    # catches: a reset that drops the surrogate path, dV/dX = (1 - S)/tau + (V_reset - H) dS/dX
    assert math.isclose(dv.item(), (1 - s.item()) / P["tau"] + (P["v_reset"] - h) * ds.item(), rel_tol=1e-10)
    assert s.item() == (1.0 if u >= 0 else 0.0) == (xv > 100) and abs(u) > 0.2, u  # both branches are exercised

# %% [markdown]
# **Core pieces and argument checks.** With $\alpha = 0$ and $\tau_\theta$ irrelevant, the step is the core LIF
# with a hard reset; a spike resets to $V_{reset}$; constructor arguments are validated.

# %%
from snnref.neuron import lif_step  # noqa: E402

torch.manual_seed(3)
x = torch.rand(12, 3) * 700  # large enough to cross threshold and reset several times
s_a, _ = DynamicThresholdLIF(**fixed)(x)  # (spikes, thresholds)
v = torch.full((3,), P["v_rest"])
for t in range(12):
    s_b, v = lif_step(x[t], v, tau=P["tau"], v_th=P["theta_0"], v_reset=fixed["v_reset"])
    torch.testing.assert_close(s_a[t], s_b)
s, (v1, _) = dynamic_threshold_step(torch.tensor(900.0), (torch.tensor(-60.0), torch.tensor(-50.0)), **P)
assert s.item() == 1 and v1.item() == P["v_reset"]  # catches a soft reset or a wrong reset value
for bad in ({"tau": 0.5}, {"tau_theta": 0.3}, {"alpha": 1.2}):
    try:
        DynamicThresholdLIF(**{**P, **bad})
        raise AssertionError(f"{bad} accepted")
    except ValueError as e:
        assert next(iter(bad)) in str(e)

# %% [markdown]
# Verified: the threshold filter matches its closed form on ramps; the threshold at spike onset falls
# monotonically with the rate of depolarisation, within the analytic bounds, spike-for-spike equal to a brute-force
# loop; synchronous inputs fire the neuron while dispersed inputs that depolarise it further do not.
