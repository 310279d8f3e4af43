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
# # Neural architecture search for SNNs without training (Kim et al., ECCV 2022)
# Score a candidate SNN at initialisation by how different the spike patterns of different samples are, using a
# Hamming-distance kernel that corrects for how sparse the spikes are; keep the architecture with the highest score.

# %%
import itertools
import math

import matplotlib.pyplot as plt
import torch

from snnref.models.snasnet import snas_score, sparsity_aware_kernel
from snnref.neuron import lif_step, multi_step
from snnref.surrogate import atan_spike

torch.manual_seed(0)
dt = torch.float64

# %% [markdown]
# **Claim 1 (the kernel, against its definition).** For binary patterns $c_i$ with rates $p_i$:
# $K_{ij} = N - \frac12 d_H(c_i, c_j)/(p_i(1-p_j) + (1-p_i)p_j + \epsilon)$, with $d_H$ counted bit by bit; the diagonal
# is $N$ (a pattern is at distance 0 from itself) and the kernel is symmetric.

# %%  catches: plain Hamming kernel, rates of the wrong sample, one direction of the distance missing
B, N = 6, 25
x = (torch.rand(B, N, dtype=dt) < torch.linspace(0.1, 0.7, B, dtype=dt)[:, None]).to(dt)
K = sparsity_aware_kernel(x)
assert isinstance(K, torch.Tensor) and K.shape == (B, B)  # catches: the distance term dropped (a bare N returned)
for i, j in itertools.product(range(B), range(B)):
    d = sum(int(x[i, n] != x[j, n]) for n in range(N))
    pi, pj = x[i].mean().item(), x[j].mean().item()
    ref = N - 0.5 * d / (pi * (1 - pj) + (1 - pi) * pj + 1e-3)
    assert abs(K[i, j].item() - ref) < 1e-9
torch.testing.assert_close(K.diagonal(), torch.full((B,), float(N), dtype=dt), rtol=0, atol=0)
torch.testing.assert_close(K, K.T, rtol=0, atol=1e-12)
# activations are binarised first (> 0 counts as a spike), as in the official hook
torch.testing.assert_close(sparsity_aware_kernel(1.7 * x - 0.2 * (1 - x)), K, rtol=0, atol=1e-12)

# %% [markdown]
# **Claim 2 (sparsity awareness).** For independent random patterns with firing rate $p$, the expected Hamming
# distance is $2p(1-p)N$, so the off-diagonal kernel is about $N/2$ whatever $p$ is; the plain Hamming kernel $N - d_H$
# instead drifts towards $N$ as spikes get sparse, making sparse layers look as if every sample were alike.

# %%  catches: normalisation by the wrong expectation, missing factor 1/2
N2 = 4000
for p in (0.05, 0.2, 0.5):
    pat = (torch.rand(40, N2, dtype=dt) < p).to(dt)
    Kp = sparsity_aware_kernel(pat)
    off = Kp[~torch.eye(40, dtype=torch.bool)]
    plain = (N2 - (pat @ (1 - pat).T + (1 - pat) @ pat.T))[~torch.eye(40, dtype=torch.bool)]
    assert abs(off.mean().item() / N2 - 0.5) < 0.01  # about N/2 for every sparsity level
    print(f"p={p}: sparsity-aware {off.mean().item() / N2:.3f} N, plain {plain.mean().item() / N2:.3f} N")
    if p == 0.05:
        assert plain.mean().item() / N2 > 0.88  # the plain kernel calls sparse patterns similar

# %% [markdown]
# **Claim 3 (the score rejects architectures that cannot tell samples apart).** Two toy one-layer LIF
# "architectures" (core `lif_step`, untrained) see the same batch: one whose input currents keep neurons in their
# sensitive range, one whose small gain and large bias make every sample fire the same pattern. Averaging the kernel
# over time steps, the first gets a finite $\log|\det\bar K|$ and the second $-\infty$ (identical rows make $\bar K$
# singular); the score is the log-determinant of the *time-averaged* kernel.

# %%  catches: score computed from a single kernel, sign of the log-determinant
xb = torch.randn(16, 30, dtype=dt)
W = torch.randn(60, 30, dtype=dt) / 30**0.5


