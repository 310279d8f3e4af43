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
# # Certified bounds for spiking networks, S-IBP (Liang et al., NeurIPS 2022)
# Interval bounds pushed through linear layers and LIF neurons over time: a sound over-approximation of every spike
# the network can emit under a bounded input perturbation.

# %%
import matplotlib.pyplot as plt
import torch

from snnref.models.sibp import ibp_lif, ibp_linear
from snnref.neuron import lif_step, multi_step
from snnref.surrogate import heaviside

torch.manual_seed(0)
DT = torch.float64
T, D, Hd, C = 6, 10, 24, 4
TAU, VTH = 1.6, 0.8
W1, b1 = torch.randn(D, Hd, dtype=DT) * 0.6, torch.randn(Hd, dtype=DT) * 0.1
W2, b2 = torch.randn(Hd, C, dtype=DT) * 0.7, torch.zeros(C, dtype=DT)


def forward(x):  # x [..., D] static input repeated over T; returns (hidden spikes, hidden V, output spike counts)
    xs = (x @ W1 + b1).expand(T, *x.shape[:-1], Hd)
    s1, v1 = multi_step(lif_step, xs, tau=TAU, v_th=VTH, v_reset=0.0, decay_input=False, spike_fn=heaviside)
    s2, _ = multi_step(lif_step, s1 @ W2 + b2, tau=TAU, v_th=VTH, v_reset=0.0, decay_input=False, spike_fn=heaviside)
    return s1, torch.stack(v1), s2.sum(0)


def bounds(x, eps):
    lo1, hi1 = ibp_linear(x - eps, x + eps, W1, b1)
    s1_lo, s1_hi, v1_lo, v1_hi = ibp_lif(lo1.expand(T, *lo1.shape), hi1.expand(T, *hi1.shape), tau=TAU, v_th=VTH)
    lo2, hi2 = ibp_linear(s1_lo, s1_hi, W2, b2)
    s2_lo, s2_hi, _, _ = ibp_lif(lo2, hi2, tau=TAU, v_th=VTH)
    return s1_lo, s1_hi, v1_lo, v1_hi, s2_lo.sum(0), s2_hi.sum(0)


x0 = torch.randn(8, D, dtype=DT)

# %% [markdown]
# **Claim 1.** With no perturbation ($\epsilon = 0$) the bounds collapse onto the exact forward pass of the network (core
# `lif_step` with hard reset, leak factor $\lambda = 1 - 1/\tau$ applied to the potential only): lower = upper = the
# actual spikes and membrane potentials. Oracle: the forward pass itself, through the core.

# %%  catches: wrong leak, soft reset, a bound shifted or scaled
s1, v1, cnt = forward(x0)
s1_lo, s1_hi, v1_lo, v1_hi, c_lo, c_hi = bounds(x0, 0.0)
for a in (s1_lo, s1_hi):
    torch.testing.assert_close(a, s1, rtol=0, atol=0)
for a in (v1_lo, v1_hi):
    torch.testing.assert_close(a, v1, rtol=1e-12, atol=1e-12)
torch.testing.assert_close(c_lo, cnt, rtol=0, atol=0)
torch.testing.assert_close(c_hi, cnt, rtol=0, atol=0)
assert 0.1 < s1.mean() < 0.9  # neurons do cross threshold

# %% [markdown]
# **Claim 2.** Soundness, the property certified training relies on: for $\|\delta\|_\infty \le \epsilon$, every spike, membrane
# potential and output count of the perturbed network lies inside the propagated bounds. Oracle: 400 random and
# corner perturbations per input, run through the real network.

# %%  catches: unstable neurons bounded as if stable, |W| replaced by W, bounds of the reset too tight
for eps in (0.02, 0.08, 0.25):
    s1_lo, s1_hi, v1_lo, v1_hi, c_lo, c_hi = bounds(x0, eps)
    delta = (torch.rand(400, *x0.shape, dtype=DT) * 2 - 1) * eps
    delta[:100] = torch.sign(delta[:100]) * eps  # corners of the box
    s1p, v1p, cntp = forward(x0 + delta)  # [T, 400, 8, Hd] etc.
    tol = 1e-12
    assert ((s1p >= s1_lo.unsqueeze(1)) & (s1p <= s1_hi.unsqueeze(1))).all()
    assert ((v1p >= v1_lo.unsqueeze(1) - tol) & (v1p <= v1_hi.unsqueeze(1) + tol)).all()
    assert ((cntp >= c_lo) & (cntp <= c_hi)).all()
    if eps == 0.08:
        unstable_frac = (s1_hi - s1_lo).mean().item()
        assert 0 < unstable_frac < 0.5  # some neurons are uncertain, not all
        assert (v1p.amin(0) < v1p.amax(0)).any()  # the perturbation really moves the potentials

# %% [markdown]
# **Claim 3.** Bounds are monotone in the perturbation size (nested boxes give nested bounds) and a positive certified
# margin, $\underline{c}_y - \max_{k\ne y}\overline{c}_k > 0$ on the output spike counts, guarantees that no perturbation
# in the box changes the prediction, which is what certified training maximises.

# %%  catches: bounds that shrink with eps, a certificate that is not a guarantee
prev = None
for eps in (0.0, 0.01, 0.05, 0.15, 0.4):
    b = bounds(x0, eps)
    width = (b[5] - b[4]).sum().item()
    if prev is not None:
        assert ((b[4] <= prev[4]) & (b[5] >= prev[5])).all() and width >= prev_w
    prev, prev_w = b, width
_, _, cnt0 = forward(x0)
y = cnt0.argmax(1)
eps = 0.03
_, _, _, _, c_lo, c_hi = bounds(x0, eps)
other = c_hi.clone()
other[torch.arange(len(y)), y] = -1
margin = c_lo[torch.arange(len(y)), y] - other.max(1).values
certified = margin > 0
delta = (torch.rand(300, *x0.shape, dtype=DT) * 2 - 1) * eps
_, _, cntp = forward(x0 + delta)
flips = (cntp.argmax(-1) != y).any(0)
assert not (certified & flips).any()  # certified inputs never flip
print(f"certified {int(certified.sum())}/{len(y)} inputs at eps={eps}")
try:
    ibp_lif(x0[None], x0[None], tau=0.5)
    raise AssertionError("tau < 1 accepted")  # catches: missing validation
except ValueError:
    pass

# %%
eps_grid = [0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4]
unst = [(lambda b: (b[1] - b[0]).mean().item())(bounds(x0, e)) for e in eps_grid]
plt.plot(eps_grid, unst, "o-"); plt.xlabel(r"$\epsilon$"); plt.ylabel("fraction of uncertain hidden spikes")
plt.title("S-IBP: uncertainty grows with the perturbation"); plt.show()

# %% [markdown]
# Verified: S-IBP bounds reduce to the exact forward pass at zero perturbation, contain every sampled perturbed
# trajectory (spikes, potentials, counts), grow monotonically with the perturbation, and a positive certified margin
# is never contradicted by a sampled attack.
