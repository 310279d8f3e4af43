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
# # STNet: spiking transformers for event-based single object tracking (Zhang et al., CVPR 2022)
# The SNN branch of STNet's feature extractor reads event frames with LIF layers whose firing threshold is set, per
# search frame, from statistics of the transformer branch's spatial features.

# %%
import math

import matplotlib.pyplot as plt
import torch

from snnref.models.stnet import dynamic_threshold, stnet_step
from snnref.neuron import multi_step

torch.manual_seed(0)
dt = torch.float64

# %% [markdown]
# **Claim 1 (the neuron).** $u_t = \lambda u_{t-1}(1 - o_{t-1}) + I_t$, $o_t = \Theta(u_t - V_{th})$, from $u_0 = o_0 = 0$:
# checked against the official update written as a loop (`mem = mem * decay * (1 - spike) + I`) for two decays, and,
# for a constant input $c$ with $c < V_{th} \le c/(1-\lambda)$, against the closed form: the membrane climbs as
# $u_t = c(1 - \lambda^t)/(1 - \lambda)$, first fires at $k = \min\{t: u_t \ge V_{th}\}$, resets, and so fires exactly
# $\lfloor T/k \rfloor$ times in $T$ steps, every $k$ steps.

# %%  catches: wrong leak (1 - decay instead of decay), reset not applied or applied to the wrong step, soft reset
T, v_th = 30, 0.43
I = torch.rand(T, 3, 5, dtype=dt) * 0.6
for decay in (0.2, 0.35):
    spikes, states = multi_step(stnet_step, I, (torch.zeros(3, 5, dtype=dt), torch.zeros(3, 5, dtype=dt)),
                                v_th=v_th, decay=decay)
    mem, spike = torch.zeros(3, 5, dtype=dt), torch.zeros(3, 5, dtype=dt)
    for t in range(T):
        mem = mem * decay * (1 - spike) + I[t]
        spike = (mem > v_th).to(dt)
        torch.testing.assert_close(states[t][0], mem, rtol=1e-12, atol=1e-12)  # pre-reset membrane is the state
        torch.testing.assert_close(spikes[t], spike, rtol=0, atol=0)
    assert 0.1 < spikes.mean().item() < 0.9  # a regime where the reset matters

lam, c, Tc = 0.35, 0.3, 40
u_closed = [c * (1 - lam**t) / (1 - lam) for t in range(1, 10)]
k = next(t for t, u in enumerate(u_closed, start=1) if u >= v_th)
assert k == 3 and u_closed[k - 1] - v_th > 1e-2 and v_th - u_closed[k - 2] > 1e-2  # margins: rounding cannot decide
s_c, st_c = multi_step(stnet_step, torch.full((Tc, 1), c, dtype=dt), (torch.zeros(1, dtype=dt),) * 2,
                       v_th=v_th, decay=lam)
assert s_c.sum().item() == Tc // k  # floor(T / k) spikes
assert torch.nonzero(s_c.flatten()).flatten().tolist() == list(range(k - 1, Tc, k))  # every k steps
torch.testing.assert_close(torch.stack([st_c[t][0] for t in range(2 * k)]).flatten(),
                           torch.tensor(u_closed[:k] * 2, dtype=dt), rtol=1e-12, atol=1e-12)  # climbs again after reset
# default decay is 0.2: u_2 = 0.2 * u_1 + I_2 below threshold
_, st_d = multi_step(stnet_step, torch.tensor([[0.1], [0.2]], dtype=dt), (torch.zeros(1, dtype=dt),) * 2, v_th=v_th)
assert math.isclose(st_d[1][0].item(), 0.2 * 0.1 + 0.2, rel_tol=1e-12)

# %% [markdown]
# **Claim 2 (surrogate gradient and the reset path).** Backward uses the official rectangular window,
# $\partial o/\partial u = [\,|u - V_{th}| < \frac12\,]$, and the reset is not detached, so for two steps
# $\partial u_2/\partial I_1 = \lambda(1 - o_1) - \lambda u_1 [\,|u_1 - V_{th}| < \frac12\,]$. Checked with autograd on
# inputs inside and outside the window, and on both sides of the threshold. The core fires where $u \ge V_{th}$; the
# official code uses $u > V_{th}$ (they differ only at equality, shown here with exact binary fractions).