def kernels(gain: float, bias: float = 0.0) -> list[torch.Tensor]:
    cur = (gain * xb @ W.T + bias)[None].expand(5, -1, -1)  # T = 5 time steps, as in SNASNet
    spikes, _ = multi_step(lif_step, cur, tau=2.0, v_th=1.0)
    return [sparsity_aware_kernel(s) for s in spikes]


good, saturated = snas_score(kernels(2.5)), snas_score(kernels(0.2, bias=2.5))
print(f"score: balanced {good.item():.2f}, all-alike {saturated.item():.2f}")
assert torch.isfinite(good) and good > 0 and saturated.item() == float("-inf")
same = torch.ones(8, 30, dtype=dt)
same[:, :10] = 0
assert snas_score([sparsity_aware_kernel(same)]).item() == float("-inf")  # all samples alike: singular kernel
k1, k2 = kernels(2.5)[:2]
torch.testing.assert_close(snas_score([k1, k2]), torch.linalg.slogdet((k1 + k2) / 2).logabsdet, rtol=1e-12, atol=0)
# the score is differentiable in the kernels: d log|det K_bar| / dK_l = K_bar^{-T} / L for L averaged kernels
kg = [k1.clone().requires_grad_(True), k2.clone().requires_grad_(True)]
sc = snas_score(kg)
assert sc.requires_grad  # catches: a detached score
sc.backward()
for kk in kg:
    torch.testing.assert_close(kk.grad, torch.linalg.inv((k1 + k2) / 2).T / 2, rtol=1e-9, atol=1e-12)
try:
    snas_score([])
    raise AssertionError("an empty kernel list must be rejected")
except ValueError:
    pass

# %% [markdown]
# **Claim 4 (the LIF neuron of the searched SNNs trains by surrogate gradients).** One hard-reset LIF step
# ($H = V + (X - V)/\tau$, $S = \Theta(H - V_{th})$, $V_{reset} = 0$) with the arctan surrogate
# $g'(u) = \frac{\alpha/2}{1 + (\frac{\pi}{2}\alpha u)^2}$ has $\partial S/\partial X = g'(H - V_{th})/\tau$, checked by
# autograd against this closed form.

# %%  catches: a detached charge (no gradient reaches the weights), leak factor in the backward pass
tau_l = 2.5  # not 2: at tau=2, 1/tau == 1 - 1/tau
v_prev = torch.tensor([0.2, -0.1, 0.6, 0.9], dtype=dt)
xl = torch.tensor([1.5, 0.4, 2.0, 0.1], dtype=dt, requires_grad=True)
alpha = 3.0  # not 2: at alpha=2, alpha/2 == 1
sl, _ = lif_step(xl, v_prev, tau=tau_l, v_th=1.0, spike_fn=lambda u: atan_spike(u, alpha))
assert sl.requires_grad  # catches: detached charge
gl, = torch.autograd.grad(sl.sum(), xl)
hl = v_prev + (xl.detach() - v_prev) / tau_l
gprime = (alpha / 2) / (1 + (math.pi * alpha * (hl - 1.0) / 2) ** 2)  # arctan surrogate g'(H - V_th), written out
torch.testing.assert_close(gl, gprime / tau_l, rtol=1e-12, atol=0)

# %%
fig, ax = plt.subplots(1, 2, figsize=(9, 3.3))
ax[0].imshow(torch.stack(kernels(2.5)).mean(0).numpy(), cmap="viridis")
ax[0].set_title("mean kernel, balanced layer")
ax[1].imshow(torch.stack(kernels(0.2, bias=2.5)).mean(0).numpy(), cmap="viridis")
ax[1].set_title("mean kernel, all samples alike")
plt.tight_layout()
plt.show()

# %% [markdown]
# Verified: the sparsity-aware Hamming kernel equals its definition bit by bit (diagonal $N$, symmetric), stays near
# $N/2$ for random patterns of any sparsity while the plain kernel does not, and the log-determinant score of the
# time-averaged kernel is finite for a toy LIF layer that separates samples and $-\infty$ for one that cannot, with
# the analytic gradient $\bar K^{-T}/L$; the LIF step's surrogate gradient equals its closed form.
