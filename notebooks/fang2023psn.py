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
# # PSN: parallel spiking neurons (Fang et al., NeurIPS 2023)
# Without a reset, a spiking neuron's charge is linear in its input sequence, so all $T$ steps are one matrix
# product $H = WX$ followed by $S = \Theta(H - B)$, with learnable $W$ and thresholds $B$.

# %%
import math
from functools import partial

import matplotlib.pyplot as plt
import torch

from snnref.neuron import lif_step, multi_step
from snnref.surrogate import atan_spike
from snnref.training.psn import band_mask, masked_psn_weight, psn, sliding_psn_weight

torch.set_default_dtype(torch.float64)
SPIKE = partial(atan_spike, alpha=2.5)
g = torch.Generator().manual_seed(5)
T, B, N = 9, 3, 4

# %% [markdown]
# **Claim 1 (PSN contains the reset-free LIF).** With $W[t, s] = \lambda^{t-s}$ for $s \le t$ (0 above the diagonal) and
# $B = V_{th}$, $H = WX$ is the potential of an LIF neuron without reset, $H_t = \lambda H_{t-1} + X_t$, and the PSN fires
# exactly where that neuron's potential crosses $V_{th}$ — compared with the core's `lif_step` run step by step with
# firing disabled. The whole sequence uses one call of the fire step. Since $W$ and $B$ are learned, their surrogate
# gradients are checked too: $\partial L/\partial X = W^\top\delta$, $\partial L/\partial W = \sum \delta X^\top$,
# $\partial L/\partial B_t = -\sum \delta_t$ with $\delta = G \odot g'(H - B)$.

# %%  catches: W applied transposed (anti-causal), the threshold broadcast over the wrong axis
lam, v_th = 0.71, 0.9
x = torch.rand(T, B, N, generator=g)
idx = torch.arange(T, dtype=torch.float64)
W_lif = torch.tril(lam ** (idx.view(T, 1) - idx.view(1, T)))
_, states = multi_step(lif_step, x, tau=1 / (1 - lam), v_th=math.inf, decay_input=False, spike_fn=SPIKE)
h_lif = torch.stack(states)  # reset-free potential, step by step
assert ((h_lif - v_th).abs() > 1e-9).all()
calls = []
s = psn(x, weight=W_lif, threshold=torch.full((T,), v_th), spike_fn=lambda z: calls.append(1) or SPIKE(z))
torch.testing.assert_close(s, (h_lif >= v_th).double(), rtol=0, atol=0)
assert 0 < s.mean() < 1 and len(calls) == 1  # one parallel fire step for all T
# per-step thresholds: B[t] applies to step t
Bt = torch.linspace(0.4, 2.0, T)
s2 = psn(x, weight=W_lif, threshold=Bt, spike_fn=SPIKE)
torch.testing.assert_close(s2, (h_lif >= Bt.view(T, 1, 1)).double(), rtol=0, atol=0)
# W and B are learned: with the surrogate g'(z) = (alpha/2)/(1 + (pi/2 alpha z)^2) (written here) and upstream gradient G,
# dL/dX = W^T (G * g'(H - B)), dL/dW = sum_{b,n} (G * g'(H - B)) X^T, dL/dB = -sum_{b,n} G * g'(H - B)
xg, Wg, Bg = x.clone().requires_grad_(True), torch.randn(T, T, generator=g).requires_grad_(True), Bt.clone().requires_grad_(True)
out = psn(xg, weight=Wg, threshold=Bg, spike_fn=SPIKE)
assert out.requires_grad and out.shape == x.shape  # catches spikes cut from the graph, a threshold on the wrong axis
G = torch.randn(T, B, N, generator=g)
out.backward(G)
with torch.no_grad():
    H = torch.einsum("ts,sbn->tbn", Wg, x)
    H_loop = torch.stack([sum(Wg[t, s_] * x[s_] for s_ in range(T)) for t in range(T)])
    torch.testing.assert_close(H, H_loop, rtol=1e-12, atol=1e-12)
    delta = G * (1.25 / (1 + (0.5 * math.pi * 2.5 * (H - Bt.view(T, 1, 1))) ** 2))
torch.testing.assert_close(xg.grad, torch.einsum("ts,tbn->sbn", Wg.detach(), delta), rtol=1e-10, atol=1e-12)  # W^T, not W
torch.testing.assert_close(Wg.grad, torch.einsum("tbn,sbn->ts", delta, x), rtol=1e-10, atol=1e-12)  # weight gradient
torch.testing.assert_close(Bg.grad, -delta.sum(dim=(1, 2)), rtol=1e-10, atol=1e-12)  # threshold gradient, per step
assert xg.grad[-1].abs().sum() > 0 and Bg.grad.abs().min() > 1e-3  # not vacuous

