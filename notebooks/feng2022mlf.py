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
# # Multi-level firing (Feng et al., IJCAI 2022)
# Replace each LIF neuron by $K$ LIF neurons with thresholds one surrogate width apart: the unit can express more
# than one spike level, and its surrogate gradient stays non-zero over a $K$ times wider range of potentials.

# %%
import matplotlib.pyplot as plt
import torch

from snnref.models.mlf import mlf, mlf_step

torch.manual_seed(0)
dt = torch.float64

# %% [markdown]
# **Claim 1 (the unit, against the official recurrence).** Each level follows
# $U^k_t = \lambda\,U^k_{t-1}(1 - S^k_{t-1}) + X_t$, $S^k_t = [U^k_t > V^k_{th}]$, and the unit outputs
# $O_t = \sum_k S^k_t \in \{0, \dots, K\}$ (the "union of all spikes" of the official code). Checked against a loop
# written from that recurrence with $K = 3$, $\lambda = 0.25$, $V_{th} = (0.6, 1.6, 2.6)$, with potentials kept away
# from the thresholds.

# %%  catches: soft instead of hard reset, decay applied to the input, levels not offset by a, output not summed
T = 12
x = torch.rand(T, 5, 40, dtype=dt) * 3.2
ref = torch.zeros_like(x)
u = [torch.zeros(5, 40, dtype=dt) for _ in range(3)]
s_prev = [torch.zeros(5, 40, dtype=dt) for _ in range(3)]
for t in range(T):
    for k, v_th in enumerate((0.6, 1.6, 2.6)):
        u[k] = 0.25 * u[k] * (1 - s_prev[k]) + x[t]
        assert bool(((u[k] - v_th).abs() > 1e-6).all())  # margin from the threshold
        s_prev[k] = (u[k] > v_th).to(dt)
        ref[t] += s_prev[k]
out = mlf(x, v_th=0.6, levels=3, decay=0.25, a=1.0)
torch.testing.assert_close(out, ref, rtol=0, atol=0)
assert set(out.unique().tolist()) == {0.0, 1.0, 2.0, 3.0}  # all levels are used
for bad in (dict(levels=0), dict(decay=1.0), dict(decay=-0.1)):
    try:
        mlf(x, **bad)
        raise AssertionError(f"{bad} must be rejected")
    except ValueError:
        pass

# %% [markdown]
# **Claim 2 (gradient coverage).** With the rectangular surrogate of width $a$ centred on each threshold, the
# surrogate derivative of the unit's output at the first step is $\sum_k \frac1a[|X - V^k_{th}| < a/2]$. With thresholds
# $a$ apart the windows tile $[V_{th} - a/2,\ V_{th} + (K - \frac12)a)$: the derivative is exactly $1/a$ there and 0
# outside, a $K$ times wider range than a single LIF neuron (the paper's argument against gradient vanishing).
# Checked with $a = 0.7$.

# %%  catches: surrogate windows not centred on each level, wrong width, levels overlapping
a, v_th = 0.7, 0.6  # a != 1 so that the spacing k*a is tested
grid = torch.linspace(-1.0, 4.0, 1001, dtype=dt)
edge = (grid - v_th) / a * 2
grid = grid[(edge - edge.round()).abs() > 1e-6]  # avoid the window edges, where rounding decides
for K in (1, 3):
    xg = grid.clone().view(1, -1).requires_grad_(True)
    mlf(xg, v_th=v_th, levels=K, a=a).sum().backward()
    inside = (grid >= v_th - a / 2) & (grid < v_th + (K - 0.5) * a)
    torch.testing.assert_close(xg.grad.flatten(), inside.to(dt) / a, rtol=0, atol=0)

# the step on its own: one level, fire and hard reset, state carried as a tuple
o, (u1,) = mlf_step(torch.tensor([0.9, 0.3], dtype=dt), (torch.tensor([0.4, 0.4], dtype=dt),), v_ths=(1.0,), decay=0.3, a=1.0)
torch.testing.assert_close(o, torch.tensor([1.0, 0.0], dtype=dt), rtol=0, atol=0)  # 0.3*0.4+0.9 = 1.02 fires
torch.testing.assert_close(u1, torch.tensor([0.0, 0.42], dtype=dt), rtol=0, atol=1e-15)  # reset / 0.3*0.4+0.3 kept

# %%
fig, ax = plt.subplots(1, 2, figsize=(10, 3.2))
xs = torch.linspace(-0.5, 4.0, 901, dtype=dt)
for K, style in ((1, "--"), (3, "-")):
    xg = xs.clone().view(1, -1).requires_grad_(True)
    o = mlf(xg, v_th=v_th, levels=K, a=a)
    o.sum().backward()
    ax[0].plot(xs, o.detach().flatten(), style, label=f"K={K}")
    ax[1].plot(xs, xg.grad.flatten(), style, label=f"K={K}")
ax[0].set_xlabel("input at t=1"); ax[0].set_ylabel("output spikes $O$"); ax[0].legend()
ax[1].set_xlabel("input at t=1"); ax[1].set_ylabel("surrogate $\\partial O/\\partial X$"); ax[1].legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# Verified: the MLF unit equals a loop written from the official recurrence (hard reset per level, decay 0.25,
# thresholds 0.6/1.6/2.6, output = number of levels firing), and its surrogate gradient is exactly $1/a$ over a window
# $K$ times wider than a single LIF neuron's.
