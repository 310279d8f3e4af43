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
# # Temporal-wise attention SNN (Yao et al., ICCV 2021)
# Score every event frame, rescale it, and skip the frames that do not matter.

# %%
import math

import matplotlib.pyplot as plt
import torch

from snnref.models.tasnn import events_to_frames, input_attention_pruning, temporal_attention
from snnref.neuron import lif_step, multi_step

torch.manual_seed(0)
DT = torch.float64

# %% [markdown]
# **The sensor.** A dynamic vision sensor (event camera) has no frames: each pixel compares the log intensity it sees
# now with the value at its last event and, when the difference exceeds a contrast threshold $C$, emits an event
# $(x, y, t, p)$ with polarity $p = 1$ (brighter) or $0$ (darker), with microsecond timing. A static scene produces
# (almost) nothing; motion produces events at edges. SNNs usually bin the stream into $T$ frames of width $dt$, one
# channel per polarity; frames then differ greatly in how much signal they hold.
#
# We simulate it: a bright bar sweeps across a $16\times16$ scene during part of the recording and stays still
# otherwise; each pixel emits events from its log-intensity changes (threshold $C$), plus sparse background noise.

# %%
H = W = 16
C_thr = 0.3
steps = 400  # fine time grid, 1 unit each
moving = (torch.arange(steps) >= 120) & (torch.arange(steps) < 260)


def scene(k):  # bar position moves only while `moving`
    pos = 2.0 + 10.0 * ((min(max(k, 120), 260) - 120) / 140)
    xs = torch.arange(W, dtype=DT)
    bar = torch.exp(-0.5 * ((xs - pos) / 1.2) ** 2)
    return (0.1 + 2.0 * bar).expand(H, W)


ev = []
ref = torch.log(scene(0))
for k in range(1, steps):
    cur = torch.log(scene(k))
    diff = cur - ref
    n = torch.floor(diff.abs() / C_thr)
    for yy, xx in torch.nonzero(n > 0).tolist():
        for _ in range(int(n[yy, xx])):
            ev.append((xx, yy, k + 0.5, 1.0 if diff[yy, xx] > 0 else 0.0))
        ref[yy, xx] += torch.sign(diff[yy, xx]) * n[yy, xx] * C_thr  # reference moves by whole thresholds
noise = torch.stack([torch.randint(0, W, (60,)), torch.randint(0, H, (60,)), torch.rand(60) * steps,
                     torch.randint(0, 2, (60,))], 1).to(DT)
events = torch.cat([torch.tensor(ev, dtype=DT), noise])
print(f"{len(ev)} signal events, {len(noise)} noise events")

# %% [markdown]
# **Claim 1.** Frame-based representation: event $(x,y,t,p)$ adds 1 to frame $\lfloor t/dt\rfloor$, channel $p$, pixel
# $(y,x)$; every event inside $[0, T\,dt)$ is counted exactly once. Oracle: a loop over the events.