# %% [markdown]
# **Claim 2 (masked PSN).** $M_k[i, j] = 1$ exactly for $i - k < j \le i$; with $\lambda = 1$ the masked PSN's charge
# $H[t]$ depends only on $X[t-k+1..t]$ (its Jacobian is $W \odot M_k$), and with $\lambda = 0$ it is the full PSN;
# in between the mask is $\lambda M_k + 1 - \lambda$, and the gradient reaching $W$ is masked the same way.

# %%  catches: an off-by-one band (k+1 steps or k-1), mask interpolation reversed in lambda
k = 3
M = band_mask(T, k)
for i in range(T):
    for j in range(T):
        assert M[i, j].item() == (1.0 if (j <= i and i - j <= k - 1) else 0.0)
W = torch.randn(T, T, generator=g)
jac = torch.autograd.functional.jacobian(lambda v: masked_psn_weight(W, k=k, lam=1.0) @ v, torch.rand(T, generator=g))
torch.testing.assert_close(jac, W * M, rtol=0, atol=0)
torch.testing.assert_close(masked_psn_weight(W, k=k, lam=0.0), W, rtol=0, atol=0)
torch.testing.assert_close(masked_psn_weight(W, k=k, lam=0.3), W * (0.3 * M + 0.7), rtol=1e-15, atol=0)
# W stays learnable through the mask: dL/dW = G * (lam M_k + 1 - lam)
Wr = W.clone().requires_grad_(True)
Wm = masked_psn_weight(Wr, k=k, lam=0.3)
assert Wm.requires_grad  # catches a masked weight cut from the graph (W would never be trained)
Gm = torch.randn(T, T, generator=g)
(gW,) = torch.autograd.grad((Wm * Gm).sum(), Wr)
torch.testing.assert_close(gW, Gm * (0.3 * M + 0.7), rtol=1e-15, atol=0)
for bad in [0, T + 1]:
    try:
        band_mask(T, bad)
    except ValueError as e:
        assert "k" in str(e)
    else:
        raise AssertionError(bad)
assert band_mask(T, T).sum() == T * (T + 1) / 2 and band_mask(T, 1).equal(torch.eye(T))

# %% [markdown]
# **Claim 3 (sliding PSN).** The sliding PSN's matrix realizes $H[t] = \sum_{i=0}^{k-1} w_i X[t-k+1+i]$ (terms before
# the start dropped), so the same $k$ weights apply at every step and the neuron works for any sequence length;
# with $w = (\dots, \frac14, \frac12, 1)$ (the official exponential initialization) it is a reset-free LIF with
# $\lambda = \frac12$ truncated to $k$ steps.

# %%  catches: weights reversed in time, a window shifted by one step
w = torch.randn(4, generator=g)
for T2 in [3, 4, 7, 11]:  # also shorter than the window k = 4
    X = torch.randn(T2, 5, generator=g)
    W_sl = sliding_psn_weight(w, T2)
    assert W_sl.shape == (T2, T2)  # catches a malformed matrix (a band built on the wrong axis)
    H = W_sl @ X
    for t in range(T2):
        ref = sum(w[i] * X[t - 4 + 1 + i] for i in range(4) if t - 4 + 1 + i >= 0)
        torch.testing.assert_close(H[t], ref, rtol=1e-12, atol=1e-12)
w_exp = 0.5 ** torch.arange(3, -1, -1, dtype=torch.float64)  # (1/8, 1/4, 1/2, 1)
torch.testing.assert_close(sliding_psn_weight(w_exp, T) , torch.tril(0.5 ** (idx.view(T, 1) - idx.view(1, T))) * band_mask(T, 4),
                           rtol=0, atol=0)
wg = w.clone().requires_grad_(True)
sliding_psn_weight(wg, 7).sum().backward()
torch.testing.assert_close(wg.grad, torch.tensor([4.0, 5.0, 6.0, 7.0]), rtol=0, atol=0)  # w_i used 7 - (k - 1 - i) times

fig, ax = plt.subplots(1, 3, figsize=(11, 3))
for a, (m, title) in zip(ax, [(W_lif, r"PSN = reset-free LIF"), (masked_psn_weight(torch.ones(T, T), k=3, lam=0.6), r"mask, $k=3$, $\lambda=0.6$"),
                             (sliding_psn_weight(w_exp, T), "sliding PSN, k=4")]):
    a.imshow(m.detach(), cmap="viridis"); a.set_title(title, fontsize=9); a.set_xlabel("s"); a.set_ylabel("t")
plt.tight_layout(); plt.show()

# %% [markdown]
# Verified: a PSN with an exponential lower-triangular $W$ reproduces the reset-free LIF neuron's spikes in one
# parallel fire step, per-step thresholds apply to their own step, the masked PSN's band mask and $\lambda$
# interpolation are exact, and the sliding PSN's matrix applies the same $k$ weights at every step.
