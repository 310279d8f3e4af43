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
# # SNN-MLP: LIF neurons as token mixers (Li et al., CVPR 2022)
# A full-precision LIF neuron runs along the rows (or columns) of patches, in groups of consecutive patches, so the
# membrane potential carries information from one patch to the next.

# %%
import math

import matplotlib.pyplot as plt
import torch

from snnref.models.snn_mlp import GroupLIF, full_precision_lif_step, group_lif

torch.manual_seed(1)
dt = torch.float64

# %% [markdown]
# **Claim 1 (the operation, against a loop written from its definition).** In each group of `lif` consecutive
# positions along the chosen axis: $H_j = k\,U_{j-1} + X_j$, fire if $H_j > V_{th}$, reset $U_j = 0$ if fired else
# $U_j = H_j$, output $Y_j = H_j$ if fired else $V_{th}$; positions after the last full group pass through. Checked for
# the vertical and horizontal directions, with a size not divisible by the group length, and first with groups of 2 on
# inputs whose axes all have size 2 except the LIF axis (size 4 = 2 groups of 2): every axis of the intermediate
# [position, ..., group, ...] tensor then has size 2, so a reshuffled axis cannot hide behind a shape error.

# %%  catches: wrong decay, reset not to 0, output not full precision, groups of the wrong length, tail dropped
def reference(x, dim, lif, k, v_th):
    y = x.clone()
    xs = x.movedim(dim, -1)
    ys = y.movedim(dim, -1)
    n = xs.shape[-1]
    for idx in torch.cartesian_prod(*[torch.arange(m) for m in xs.shape[:-1]]):
        for g in range(n // lif):
            u = 0.0
            for j in range(g * lif, (g + 1) * lif):
                h = k * u + xs[tuple(idx)][j].item()
                assert abs(h - v_th) > 1e-3  # margin: rounding cannot decide a spike
                fired = h > v_th
                ys[tuple(idx)][j] = h if fired else v_th
                u = 0.0 if fired else h
    return y


k, v_th = 0.31, 0.4
for dim in (2, 3):
    x_cube = torch.randn(*(4 if i == dim else 2 for i in range(4)), dtype=dt)
    y_cube = group_lif(x_cube, dim=dim, lif=2, k=k, v_th=v_th)
    assert y_cube.shape == x_cube.shape
    torch.testing.assert_close(y_cube, reference(x_cube, dim, 2, k, v_th), rtol=0, atol=1e-12)
x = torch.randn(2, 3, 7, 6, dtype=dt)  # H = 7 is not a multiple of lif = 3
for dim in (2, 3):
    torch.testing.assert_close(group_lif(x, dim=dim, lif=3, k=k, v_th=v_th), reference(x, dim, 3, k, v_th), rtol=0, atol=1e-12)
torch.testing.assert_close(GroupLIF(dim=3, lif=4, k=k, v_th=v_th)(x), reference(x, 3, 4, k, v_th), rtol=0, atol=1e-12)
for bad in (dict(dim=1), dict(dim=2, lif=0), dict(dim=2, k=1.0), dict(dim=2, k=-0.1)):
    try:
        GroupLIF(**bad)
        raise AssertionError(f"{bad} must be rejected")
    except ValueError:
        pass  # catches: missing constructor validation

# %% [markdown]
# **Claim 2 (closed form of one group).** With $k = 0.27$, $V_{th} = 1$ and inputs $(0.3, 0.2, 0.1, 2.0)$ only the last
# position fires, so $Y = (1, 1, 1, \sum_{i} k^{3-i} X_i)$, the leaky sum of the whole group. A firing position resets
# the chain: with inputs $(1.5, 0.5, \dots)$ the second output sees $U_0 = 0$, so $Y_1 = \max(0.5, V_{th}) = 1$ and
# not $0.5 + 1.5k$.

# %%  catches: leak applied to the input, reset that keeps the potential, output clipped instead of passed
k2 = 0.27
xg = torch.tensor([0.3, 0.2, 0.1, 2.0], dtype=dt).view(1, 1, 1, 4)
leaky_sum = sum(k2 ** (3 - i) * v for i, v in enumerate([0.3, 0.2, 0.1, 2.0]))
expected = torch.tensor([1.0, 1.0, 1.0, leaky_sum], dtype=dt).view(1, 1, 1, 4)
torch.testing.assert_close(group_lif(xg, dim=3, lif=4, k=k2, v_th=1.0), expected, rtol=0, atol=1e-14)
xr = torch.tensor([1.5, 0.9, 0.2, 0.3], dtype=dt).view(1, 1, 4, 1)
yr = group_lif(xr, dim=2, lif=4, k=k2, v_th=1.0).flatten()
torch.testing.assert_close(yr, torch.tensor([1.5, 1.0, 1.0, 1.0], dtype=dt), rtol=0, atol=1e-14)
# the one-step function on its own: H = kU + X, and the reset identity U = H(1 - S)
y1, u1 = full_precision_lif_step(torch.tensor([0.5, 0.5], dtype=dt), torch.tensor([0.2, 2.0], dtype=dt), k=k2, v_th=1.0)
torch.testing.assert_close(y1, torch.tensor([1.0, 0.5 + 2.0 * k2], dtype=dt), rtol=0, atol=1e-14)
torch.testing.assert_close(u1, torch.tensor([0.5 + 0.2 * k2, 0.0], dtype=dt), rtol=0, atol=1e-14)

# %% [markdown]
# **Claim 3 (communication between patches is local, causal and directional).** The output at position $j$ depends on
# the input at position $i$ only if both lie in the same group along the LIF's axis and $i \le j$; there is no mixing
# across the other axis or across channels. Checked on the full Jacobian (autograd), and the gradient through a
# non-firing chain equals the analytic $\partial Y_j / \partial X_i = k^{j-i}$ at the first firing position.

# %%  catches: mixing across groups, anti-causal order, mixing along the wrong axis
xj = (torch.randn(1, 2, 5, 4, dtype=dt) * 0.8).requires_grad_(True)
assert group_lif(xj, dim=2, lif=2, k=0.45, v_th=0.1).requires_grad  # catches: a detached output
J = torch.autograd.functional.jacobian(lambda t: group_lif(t, dim=2, lif=2, k=0.45, v_th=0.1), xj)
J = J.reshape(2, 5, 4, 2, 5, 4)
for (c, h, w, c2, h2, w2) in torch.cartesian_prod(*[torch.arange(m) for m in (2, 5, 4, 2, 5, 4)]).tolist():
    allowed = c == c2 and w == w2 and h2 <= h and h // 2 == h2 // 2 and h < 4  # h = 4 is the pass-through tail
    allowed = allowed or (c == c2 and w == w2 and h == h2 == 4)
    if not allowed:
        assert J[c, h, w, c2, h2, w2] == 0  # no path outside the group's causal window

xc = torch.tensor([0.3, 0.2, 0.1, 2.0], dtype=dt).view(1, 1, 1, 4).requires_grad_(True)
yc = GroupLIF(dim=3, lif=4, k=k2, v_th=1.0)(xc)  # the module, as used in the network
assert yc.requires_grad  # catches: a detached module output
yc[..., 3].sum().backward()
torch.testing.assert_close(xc.grad.flatten(), torch.tensor([k2**3, k2**2, k2, 1.0], dtype=dt), rtol=0, atol=1e-14)

# %%
xs = torch.linspace(-0.2, 1.4, 16, dtype=dt).view(1, 1, 1, 16) + 0.3 * torch.sin(torch.arange(16.0, dtype=dt))
ys = group_lif(xs, dim=3, lif=4, k=0.6, v_th=0.9)
plt.figure(figsize=(6, 3))
plt.step(range(16), xs.flatten(), where="mid", label="input $X_j$")
plt.step(range(16), ys.flatten(), where="mid", label="output $Y_j$")
for g in range(1, 4):
    plt.axvline(4 * g - 0.5, color="gray", lw=0.6)
plt.axhline(0.9, ls=":", color="k", lw=0.8, label="$V_{th}$")
plt.xlabel("patch position along the row (groups of 4)"); plt.legend(); plt.tight_layout()
plt.show()

# %% [markdown]
# Verified: the group LIF equals a loop written from the operation's definition in both directions (including the
# pass-through tail), matches the closed-form leaky sum and the reset of one group, and mixes tokens only within a
# group, causally, along one axis, with the analytic gradient $k^{j-i}$ through a non-firing chain.
