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
# # SpikeDHS: differentiable surrogate gradient search (Che et al., NeurIPS 2022)
# Each layer searches its surrogate temperature $b$ locally: candidate copies trained with $b_k = b + k\delta$ feed their
# membrane inputs through a softmax-weighted mix $\hat h = \sum_k \mathrm{softmax}(\alpha)_k h_k$, and the layer moves to
# the candidate with the largest $\alpha_k$.

# %%
import math

import matplotlib.pyplot as plt
import torch

from snnref.neuron import multi_step
from snnref.training.dgs import dgs_candidates, dgs_lif_step, dgs_select, mixed_membrane_input
from snnref.training.dspike import dspike_grad

torch.set_default_dtype(torch.float64)
DECAY, V_TH = 0.3, 0.5  # the official code: decay 0.2, threshold 0.5 (Dspike's window is [V_th - 1/2, V_th + 1/2])


def h_dspike(x, b):
    """Dspike's derivative from its closed form, independent of snnref."""
    inside = (x.abs() <= 0.5).double()
    return inside * b / (2 * math.tanh(b / 2)) * (1 - torch.tanh(b * x) ** 2)


# %% [markdown]
# **Claim 1 (mixed operation at the membrane input).** $\hat h = \sum_k p_k h_k$ with $p = \mathrm{softmax}(\alpha)$, and
# for any loss the architecture gradient is the softmax Jacobian
# $$\frac{\partial L}{\partial \alpha_k} = p_k\left(\Big\langle \frac{\partial L}{\partial \hat h}, h_k\Big\rangle -
#   \sum_i p_i \Big\langle \frac{\partial L}{\partial \hat h}, h_i\Big\rangle\right);$$
# equal $\alpha$ give the plain mean, and a dominant $\alpha_k$ selects $h_k$.

# %%  catches: weights not normalised, softmax over the wrong axis, mixing the wrong dimension, alpha detached
g = torch.Generator().manual_seed(8)
K, B, N = 5, 3, 4
h = torch.randn(K, B, N, generator=g)
alpha = torch.randn(K, generator=g).requires_grad_(True)
mix = mixed_membrane_input(h, alpha)
assert mix.requires_grad  # catches a mix detached from alpha
p = torch.exp(alpha.detach()) / torch.exp(alpha.detach()).sum()
ref = sum(p[k] * h[k] for k in range(K))
torch.testing.assert_close(mix.detach(), ref, rtol=1e-12, atol=1e-14)  # softmax-weighted sum of candidate inputs
c = torch.randn(B, N, generator=g)
(c * mix).sum().backward()
inner = torch.tensor([(c * h[k]).sum().item() for k in range(K)])
torch.testing.assert_close(alpha.grad, p * (inner - (p * inner).sum()), rtol=1e-10, atol=1e-12)  # softmax Jacobian
torch.testing.assert_close(mixed_membrane_input(h, torch.full((K,), 0.7)), h.mean(0), rtol=1e-12, atol=1e-14)  # mean
one_hot = torch.tensor([0.0, 0.0, 0.0, 40.0, 0.0])
torch.testing.assert_close(mixed_membrane_input(h, one_hot), h[3], rtol=1e-12, atol=1e-12)  # a dominant alpha selects

# %% [markdown]
# **Claim 2 (candidate set and selection).** The candidates are $b_k = b + k\delta$, $k = -n..n$ (the official code:
# $\delta = 0.2$, $n = 2$, so $b \pm 0.2$ and $b \pm 0.4$ around $b$); the next temperature is $b_{\arg\max\alpha}$. Every
# candidate's Dspike derivative has unit area and peak $\frac{b_k}{2\tanh(b_k/2)}$: larger $b$, sharper surrogate.

# %%  catches: an asymmetric or shifted candidate set, argmin instead of argmax, an off-by-one in the selection
cands = dgs_candidates(3.0, delta=0.2, n=2)
assert len(cands) == 5 and all(math.isclose(a, e, rel_tol=1e-12) for a, e in zip(cands, [2.6, 2.8, 3.0, 3.2, 3.4]))
cands3 = dgs_candidates(1.7, delta=0.35, n=3)
assert all(math.isclose(a, 1.7 + k * 0.35, rel_tol=1e-12) for a, k in zip(cands3, range(-3, 4)))  # b + k delta
for k_best in range(5):
    a = torch.zeros(5); a[k_best] = 0.3
    assert math.isclose(dgs_select(3.0, a, delta=0.2, n=2), cands[k_best], rel_tol=1e-12)  # argmax picks its candidate
x = torch.linspace(-0.7, 0.7, 140001)
fig, ax = plt.subplots(1, 2, figsize=(10, 3))
for bk in cands:
    gk = dspike_grad(x, bk)
    torch.testing.assert_close(gk, h_dspike(x, bk), rtol=1e-12, atol=1e-14)  # the surrogate being searched
    assert math.isclose(torch.trapezoid(gk, x).item(), 1.0, abs_tol=1e-3)  # unit area for every candidate
    ax[0].plot(x[::500], gk[::500], label=f"$b$ = {bk:.1f}")
peaks = [bk / (2 * math.tanh(bk / 2)) for bk in cands]
assert all(q2 > q1 for q1, q2 in zip(peaks, peaks[1:]))  # sharper with larger b
ax[0].set_xlabel("$u - V_{th}$"); ax[0].set_ylabel("Dspike derivative"); ax[0].legend(fontsize=7)