# %%  catches: wrong window width or height, detached reset, gradient not reaching earlier steps, > vs >=
for u1, note in ((0.40, "inside, no spike"), (0.88, "inside, spike"), (0.95, "outside, spike"), (-0.1, "outside")):
    I1 = torch.tensor([u1], dtype=dt, requires_grad=True)
    I2 = torch.tensor([0.05], dtype=dt)
    o, st = multi_step(stnet_step, torch.stack([I1, I2]), (torch.zeros(1, dtype=dt),) * 2, v_th=v_th, decay=lam)
    o1 = float(u1 > v_th)
    inside = float(abs(u1 - v_th) < 0.5)
    (g_o1,) = torch.autograd.grad(o[0].sum(), I1, retain_graph=True)
    assert g_o1.item() == inside, note  # box of height 1, half-width 1/2
    (g_u2,) = torch.autograd.grad(st[1][0].sum(), I1)
    assert math.isclose(g_u2.item(), lam * (1 - o1) - lam * u1 * inside, rel_tol=1e-12, abs_tol=1e-15), note
o_eq, _ = stnet_step(torch.tensor([0.5], dtype=dt), (torch.zeros(1, dtype=dt),) * 2, v_th=0.5)
assert o_eq.item() == 1.0  # snnref convention: u == V_th fires

# %% [markdown]
# **Claim 3 (the dynamic threshold).** $\bar F = \mathrm{mean}_c(F \odot \mathrm{GAP}(F))$; the batch-mean map is scaled
# to $[0, 255]$, histogrammed into 256 bins of width $255/256$ (the maximum falls in the last bin), $p_i$ = count$/HW$,
# $E = -\sum_i p_i \log(p_i + 10^{-8}) / \#\{p_i > 0\}$ and $V_{th} = 0.3(\mathrm{mean}\,\sigma(\bar F) + 10E)$.
# Checked against a loop over pixels and bins, and against closed forms: $HW$ values in distinct bins give
# $E = \log(HW)/HW$; a map split half-and-half between two values gives $E = \log 2 / 2$.

# %%  catches: GAP over the wrong axes, entropy not divided by the occupied bins, histogram over the batch, wrong constants
def threshold_by_hand(F: torch.Tensor, theta0: float = 0.3, gamma: float = 10.0) -> float:
    B, C, H, W = F.shape
    gap = [[sum(F[b, ch].flatten().tolist()) / (H * W) for ch in range(C)] for b in range(B)]
    fbar = [[[sum(F[b, ch, i, j].item() * gap[b][ch] for ch in range(C)) / C for j in range(W)] for i in range(H)]
            for b in range(B)]
    M = [sum(fbar[b][i][j] for b in range(B)) / B for i in range(H) for j in range(W)]
    lo, hi = min(M), max(M)
    counts = [0] * 256
    for m in M:
        e = (m - lo) / (hi - lo) * 255
        counts[min(int(e / (255 / 256)), 255)] += 1
    p = [n / (H * W) for n in counts]
    ent = sum(-q * math.log(q + 1e-8) for q in p) / sum(1 for q in p if q > 0)
    sig = sum(1 / (1 + math.exp(-fbar[b][i][j])) for b in range(B) for i in range(H) for j in range(W)) / (B * H * W)
    return theta0 * (sig + gamma * ent)


for shape in ((2, 3, 4, 5), (1, 4, 6, 3)):
    F = torch.randn(*shape, dtype=dt) + 0.3
    assert math.isclose(dynamic_threshold(F).item(), threshold_by_hand(F), rel_tol=1e-13)
F = torch.randn(2, 3, 4, 5, dtype=dt)
assert math.isclose(dynamic_threshold(F, theta0=0.7, gamma=3.5).item(), threshold_by_hand(F, 0.7, 3.5), rel_tol=1e-13)
assert not dynamic_threshold(F.clone().requires_grad_(True)).requires_grad  # as in the official code: no gradient

