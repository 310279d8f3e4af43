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
# # SparseProp: exact event-based simulation (Engelken, NeurIPS 2023)
# A sparse LIF network simulated spike by spike, touching only the spiking neuron and its targets.

# %%
import math

import matplotlib.pyplot as plt
import torch

from snnref.models.sparseprop import lif_phase, lif_potential, lif_ptc, sparseprop_simulate
from snnref.neuron import lif_step, multi_step

torch.manual_seed(0)
DT = torch.float64
I, THETA, TAU = 1.37, 0.93, 0.83

# %% [markdown]
# **Claim 1.** In the phase $\phi = \ln\frac{I}{I-V}$ the LIF dynamics $\tau\dot V = -V + I$ are linear: the closed-form
# solution $V(t) = I + (V_0 - I)e^{-t/\tau}$ equals $V(\phi_0 + t/\tau)$; the phase transition curve $g$ is exactly the
# voltage jump $V \mapsto V+J$; and the free period $\tau\ln\frac{I}{I-\theta}$ matches the core LIF (`lif_step`)
# integrated with a small time step.

# %%  catches: wrong phase map or sign, PTC not the voltage jump, phase velocity not 1/tau
v0 = torch.tensor([-0.4, 0.0, 0.3, 0.71, 0.95], dtype=DT)
for t in (0.05, 0.4, 1.3):
    exact = I + (v0 - I) * math.exp(-t / TAU)
    pot = lif_potential(lif_phase(v0, I=I) + t / TAU, I=I)
    assert torch.is_tensor(pot) and pot.shape == v0.shape  # catches a term dropped down to a constant
    torch.testing.assert_close(lif_potential(lif_phase(v0, I=I) + t / TAU, I=I), exact, rtol=1e-12, atol=1e-12)
for J in (-0.23, 0.02):
    torch.testing.assert_close(lif_ptc(lif_phase(v0, I=I), J, I=I), lif_phase(v0 + J, I=I), rtol=1e-12, atol=1e-12)
dt = 1e-3
n = int(3 * TAU / dt)
s, _ = multi_step(lif_step, torch.full((n, 1), I, dtype=DT), tau=TAU / dt, v_th=THETA, v_reset=0.0)
period_grid = torch.nonzero(s[:, 0]).flatten().diff().to(DT).mean().item() * dt
period = TAU * math.log(I / (I - THETA))
assert abs(period_grid - period) < 3 * dt, (period_grid, period)  # Euler on the core agrees to O(dt)

# %% [markdown]
# **Claim 2.** SparseProp's change of reference frame is exact: its spike times equal those of a conventional
# $O(N)$-per-spike event-driven simulation written here in voltage terms (advance every $V_i$ with the closed form,
# next spiker $= \arg\min_i \tau\ln\frac{I-V_i}{I-\theta}$, then reset and add $J$ to its targets).
# A run cut off by `max_spikes`, or by a $t_{end}$ equal to a spike time, returns exactly the first spikes of the
# full run.

# %%  catches: stale priority-queue entries used, offset omega*t applied with the wrong sign, targets not updated
def reference(targets, J, v, t_end):
    v, t, out = v.clone(), 0.0, []
    while True:
        wait = TAU * torch.log((I - v) / (I - THETA))
        i = int(torch.argmin(wait))
        dt_next = max(wait[i].item(), 0.0)
        if t + dt_next > t_end:
            return out
        t += dt_next
        v = I + (v - I) * math.exp(-dt_next / TAU)  # all N neurons advanced: the O(N) step
        out.append((t, i))
        v[i] = 0.0
        for k in targets[i]:
            v[k] += J


N, K = 100, 10
targets = [torch.randperm(N)[:K].tolist() for _ in range(N)]
v_init = torch.rand(N, dtype=DT) * THETA
for J in (-0.1, 0.04):  # inhibitory (balanced-state style) and weakly excitatory
    sp = sparseprop_simulate(targets, J, v_init, 6.0, I=I, theta=THETA, tau=TAU, max_spikes=4000)
    ref = reference(targets, J, v_init, 6.0)
    # catches: a runaway of spikes at one instant (reset phase or offset wrong), cut off by max_spikes
    assert 2 * N < len(sp) == len(ref) < 4000
    assert [i for _, i in sp] == [i for _, i in ref]  # same order of neurons
    assert max(abs(a - b) for (a, _), (b, _) in zip(sp, ref)) < 1e-10  # same spike times (float32 anywhere fails this)
    if J == -0.1:
        sp_full = sp
# max_spikes returns exactly the first spikes of the full run; catches an off-by-one in the cut-off
assert sparseprop_simulate(targets, -0.1, v_init, 6.0, I=I, theta=THETA, tau=TAU, max_spikes=37) == sp_full[:37]
# t_end is inclusive: a spike exactly at t_end is kept; catches > replaced by >= in the stopping test
t_10 = sp_full[9][0]
assert sparseprop_simulate(targets, -0.1, v_init, t_10, I=I, theta=THETA, tau=TAU, max_spikes=4000) == sp_full[:10]
for bad, msg in (({"I": 0.9}, "I must exceed theta"), ({"tau": 0.0}, "tau must be > 0")):
    try:
        sparseprop_simulate(targets, -0.3, v_init, 1.0, max_spikes=4000, **{"I": I, "theta": THETA, "tau": TAU, **bad})
        raise AssertionError(f"{bad} accepted")  # catches: missing validation
    except ValueError as e:
        assert msg in str(e), e