# %% [markdown]
# **Claim 3 (the searched layer).** Driven by the mixed input, the layer is the iterative LIF
# $u^t = \lambda u^{t-1}(1 - o^{t-1}) + \hat h^t$, $o^t = [u^t \ge V_{th}]$ (decay $\lambda$, reset to 0), and the gradient
# reaching $\alpha$ through one step is $\frac{\partial L}{\partial \hat h} = c\,\mathrm{Dspike}_b'(\hat h - V_{th})$ fed into the
# softmax Jacobian of Claim 1, with the temperature $b$ of the current layer.

# %%  catches: the wrong decay or reset, b not passed to the surrogate, alpha not reaching the neuron
T = 12
hs = 0.3 * torch.rand(T, K, B, N, generator=g) + 0.15  # candidate membrane inputs over time [T, K, B, N]
al = torch.tensor([0.2, -0.4, 0.9, 0.1, -0.3])
spk, vs = multi_step(dgs_lif_step, hs, torch.zeros(B, N), alpha=al, b=3.0, decay=DECAY, v_th=V_TH)
pa = torch.softmax(al, 0)
u_prev, o_prev = torch.zeros(B, N), torch.zeros(B, N)
o_ref = torch.zeros(T, B, N)
for t in range(T):
    u = DECAY * u_prev * (1 - o_prev) + sum(pa[k] * hs[t, k] for k in range(K))
    assert ((u - V_TH).abs() > 1e-6).all()
    o_ref[t] = (u >= V_TH).double()
    u_prev, o_prev = u, o_ref[t]
    torch.testing.assert_close(vs[t], u * (1 - o_ref[t]), rtol=1e-12, atol=1e-14)  # decay and reset to 0
assert 5 <= o_ref.sum() <= 0.7 * o_ref.numel()
torch.testing.assert_close(spk, o_ref, rtol=0, atol=0)  # spikes of the mixed-input LIF
for b in (1.3, 4.6):
    a1 = al.clone().requires_grad_(True)
    o1, _ = dgs_lif_step(hs[0], torch.zeros(B, N), alpha=a1, b=b, decay=DECAY, v_th=V_TH)
    assert o1.requires_grad  # catches spikes detached from alpha
    (c * o1).sum().backward()
    hh = mixed_membrane_input(hs[0], al)
    dh = c * h_dspike(hh - V_TH, b)
    inner = torch.stack([(dh * hs[0, k]).sum() for k in range(K)])
    torch.testing.assert_close(a1.grad, pa * (inner - (pa * inner).sum()), rtol=1e-10, atol=1e-13)  # through Dspike(b)
    assert a1.grad.abs().max() > 1e-4

# %% [markdown]
# **Claim 4 (a toy search).** Five candidate inputs $h_k = h_0 + k\,s$ drive one layer; the target is the spike train
# the candidate $k = +2$ produces (only a mix concentrated on it reproduces it). Gradient descent on $\alpha$ alone
# (surrogate gradients through the layer, 40 steps) makes $\alpha_{+2}$ the largest, so the selection moves $b$ to
# $b + 2\delta$, while a target made by $k = -2$ moves it to $b - 2\delta$.

# %%  catches: a search whose gradient points away from the better candidate, a selection rule off by one
base = 0.3 * torch.rand(T, 1, B, N, generator=g) + 0.22
shift = 0.05 * torch.ones(1, K, 1, 1)
hk = base + shift * torch.arange(-2, 3).double().view(1, K, 1, 1)  # [T, K, B, N]


def search(k_target, steps=40):
    onehot = torch.zeros(K); onehot[k_target] = 40.0
    target, _ = multi_step(dgs_lif_step, hk, torch.zeros(B, N), alpha=onehot, b=3.0, decay=DECAY, v_th=V_TH)
    assert 0.05 < target.mean() < 0.95
    a = torch.zeros(K, requires_grad=True)
    opt = torch.optim.SGD([a], lr=8.0)
    hist = []
    for it in range(steps):
        out, _ = multi_step(dgs_lif_step, hk, torch.zeros(B, N), alpha=a, b=3.0, decay=DECAY, v_th=V_TH)
        loss = ((out - target) ** 2).mean()
        opt.zero_grad(); loss.backward(); opt.step()
        hist.append(a.detach().clone())
    return a.detach(), torch.stack(hist)


a, hist = search(4)
assert int(torch.argmax(a)) == 4 and a[4] > a.sort().values[-2] + 0.2  # the k = +2 candidate wins clearly
assert math.isclose(dgs_select(3.0, a, delta=0.2, n=2), 3.4, rel_tol=1e-12)  # b moves to b + 2 delta
a_low, _ = search(0)
assert int(torch.argmax(a_low)) == 0 and math.isclose(dgs_select(3.0, a_low, delta=0.2, n=2), 2.6, rel_tol=1e-12)
for k in range(K):
    ax[1].plot(hist[:, k], label=f"$\\alpha_{{{k - 2:+d}}}$")
ax[1].set_xlabel("search step"); ax[1].legend(fontsize=7)
plt.tight_layout(); plt.show()

# %% [markdown]
# Verified: the mixed membrane input is the softmax-weighted sum of candidate inputs with the softmax-Jacobian
# architecture gradient, the candidate set and argmax selection follow $b + k\delta$, every candidate is Dspike with
# unit area, the searched layer is the iterative LIF whose surrogate uses the current $b$, and a toy search moves $b$
# towards the candidate that reproduces the target spikes (up or down).
