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
# # Self-supervised mutual learning for spike-camera reconstruction (Chen et al., IJCAI 2022)
# A spike camera's pixels are integrate-and-fire units; a blind-spot network learns images from the camera's own
# noisy interval-based estimate, and a normal network is distilled from it.

# %%
import math

import matplotlib.pyplot as plt
import torch

from snnref.models.ssml import blind_spot_conv, spike_camera, ssml_loss, tfi

torch.manual_seed(0)
torch.set_num_threads(1)
DT = torch.float64
THETA = 1.3

# %% [markdown]
# **The sensor.** Pixel $p$ receives light $I_n(p)$ per read-out period and accumulates $A_n = A_{n-1} + I_n$; when
# $A_n \ge \theta$ it emits a spike (a 1 in the binary frame at time $n$) and keeps the remainder $A_n - \theta$.
# Bright pixels spike often, dark ones rarely, so intensity is coded in inter-spike intervals; there are no
# frames and no ground-truth images for real recordings, which is why the paper trains self-supervised.
#
# **Claim 1.** With constant light $I$ and initial charge $a_0\in[0,\theta)$, and $I < \theta$ (at most one spike per period), the number of spikes in the first $n$
# periods is $\lfloor (a_0 + nI)/\theta \rfloor$; when $\theta/I = k$ is an
# integer, every interval is $k$ and the TFI estimate $\theta/\Delta$ equals $I$ exactly.

# %%  catches: hard instead of soft reset (drops the remainder), threshold not theta, wrong TFI scaling
I = torch.tensor([0.1131, 0.3717, 0.5233, 0.9071, 1.2519], dtype=DT)
a0 = torch.tensor([0.0, 1.2113, 0.4127, 0.7711, 0.0537], dtype=DT)
n = 60
ratios = (a0 + torch.arange(1, n + 1, dtype=DT)[:, None] * I) / THETA
assert (ratios - ratios.round()).abs().min() > 1e-4  # no exact ties: rounding cannot decide a spike
s = spike_camera(I.expand(n, 5), theta=THETA, a0=a0)
counts = s.cumsum(0)
for k in range(1, n + 1):
    expected = torch.floor((a0 + k * I) / THETA)
    torch.testing.assert_close(counts[k - 1], expected, rtol=0, atol=0)
s_one = spike_camera(torch.full((41, 1), THETA / 4, dtype=DT), theta=THETA)  # one pixel, stream [T, 1]
torch.testing.assert_close(tfi(s_one, middle=20, window=12, theta=THETA), torch.full((1,), THETA / 4, dtype=DT),
                           rtol=1e-12, atol=0)  # catches: T read from the pixel axis, interval taken over pixels not time
I_exact = torch.tensor([THETA / 3, THETA / 5, THETA / 8], dtype=DT)
s_exact = spike_camera(I_exact.expand(41, 3), theta=THETA, a0=torch.full((3,), 0.5, dtype=DT))
for m in (12, 20, 27):
    torch.testing.assert_close(tfi(s_exact, middle=m, window=12, theta=THETA), I_exact, rtol=1e-12, atol=0)
try:
    spike_camera(I.expand(3, 5), theta=0.0)
    raise AssertionError("theta=0 accepted")  # catches: missing validation
except ValueError:
    pass

# %% [markdown]
# **Claim 2.** The TFI pseudo-label at time $m$ is $\theta/(r-l)$ with $l$ the last spike at or before $m$ and $r$ the
# first spike after $m$, each searched over `window` steps ($l = m - w$, $r = m + w$ when none is found), as in the
# official `middleTFI`. Oracle: a per-pixel loop that walks outwards from $m$.

# %%  catches: l searched after m / r at or before m, window off by one, wrong default for a missing spike
def tfi_loop(sp, m, w):
    out = torch.empty(sp.shape[1:], dtype=DT)
    for p in range(sp.shape[1]):
        l = next((t for t in range(m, m - w, -1) if t >= 0 and sp[t, p] > 0), m - w)
        r = next((t for t in range(m + 1, m + w + 1) if t < sp.shape[0] and sp[t, p] > 0), m + w)
        out[p] = THETA / (r - l)
    return out


