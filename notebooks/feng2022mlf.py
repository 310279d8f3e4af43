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
# Checked with $a = 0.7$. Over two steps the gradient also flows through each level's hard reset: with
# $z^k_t = H^k_t - V^k_{th}$ and $g'$ the box, $\partial O_2/\partial X_2 = \sum_k g'(z^k_2)$ and
# $\partial O_2/\partial X_1 = \sum_k g'(z^k_2)\,\lambda\,\big((1 - S^k_1) - H^k_1 g'(z^k_1)\big)$.

# %%  catches: surrogate windows not centred on each level, wrong width, levels overlapping
a, v_th = 0.7, 0.6  # a != 1 so that the spacing k*a is tested
grid = torch.linspace(-1.0, 4.0, 1001, dtype=dt)
edge = (grid - v_th) / a * 2
grid = grid[(edge - edge.round()).abs() > 1e-6]  # avoid the window edges, where rounding decides
for K in (1, 3):
    xg = grid.clone().view(1, -1).requires_grad_(True)
    og = mlf(xg, v_th=v_th, levels=K, a=a)
    assert og.requires_grad  # catches: a detached charge, spike function or output
    og.sum().backward()
    inside = (grid >= v_th - a / 2) & (grid < v_th + (K - 0.5) * a)
    torch.testing.assert_close(xg.grad.flatten(), inside.to(dt) / a, rtol=0, atol=0)

# two steps, K = 2 levels (thresholds 0.6 and 1.3), decay 0.25: the gradient through the reset, in closed form
lam = 0.25
x12 = torch.tensor([[0.5, 0.8, 0.3, 1.2, 1.45], [0.55, 0.7, 0.2, 0.9, 1.1]], dtype=dt, requires_grad=True)
c12 = torch.tensor([[0.3, -0.7, 1.1, 0.5, 0.8], [1.2, 0.4, -0.9, 0.6, -1.3]], dtype=dt)
o12 = mlf(x12, v_th=v_th, levels=2, decay=lam, a=a)
assert o12.requires_grad
(o12 * c12).sum().backward()
x1_, x2_ = x12.detach()
box = lambda z: ((z.abs() < a / 2).to(dt) / a)  # noqa: E731  the rectangular surrogate's derivative
want1, want2 = torch.zeros(5, dtype=dt), torch.zeros(5, dtype=dt)
for vk in (v_th, v_th + a):
    h1 = x1_
    s1 = (h1 >= vk).to(dt)
    h2 = lam * h1 * (1 - s1) + x2_
    for z in (h1 - vk, h2 - vk):  # margins from the box edges and the threshold
        assert ((z.abs() - a / 2).abs() > 0.02).all() and (z.abs() > 0.02).all()
    want1 += c12[0] * box(h1 - vk) + c12[1] * box(h2 - vk) * lam * ((1 - s1) - h1 * box(h1 - vk))
    want2 += c12[1] * box(h2 - vk)
torch.testing.assert_close(x12.grad, torch.stack([want1, want2]), rtol=1e-12, atol=1e-15)  # catches: reset cut from the graph
assert (x12.grad[0] != c12[0] * sum(box(x1_ - vk) for vk in (v_th, v_th + a))).any()  # the reset term matters here

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
