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
# channel and pixel of frame $t$ by the same score. Oracle: a per-sample loop with explicit sums, first on a tensor
# whose time, batch and per-frame sizes are all 4 ($[4, 4, 1, 2, 2]$), so squeezing or scoring along the wrong axis
# keeps every shape and only the values can tell.

# %%  catches: squeezing over the wrong axes, attention over channels instead of time, missing sigmoid or ReLU
def ta_loop(x, w1, b1, w2, b2):
    """d [T, B] and the rescaled frames, one sample and one frame at a time, from the definition."""
    T_, B_ = x.shape[:2]
    d_ref, x_ref = torch.zeros(T_, B_, dtype=DT), torch.zeros_like(x)
    for b in range(B_):
        s = [x[t, b].sum().item() / x[t, b].numel() for t in range(T_)]
        hid = [max(0.0, sum(w1[i, t].item() * s[t] for t in range(T_)) + b1[i].item()) for i in range(len(b1))]
        for t in range(T_):
            z = sum(w2[t, i].item() * hid[i] for i in range(len(b1))) + b2[t].item()
            d_ref[t, b] = 1 / (1 + math.exp(-z))
            x_ref[t, b] = d_ref[t, b] * x[t, b]
    return x_ref, d_ref


xq = torch.rand(4, 4, 1, 2, 2, dtype=DT) * torch.arange(1, 5, dtype=DT).view(4, 1, 1, 1, 1)  # activity varies in time
wq1, bq1, wq2, bq2 = (torch.randn(3, 4, dtype=DT), torch.randn(3, dtype=DT) * 0.1, torch.randn(4, 3, dtype=DT),
                      torch.randn(4, dtype=DT) * 0.1)
xq_att, dq = temporal_attention(xq, w1=wq1, b1=bq1, w2=wq2, b2=bq2)
xq_ref, dq_ref = ta_loop(xq, wq1, bq1, wq2, bq2)
assert dq.shape == (4, 4) and xq_att.shape == xq.shape  # catches: a score vector that lost its batch axis
torch.testing.assert_close(dq, dq_ref, rtol=1e-12, atol=1e-14)
torch.testing.assert_close(xq_att, xq_ref, rtol=1e-12, atol=1e-14)

B, r = 3, 4
xb = torch.stack([frames * (0.5 + b) for b in range(B)], 1)  # [T, B, 2, H, W]
w1, b1 = torch.randn(T // r, T, dtype=DT) * 0.5, torch.randn(T // r, dtype=DT) * 0.1
w2, b2 = torch.randn(T, T // r, dtype=DT) * 0.5, torch.randn(T, dtype=DT) * 0.1
xt, d = temporal_attention(xb, w1=w1, b1=b1, w2=w2, b2=b2)
xt_ref, d_ref = ta_loop(xb, w1, b1, w2, b2)
torch.testing.assert_close(d, d_ref, rtol=1e-12, atol=1e-14)
torch.testing.assert_close(xt, xt_ref, rtol=1e-12, atol=1e-12)
assert ((d > 0) & (d < 1)).all()

# %% [markdown]
# **Claim 3.** Input attention pruning removes exactly the frames scored below $d_{th}$ (they become all-zero and pass
# no gradient, so a
# downstream LIF layer receives no input from them and the synaptic work drops in proportion). With an excitation that
# grows with frame activity (positive weights), the pruned frames are the ones holding only noise: on the simulated
# stream, more than a third of the frames are skipped while more than 95% of the events are kept. The first LIF layer
# (the core's, checked by a loop and by its surrogate gradient) then emits no spike in a pruned frame.

# %%  catches: pruning with > instead of >= or the wrong side, pruning the wrong axis
pruned = input_attention_pruning(xt, d, d_th=0.6)
keep = d >= 0.6
for t in range(T):
    for b in range(B):
        if keep[t, b]:
            torch.testing.assert_close(pruned[t, b], xt[t, b], rtol=0, atol=0)
        else:
            assert pruned[t, b].abs().sum() == 0
# training through IAP: the kept frames pass their gradient unchanged, the pruned ones pass none
xg = xt.detach().clone().requires_grad_(True)
pg = input_attention_pruning(xg, d, d_th=0.6)
assert pg.requires_grad  # catches: a detached pruning output
cg = torch.randn_like(xt)
(pg * cg).sum().backward()
torch.testing.assert_close(xg.grad, cg * keep.to(DT).view(T, B, 1, 1, 1), rtol=0, atol=0)
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
spk, v_states = multi_step(lif_step, lif_in, tau=1.5, v_th=0.3)
assert lif_in[~kept].abs().sum() == 0 and spk[~kept].sum() == 0 and spk[kept].sum() > 0  # no input, no spikes
# that layer is the core LIF (tau = 1.5, threshold 0.3, hard reset to 0), checked by a loop ...
# (and on the input scaled by 0.1, where charge builds up over several frames, so the leak shows)
for scale in (1.0, 0.1):
    spk_s, v_states = multi_step(lif_step, lif_in * scale, tau=1.5, v_th=0.3)
    v_ref, spk_ref, mem_ref = torch.zeros_like(lif_in[0]), [], []
    for t in range(T):
        v_ref = v_ref + (lif_in[t] * scale - v_ref) / 1.5
        fired = (v_ref >= 0.3).to(DT)
        v_ref = v_ref * (1 - fired)
        spk_ref.append(fired)
        mem_ref.append(v_ref)
    torch.testing.assert_close(spk_s, torch.stack(spk_ref), rtol=0, atol=0)  # catches: wrong leak or reset
    torch.testing.assert_close(torch.stack(v_states), torch.stack(mem_ref), rtol=1e-12, atol=1e-14)  # the membrane
assert torch.stack(mem_ref).abs().max() > 0.01 and torch.stack(spk_ref).sum() > 0  # charge held between spikes
# ... and it trains through the attention: at its first kept frame, from rest, dS/dX = g'(X/tau - V_th)/tau with
# the core's default ATan surrogate (alpha = 2): g'(u) = 1 / (1 + (pi u)^2)
t0 = int(torch.nonzero(kept)[0])
x_in = lif_in[t0:t0 + 1].clone().requires_grad_(True)
s_in, _ = multi_step(lif_step, x_in, tau=1.5, v_th=0.3)
assert s_in.requires_grad  # catches: a detached charge
c_in = torch.randn_like(x_in)
(s_in * c_in).sum().backward()
u_in = x_in.detach() / 1.5 - 0.3
torch.testing.assert_close(x_in.grad, c_in / (1 + (math.pi * u_in) ** 2) / 1.5, rtol=1e-12, atol=1e-15)

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