# %%  catches: x/y swapped, polarity channel wrong, off-by-one time bin, events double-counted
T, dt = 20, 20.0
frames = events_to_frames(events, T=T, dt=dt, H=H, W=W)
loop = torch.zeros(T, 2, H, W, dtype=DT)
for x_, y_, t_, p_ in events.tolist():
    if 0 <= t_ < T * dt:
        loop[int(t_ // dt), int(p_), int(y_), int(x_)] += 1
torch.testing.assert_close(frames, loop, rtol=0, atol=0)
assert frames.sum().item() == len(events)  # all events land inside [0, T dt)
late = torch.tensor([[1.0, 2.0, T * dt + 3.0, 1.0]], dtype=DT)
assert events_to_frames(late, T=T, dt=dt, H=H, W=W).sum() == 0  # outside the window: dropped

# %% [markdown]
# **Claim 2.** The TA module (Eq. 7 and the SE-style excitation): $s_t$ is the mean of frame $t$,
# $d = \sigma(W_2\,\mathrm{ReLU}(W_1 s + b_1) + b_2)\in(0,1)^T$ per sample, and $\tilde X_t = d_t X_t$ scales every
# channel and pixel of frame $t$ by the same score. Oracle: a per-sample loop with explicit sums.

# %%  catches: squeezing over the wrong axes, attention over channels instead of time, missing sigmoid or ReLU
B, r = 3, 4
xb = torch.stack([frames * (0.5 + b) for b in range(B)], 1)  # [T, B, 2, H, W]
w1, b1 = torch.randn(T // r, T, dtype=DT) * 0.5, torch.randn(T // r, dtype=DT) * 0.1
w2, b2 = torch.randn(T, T // r, dtype=DT) * 0.5, torch.randn(T, dtype=DT) * 0.1
xt, d = temporal_attention(xb, w1=w1, b1=b1, w2=w2, b2=b2)
for b in range(B):
    s = [xb[t, b].sum().item() / xb[t, b].numel() for t in range(T)]
    hid = [max(0.0, sum(w1[i, t].item() * s[t] for t in range(T)) + b1[i].item()) for i in range(T // r)]
    for t in range(T):
        z = sum(w2[t, i].item() * hid[i] for i in range(T // r)) + b2[t].item()
        dt_ = 1 / (1 + math.exp(-z))
        assert math.isclose(d[t, b].item(), dt_, rel_tol=1e-12)
        torch.testing.assert_close(xt[t, b], dt_ * xb[t, b], rtol=1e-12, atol=1e-12)
assert ((d > 0) & (d < 1)).all()

# %% [markdown]
# **Claim 3.** Input attention pruning removes exactly the frames scored below $d_{th}$ (they become all-zero, so a
# downstream LIF layer receives no input from them and the synaptic work drops in proportion). With an excitation that
# grows with frame activity (positive weights), the pruned frames are the ones holding only noise: on the simulated
# stream, more than a third of the frames are skipped while more than 95% of the events are kept.

# %%  catches: pruning with > instead of >= or the wrong side, pruning the wrong axis
pruned = input_attention_pruning(xt, d, d_th=0.6)
keep = d >= 0.6
for t in range(T):
    for b in range(B):
        if keep[t, b]:
            torch.testing.assert_close(pruned[t, b], xt[t, b], rtol=0, atol=0)
        else:
            assert pruned[t, b].abs().sum() == 0
d_exact = torch.full((T, B), 0.6, dtype=DT)
assert torch.equal(input_attention_pruning(xt, d_exact, d_th=0.6), xt)  # a score equal to d_th is kept
try:
    input_attention_pruning(xt, d, d_th=1.0)
    raise AssertionError("d_th=1 accepted")  # catches: missing validation
except ValueError:
    pass

# activity-monotone excitation: score = sigmoid(a * (mean activity) - c)
x1 = frames.unsqueeze(1)  # [T, 1, 2, H, W]
eye = torch.eye(T, dtype=DT)
x1_att, d1 = temporal_attention(x1, w1=eye * 40.0, b1=torch.zeros(T, dtype=DT), w2=eye, b2=torch.full((T,), -1.0, dtype=DT))
x1_pruned = input_attention_pruning(x1_att, d1, d_th=0.5)
kept = (d1[:, 0] >= 0.5)
mass_kept = frames[kept].sum() / frames.sum()
print(f"frames kept {int(kept.sum())}/{T}, events kept {mass_kept.item():.3f}")
assert kept.sum() <= 2 * T // 3 and mass_kept > 0.95
lif_in = x1_pruned.flatten(1)  # the first spiking layer sees nothing from pruned frames
spk, _ = multi_step(lif_step, lif_in, tau=1.5, v_th=0.3)
assert lif_in[~kept].abs().sum() == 0 and spk[~kept].sum() == 0 and spk[kept].sum() > 0  # no input, no spikes

# %%
fig, ax = plt.subplots(1, 2, figsize=(10, 3.4))
ax[0].bar(range(T), frames.sum((1, 2, 3)).numpy(), color=["C0" if k else "C3" for k in kept.tolist()])
ax[0].set_xlabel("frame"); ax[0].set_ylabel("events"); ax[0].set_title("events per frame (red: pruned by IAP)")
ax[1].imshow(frames[8, 1] - frames[8, 0], cmap="coolwarm"); ax[1].set_title("frame 8: ON minus OFF events")
plt.tight_layout(); plt.show()

# %% [markdown]
# Verified: event binning equals a loop over events and conserves them, the TA module equals its SE-style definition
# over the time axis, and IAP zeroes exactly the low-score frames, which on a simulated event stream are the noise-only
# frames.