sp = (torch.rand(41, 300) < torch.rand(300) * 0.4).to(DT)  # random streams, some nearly silent
sp[20, :5] = 1; sp[21, 5:10] = 1; sp[8, 10:15] = 1; sp[32, 15:20] = 1  # spikes exactly at m, m+1 and at the window edges
for m, w in ((20, 12), (20, 5), (3, 6), (38, 4)):
    torch.testing.assert_close(tfi(sp, middle=m, window=w, theta=THETA), tfi_loop(sp, m, w), rtol=1e-12, atol=0)
# a single pixel [T, 1] and an image stream [T, T, 3] (time and height both 41), so that an axis mix-up gives wrong
# values or shapes instead of a crash
sp1 = sp[:, 7:8]
torch.testing.assert_close(tfi(sp1, middle=20, window=12, theta=THETA), tfi_loop(sp1, 20, 12), rtol=1e-12, atol=0)  # catches: T read from the pixel axis, min over pixels instead of time
sp3 = (torch.rand(41, 41, 3, generator=torch.Generator().manual_seed(5)) < 0.2).to(DT)  # own generator: Claim 4 keeps its draws
torch.testing.assert_close(tfi(sp3, middle=20, window=9, theta=THETA),
                           tfi_loop(sp3.reshape(41, -1), 20, 9).reshape(41, 3), rtol=1e-12, atol=0)  # catches: time index not broadcast over all pixel axes

# %% [markdown]
# **Claim 3.** The blind spot: $\partial f_B(x)_p / \partial x_p = 0$ for every pixel $p$ (so the network cannot copy a
# pixel's own noisy label), while a normal convolution does see it; and the loss gradient is the analytic one,
# $\partial\mathcal{L}/\partial f_N = 2\lambda (f_N - f_B)/N$ and
# $\partial\mathcal{L}/\partial f_B = \mathrm{sign}(f_B - \hat I)/N - 2\lambda (f_N - f_B)/N$.

# %%  catches: centre tap not masked, mask on the wrong tap, distillation detached or its sign/weight wrong
x = torch.randn(1, 1, 7, 7, dtype=DT)
w = torch.randn(1, 1, 5, 5, dtype=DT)
assert blind_spot_conv(x, w).shape == x.shape  # catches: padding not k // 2, kernel size read from the wrong axis, arguments swapped
J = torch.autograd.functional.jacobian(lambda z: blind_spot_conv(z, w), x).reshape(49, 49)
assert J.diagonal().abs().max() == 0  # blind spot
assert (J - torch.diag(J.diagonal())).abs().sum() > 1  # ...but it does see the neighbours
torch.testing.assert_close(blind_spot_conv(x, w).sum(), torch.nn.functional.conv2d(x, w, padding=2).sum()
                           - w[0, 0, 2, 2] * x.sum(), rtol=1e-12, atol=1e-12)  # only the centre tap is removed
fb = torch.randn(40, dtype=DT, requires_grad=True)
fn = torch.randn(40, dtype=DT, requires_grad=True)
lab = torch.randn(40, dtype=DT)
lam = 0.37
loss = ssml_loss(fb, fn, lab, lam=lam)
assert loss.requires_grad  # catches: the loss detached from both networks
loss.backward()
torch.testing.assert_close(fn.grad, 2 * lam * (fn - fb).detach() / 40, rtol=1e-12, atol=1e-14)
torch.testing.assert_close(fb.grad, (torch.sign(fb - lab) - 2 * lam * (fn - fb)).detach() / 40, rtol=1e-12, atol=1e-14)
assert math.isclose(ssml_loss(fb, fn, lab).item(), ((fb - lab).abs().mean() + 0.01 * ((fn - fb) ** 2).mean()).item(),
                    rel_tol=1e-12)  # default lambda = 0.01 as in the official code

