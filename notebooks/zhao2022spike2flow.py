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
# # Spike2Flow: optical flow from continuous spike streams (Zhao et al., NeurIPS 2022)
# A spike camera fires a pixel whenever its accumulated light reaches a threshold; Spike2Flow feeds its flow network
# the interval between the spikes around each moment (the DSFT), which encodes brightness as time.

# %%
import math

import matplotlib.pyplot as plt
import torch

from snnref.models.spike2flow import dsft
from snnref.models.spike_camera import spike_camera_stream

torch.manual_seed(0)
dt = torch.float64

# %% [markdown]
# **The sensor.** Each pixel integrates light, $A_t = A_{t-1} + I_t$, fires when $A_t \ge \theta$ and subtracts
# $\theta$ (no light is lost). We synthesise spike streams from known intensities, with no downloads.
#
# **Claim 1 (intervals encode intensity).** For a constant intensity $I < \theta$ starting from $A_0 = 0$, a pixel fires
# exactly $\lfloor T I/\theta \rfloor$ times in $T$ steps, every inter-spike interval is $\lfloor\theta/I\rfloor$ or
# $\lceil\theta/I\rceil$, and the mean interval tends to $\theta/I$, so $\theta/\overline{\mathrm{ISI}}$ recovers $I$.

# %%  catches: hard reset (light lost at each spike), wrong threshold, firing on > instead of >=
theta, T = 2.0, 600
I = torch.tensor([0.131, 0.372, 0.613, 0.957, 1.413, 1.871], dtype=dt)  # T I / theta and theta / I far from integers
s = spike_camera_stream(I.expand(T, -1).clone(), theta=theta)  # [T, P]
torch.testing.assert_close(s.sum(0), torch.floor(T * I / theta), rtol=0, atol=0)  # exact spike counts
for p in range(len(I)):
    times = torch.nonzero(s[:, p]).flatten()
    isi = times.diff().to(dt)
    lo, hi = math.floor(theta / I[p].item()), math.ceil(theta / I[p].item())
    assert bool(((isi == lo) | (isi == hi)).all())  # each interval is floor or ceil of theta/I
    est = theta / ((times[-1] - times[0]).item() / (len(times) - 1))  # theta / mean ISI
    assert abs(est - I[p].item()) < I[p].item() ** 2 * 2 / (times[-1] - times[0]).item() + 1e-12  # within one step
one = spike_camera_stream(torch.full((4, 1), 1.0, dtype=dt), theta=1.0)  # A reaches theta exactly: fires
torch.testing.assert_close(one.flatten(), torch.ones(4, dtype=dt), rtol=0, atol=0)
try:
    spike_camera_stream(I.expand(3, -1).clone(), theta=0.0)
    raise AssertionError("theta = 0 must be rejected")
except ValueError:
    pass

# %% [markdown]
# **Claim 2 (DSFT against a scan from its definition).** $\mathrm{DSFT}_k$ is the distance from the last spike at or
# before $k$ to the first spike after $k$, each searched within $W$ steps, and $2W$ if either is missing; it is therefore
# the inter-spike interval containing $k$, between $\lfloor\theta/I\rfloor$ and $\lceil\theta/I\rceil$ for constant
# light. Checked on random streams (including silent pixels) against a per-pixel scan, and on a two-step stream.

# %%  catches: searching only before k, including k in the forward search, wrong fallback value, window off by one
# the smallest case: one pixel firing at t = 0 and t = 1, key time 0: the interval is 1 (not the 2W fallback)
d01 = dsft(torch.ones(2, 1, dtype=dt), 0, window=3)
# catches: the time axis read from the pixel axis, a time index of the wrong rank, a spike at t = 0 not found
assert d01.shape == (1,) and d01.item() == 1.0, d01
W = 8
rand_stream = (torch.rand(40, 30, dtype=dt) < 0.18).to(dt)
rand_stream[:, 0] = 0.0  # a silent pixel
rand_stream[:, 1] = 0.0
rand_stream[20, 1] = 1.0  # a single spike exactly at k
for k in (5, 20, 33):
    got = dsft(rand_stream, k, window=W)
    assert got.shape == (30,)  # one value per pixel
    for p in range(30):
        before = [t for t in range(k, k - W, -1) if t >= 0 and rand_stream[t, p] > 0]
        after = [t for t in range(k + 1, k + W + 1) if t < 40 and rand_stream[t, p] > 0]
        ref = (after[0] - before[0]) if before and after else 2 * W
        assert got[p].item() == ref, (k, p)
d_const = dsft(s, 300, window=40)
for p in range(len(I)):
    if theta / I[p].item() < 40:
        assert math.floor(theta / I[p].item()) <= d_const[p].item() <= math.ceil(theta / I[p].item())
# a camera frame is [T, H, W]: every pixel of a 2-D sensor gets its own interval, the same as on the flattened stream
for h, w in ((1, 30), (5, 6)):  # catches: a time index broadcast against the wrong axes
    torch.testing.assert_close(dsft(rand_stream.reshape(40, h, w), 20, window=W),
                               dsft(rand_stream, 20, window=W).reshape(h, w), rtol=0, atol=0)
for bad_k in (-1, 40):
    try:
        dsft(rand_stream, bad_k, window=W)
        raise AssertionError("k out of range must be rejected")
    except ValueError:
        pass

# %% [markdown]
# **A moving edge.** A bright bar moving one pixel every 10 steps: the DSFT map (small where bright) moves with it,
# which is the motion cue the flow network correlates across time.

# %%
H, Wd, Tm = 1, 40, 200
xs = torch.arange(Wd, dtype=dt)
intensity = torch.stack([0.15 + 1.2 * ((xs - (5 + t / 10)).abs() < 3).to(dt) for t in range(Tm)])  # [T, W]
stream = spike_camera_stream(intensity, theta=theta)
maps = torch.stack([dsft(stream, k, window=30) for k in range(40, 160, 20)])
centres = [(1 / maps[i]).argmax().item() for i in range(len(maps))]
assert all(b > a for a, b in zip(centres, centres[1:]))  # the bright (short-interval) region moves right
plt.figure(figsize=(6, 3))
plt.imshow(maps.numpy(), aspect="auto", cmap="viridis_r")
plt.colorbar(label="DSFT (steps)")
plt.xlabel("pixel"); plt.ylabel("key time (every 20 steps)")
plt.tight_layout()
plt.show()

# %% [markdown]
# Verified: the spike-camera pixel (core IF with soft reset) fires $\lfloor TI/\theta\rfloor$ times with intervals
# $\lfloor\theta/I\rfloor$ or $\lceil\theta/I\rceil$, so intervals recover intensity; the DSFT equals a per-pixel scan
# from its definition, is the interval containing the key time, and follows a moving bright edge.