try:
    sparseprop_simulate(targets, 0.5, v_init, 1.0, I=I, theta=THETA, tau=TAU, max_spikes=4000)  # V + J could reach I
    raise AssertionError("J >= I - theta accepted")
except ValueError:
    pass

# %% [markdown]
# **Claim 3.** The event-based result is the limit of ordinary time-stepped simulation: a small network simulated
# with the core `lif_step` at step $\Delta t$ (each input spike adds $J$ to the potential) fires the same neurons
# in the same order, and its first spike times differ from SparseProp's by at most a few $\Delta t$.

# %%  catches: reset phase not 0, spike applied to the wrong neurons, threshold phase wrong
N2 = 12
targets2 = [torch.randperm(N2)[:3].tolist() for _ in range(N2)]
v2 = torch.rand(N2, dtype=DT) * 0.9
ev = sparseprop_simulate(targets2, -0.15, v2, 1.5, I=I, theta=THETA, tau=TAU, max_spikes=500)
A = torch.zeros(N2, N2, dtype=DT)
for i, ts in enumerate(targets2):
    A[i, ts] = 1.0
dt = 4e-4
v, grid = v2.clone(), []
inp = torch.zeros(N2, dtype=DT)
for step in range(int(1.5 / dt)):
    # decay_input charge: x / tau' with tau' = TAU/dt, so x = I + J*tau'*spikes_in adds J per input spike
    s, v = lif_step(I + (-0.15) * (TAU / dt) * inp, v, tau=TAU / dt, v_th=THETA, v_reset=0.0)
    inp = s @ A
    grid += [((step + 1) * dt, int(i)) for i in torch.nonzero(s).flatten()]
m = 25
assert [i for _, i in ev[:m]] == [i for _, i in grid[:m]]
err = max(abs(a - b) for (a, _), (b, _) in zip(ev[:m], grid[:m]))
print(f"first {m} spikes: max |t_event - t_grid| = {err:.2e} (dt = {dt:g})")
assert err < 10 * dt

# %% [markdown]
# **Claim 4.** The phase maps are smooth, with the derivatives SparseProp needs for its Jacobian-based Lyapunov
# spectra: $d\phi/dV = 1/(I - V)$, $dV/d\phi = I e^{-\phi}$, and the PTC slope
# $g'(\phi) = e^{-\phi}/(e^{-\phi} - J/I)$, which is $> 1$ for excitation and $< 1$ for inhibition (autograd).

# %%  catches: a .detach() in the phase map, its inverse or the PTC, a wrong slope
vg = torch.tensor([-0.4, 0.2, 0.71], dtype=DT, requires_grad=True)
phi = lif_phase(vg, I=I)
assert phi.requires_grad
(d_phi,) = torch.autograd.grad(phi.sum(), vg)
torch.testing.assert_close(d_phi, 1 / (I - vg.detach()), rtol=1e-12, atol=0)
pg = phi.detach().clone().requires_grad_(True)
pot = lif_potential(pg, I=I)
assert pot.requires_grad
(d_pot,) = torch.autograd.grad(pot.sum(), pg)
torch.testing.assert_close(d_pot, I * torch.exp(-pg.detach()), rtol=1e-12, atol=0)
for J in (-0.23, 0.11):
    out = lif_ptc(pg, J, I=I)
    assert out.requires_grad
    (d_ptc,) = torch.autograd.grad(out.sum(), pg)
    e = torch.exp(-pg.detach())
    torch.testing.assert_close(d_ptc, e / (e - J / I), rtol=1e-12, atol=0)
    assert bool(((d_ptc > 1) if J > 0 else (d_ptc < 1)).all())

# %%
fig, ax = plt.subplots(1, 2, figsize=(10, 3.4))
phis = torch.linspace(0, math.log(I / (I - THETA)), 200, dtype=DT)
for J in (-0.3, -0.1, 0.1):
    ax[0].plot(phis, lif_ptc(phis, J, I=I) - phis, label=f"J={J}")
ax[0].set_xlabel(r"phase $\phi$"); ax[0].set_ylabel(r"$g(\phi)-\phi$"); ax[0].legend(); ax[0].set_title("phase transition curve")
sp = sparseprop_simulate(targets, -0.3, v_init, 4.0, I=I, theta=THETA, tau=TAU, max_spikes=4000)
ax[1].plot([t for t, _ in sp], [i for _, i in sp], "|", ms=3)
ax[1].set_xlabel("time"); ax[1].set_ylabel("neuron"); ax[1].set_title(f"SparseProp raster (N={N}, K={K})")
plt.tight_layout(); plt.show()

# %% [markdown]
# Verified: the phase map linearises LIF dynamics and the PTC is the voltage jump; SparseProp's
# reference-frame trick gives exactly the spike times of an O(N) event-driven simulation, and it is the small-step
# limit of the core LIF time-stepped simulation; the phase maps and the PTC have the closed-form derivatives.