# closed forms, one channel and one sample, so F_bar = F * mean(F)
F12 = (torch.linspace(0, 1, 12, dtype=dt) + 0.5).view(1, 1, 3, 4)
fb = F12 * F12.mean()
want = 0.3 * (torch.sigmoid(fb).mean().item() + 10 * math.log(12) / 12)
assert math.isclose(dynamic_threshold(F12).item(), want, rel_tol=1e-6)  # eps shifts it by ~1e-8
F2 = torch.tensor([[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]], dtype=dt).view(1, 1, 2, 3)
fb2 = F2 * F2.mean()
assert math.isclose(dynamic_threshold(F2).item(), 0.3 * (torch.sigmoid(fb2).mean().item() + 10 * math.log(2) / 2),
                    rel_tol=1e-6)

# %% [markdown]
# **Claim 4 (the threshold gates the temporal feature).** On the same event input, a feature map with a more spread-out
# (higher-entropy) spatial statistic gives a higher threshold and fewer spikes; the temporal feature, the mean membrane
# $\frac1T\sum_t u_t$, equals the loop's; and carrying the state $(u, o)$ from one event window to the next (as the
# tracker does between frames) equals one run over both windows.

# %%  catches: threshold not reaching the neuron, state dropped between windows
flat = torch.ones(1, 2, 4, 4, dtype=dt)
flat[..., 0, 0] = 1.2  # two occupied bins, one of them almost everything: low entropy
spread = torch.linspace(0.5, 1.5, 16, dtype=dt).view(1, 1, 4, 4).repeat(1, 2, 1, 1)  # 16 bins: high entropy
th_low, th_high = dynamic_threshold(flat), dynamic_threshold(spread)
assert th_high > th_low + 0.1
x_ev = torch.rand(20, 1, 8, 8, dtype=dt) * 1.2
zero = (torch.zeros(1, 8, 8, dtype=dt),) * 2
n_low = multi_step(stnet_step, x_ev, zero, v_th=th_low)[0].sum()
n_high = multi_step(stnet_step, x_ev, zero, v_th=th_high)[0].sum()
assert n_high < n_low and n_low > 0

_, st_all = multi_step(stnet_step, x_ev, zero, v_th=0.61)
feat = torch.stack([s[0] for s in st_all]).mean(0)
mem, spike, acc = torch.zeros(1, 8, 8, dtype=dt), torch.zeros(1, 8, 8, dtype=dt), 0
for t in range(20):
    mem = mem * 0.2 * (1 - spike) + x_ev[t]
    spike = (mem > 0.61).to(dt)
    acc = acc + mem
torch.testing.assert_close(feat, acc / 20, rtol=1e-12, atol=1e-12)
_, st_a = multi_step(stnet_step, x_ev[:9], zero, v_th=0.61)
_, st_b = multi_step(stnet_step, x_ev[9:], st_a[-1], v_th=0.61)
for t in range(11):
    torch.testing.assert_close(st_b[t][0], st_all[9 + t][0], rtol=0, atol=1e-14)

# %%
fig, ax = plt.subplots(1, 2, figsize=(11, 3.4))
x1 = torch.rand(40, 1, dtype=dt) * 0.5
for th, col in ((float(th_low), "C0"), (float(th_high), "C1")):
    _, st = multi_step(stnet_step, x1, (torch.zeros(1, dtype=dt),) * 2, v_th=th)
    ax[0].plot([s[0].item() for s in st], color=col, label=f"$V_{{th}}$ = {th:.2f}")
    ax[0].axhline(th, color=col, ls=":")
ax[0].set_xlabel("step"); ax[0].set_ylabel("membrane $u_t$ (before reset)"); ax[0].legend()
ax[1].bar(["low-entropy map", "high-entropy map"], [float(th_low), float(th_high)])
ax[1].set_ylabel("dynamic threshold")
plt.tight_layout()
plt.show()

# %% [markdown]
# Verified: the LIF update matches the official loop and the constant-input closed form (period and spike count); the
# surrogate is the official rectangular window and gradients flow through the reset; the dynamic threshold matches a
# pixel-and-bin loop and the closed-form entropies; a higher-entropy spatial map raises the threshold and lowers
# firing; the temporal feature and the state carried between windows match the loop.