# %% [markdown]
# **Claim 4.** The pretext task works (the paper's premise, at toy scale). On a synthetic scene seen through the
# simulated camera (random initial charge, 25% light fluctuation), a linear blind-spot filter trained only on the
# TFI pseudo-labels reconstructs the true intensity better than the pseudo-label itself; the same filter without the
# blind spot just learns to copy its input; and a normal filter trained by mutual distillation from the blind-spot
# one inherits its quality.

# %%  catches: no blind spot (collapse to identity), distillation term ignored
H = W = 40
yy, xx = torch.meshgrid(torch.linspace(0, 1, H, dtype=DT), torch.linspace(0, 1, W, dtype=DT), indexing="ij")
gt = 0.3 + 0.18 * torch.sin(5 * xx) * torch.cos(4 * yy) + 0.1 * (xx > 0.5)  # intensity per period, theta units below
light = gt * THETA * (1 + 0.25 * torch.randn(41, H, W, dtype=DT))
stream = spike_camera(light, theta=THETA, a0=torch.rand(H, W, dtype=DT) * THETA)
label = tfi(stream, middle=20, window=12, theta=THETA) / THETA  # pseudo-label, same units as gt
inp = label.view(1, 1, H, W)
err_label = (label - gt).abs().mean().item()


def fit(blind, distill_from=None, steps=150):
    torch.manual_seed(3)
    w = (torch.randn(1, 1, 5, 5, dtype=DT) * 0.01).requires_grad_(True)
    b = torch.zeros(1, dtype=DT, requires_grad=True)
    opt = torch.optim.Adam([w, b], lr=0.03)
    for _ in range(steps):
        out = (blind_spot_conv(inp, w) if blind else torch.nn.functional.conv2d(inp, w, padding=2)) + b
        if distill_from is None:
            loss = ssml_loss(out, out.detach(), inp, lam=0.0)
        else:
            loss = ssml_loss(distill_from, out, inp, lam=50.0)  # only the distillation term moves the normal net
        opt.zero_grad(); loss.backward(); opt.step()
    return out.detach()


crop = (slice(None), slice(None), slice(2, -2), slice(2, -2))  # ignore the zero-padded border
bsn = fit(blind=True)
plain = fit(blind=False)
nbsn = fit(blind=False, distill_from=bsn)
errs = {name: (o[crop] - gt.view(1, 1, H, W)[crop]).abs().mean().item() for name, o in
        (("blind-spot", bsn), ("plain on labels", plain), ("distilled", nbsn))}
err_label = (inp[crop] - gt.view(1, 1, H, W)[crop]).abs().mean().item()
print(f"pseudo-label error {err_label:.4f}", {k: round(v, 4) for k, v in errs.items()})
assert errs["blind-spot"] < 0.75 * err_label  # self-supervision denoises
assert errs["plain on labels"] > 0.9 * err_label  # without the blind spot it copies the noise
assert errs["distilled"] < 1.1 * errs["blind-spot"] < err_label  # the normal net inherits it

# %%
fig, ax = plt.subplots(1, 4, figsize=(12, 3))
for a, (img, name) in zip(ax, ((gt, "true intensity"), (label, "TFI pseudo-label"), (bsn[0, 0], "blind-spot"),
                               (nbsn[0, 0], "distilled normal net"))):
    a.imshow(img, cmap="gray", vmin=0.05, vmax=0.7); a.set_title(name); a.axis("off")
plt.show()

# %% [markdown]
# Verified: the simulated camera obeys the integrate-and-fire counting law and its TFI estimate is exact for
# commensurate light; TFI matches a brute-force interval search; the blind spot removes exactly the centre tap;
# the loss has the analytic gradients; and at toy scale the blind-spot pretext task denoises while a plain
# network copies the noise, with distillation passing the result to the normal network.
