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
# # STE-FlowNet: Gaussian-weighted event slices read by ConvGRUs (Ding et al., AAAI 2022)
# Event-based optical flow with a recurrent (non-spiking) network: each slice of events becomes an image in which events
# near the slice's temporal centre weigh more, and convolutional GRUs read the slices one after another.

# %%
import math
import warnings

import matplotlib.pyplot as plt
import torch

from snnref.models.steflow import conv_gru_step, event_image, gaussian_weights, normalize_time
from snnref.neuron import multi_step

torch.manual_seed(0)
dt = torch.float64

# %% [markdown]
# **Claim 1 (the event weights).** In a slice, the normalised times are $\hat t_k = (t_k - t_{min})/(t_{max} - t_{min})$,
# and each event of a polarity gets $w_k = \lambda\,\mathcal{N}(\hat t_k; \mu, \sigma^2)$ with $\mu$ and $\sigma$ the
# mean and unbiased standard deviation of that polarity's $\hat t_k$ ($\sigma \leftarrow \sigma + 10^{-4}$, or
# $\sigma = 1$ for a lone event) and $\lambda = N/\sum_j\mathcal{N}(\hat t_j)$. Checked against the density written out
# with `math` for several $N$: the weights sum to $N$, and they decrease with $|\hat t_k - \mu|$.

# %%  catches: wrong normalisation (sum != N), biased std, missing eps, wrong exponent, lone-event branch
def weights_by_hand(ts: list[float], eps: float = 1e-4) -> list[float]:
    n = len(ts)
    mu = sum(ts) / n
    sigma = math.sqrt(sum((t - mu) ** 2 for t in ts) / (n - 1)) + eps if n > 1 else 1.0
    dens = [math.exp(-((t - mu) ** 2) / (2 * sigma**2)) / (math.sqrt(2 * math.pi) * sigma) for t in ts]
    lam = n / sum(dens)
    return [lam * d for d in dens]


for n in (1, 2, 3, 7, 40):
    t_hat = torch.rand(n, dtype=dt)
    w = gaussian_weights(t_hat)
    torch.testing.assert_close(w, torch.tensor(weights_by_hand(t_hat.tolist()), dtype=dt), rtol=1e-12, atol=1e-12)
    assert math.isclose(w.sum().item(), n, rel_tol=1e-12)  # lambda makes the weights sum to the event count
    order = torch.argsort((t_hat - t_hat.mean()).abs())
    assert bool((w[order].diff() <= 1e-15).all())  # central events weigh more
# a tightly clustered slice: sigma is tiny, so eps matters (catches a dropped or rescaled eps)
tight = torch.tensor([0.5, 0.5003, 0.4998, 0.5001, 0.4999], dtype=dt)
torch.testing.assert_close(gaussian_weights(tight), torch.tensor(weights_by_hand(tight.tolist()), dtype=dt),
                           rtol=1e-12, atol=1e-12)
torch.testing.assert_close(gaussian_weights(tight, eps=0.05),
                           torch.tensor(weights_by_hand(tight.tolist(), eps=0.05), dtype=dt), rtol=1e-12, atol=1e-12)
# normalisation to [0, 1] from raw microsecond timestamps
t_raw = torch.tensor([1200.0, 1450.0, 1300.0, 1900.0], dtype=dt)
torch.testing.assert_close(normalize_time(t_raw), torch.tensor([0.0, 250 / 700, 100 / 700, 1.0], dtype=dt),
                           rtol=0, atol=1e-15)

# %% [markdown]
# **Claim 2 (the event image).** Channel 0 collects ON events and channel 1 OFF events, each pixel holding
# $\sum_k \lceil w_k \rceil$ over its events, so a channel's total lies in $[N, 2N)$; the image does not change when
# all timestamps are shifted or rescaled (only $\hat t$ enters). Checked against an accumulation loop written from the
# definition on a non-square sensor.

# %%  catches: x/y swapped, polarities swapped or mixed, floor instead of ceil, no accumulation, per-polarity time normalisation
H, W, N = 5, 7, 300
xs, ys = torch.randint(0, W, (N,)), torch.randint(0, H, (N,))
ts = torch.sort(torch.rand(N, dtype=dt) * 5e4 + 1e6).values
ps = torch.where(torch.rand(N) < 0.6, 1, -1)
ps[0] = -1  # the slice starts with an OFF event, so the ON events' times do not start at 0
img = event_image(xs, ys, ts, ps, height=H, width=W)
assert img.shape == (2, H, W)

t_hat_all = [(t - ts.min().item()) / (ts.max().item() - ts.min().item()) for t in ts.tolist()]
ref = torch.zeros(2, H, W, dtype=dt)
for c, pol in enumerate((1, -1)):
    idx = [k for k in range(N) if ps[k].item() == pol]
    wk = weights_by_hand([t_hat_all[k] for k in idx])
    for k, w_ in zip(idx, wk):
        ref[c, ys[k], xs[k]] += math.ceil(w_)
torch.testing.assert_close(img, ref, rtol=0, atol=0)
for c, pol in enumerate((1, -1)):
    n_c = int((ps == pol).sum())
    assert n_c <= img[c].sum().item() < 2 * n_c  # ceil adds less than one per event
torch.testing.assert_close(event_image(xs, ys, 3.7 * ts - 2e5, ps, height=H, width=W), img, rtol=0, atol=0)
# a slice with only ON events leaves the OFF channel empty
with warnings.catch_warnings():  # the empty OFF polarity has no std (torch warns); it contributes nothing
    warnings.simplefilter("ignore")
    only_on = event_image(xs[:20], ys[:20], ts[:20], torch.ones(20, dtype=torch.long), height=H, width=W)
assert only_on[1].abs().sum() == 0 and only_on[0].sum() >= 20

# %% [markdown]
# **Claim 3 (the ConvGRU update).** $z = \sigma(W_z * [h, x])$, $r = \sigma(W_r * [h, x])$,
# $q = \tanh(W_q * [r \odot h, x])$, $h' = (1 - z)\odot h + z\odot q$. With $1\times1$ kernels and one hidden channel
# this is exactly PyTorch's `GRUCell` applied per pixel, once its update gate is mirrored ($z_{torch} = 1 - z$, so its
# weights and bias are negated) and its hidden biases are zero. With $3\times3$ kernels, checked at every pixel
# (borders included, zero padding) against an explicit cross-correlation loop.

# %%  catches: z and 1-z swapped, reset gate applied to x or after the conv, tanh/sigmoid swapped, wrong padding
C_in, B, Hs, Ws = 3, 2, 4, 5
x = torch.randn(B, C_in, Hs, Ws, dtype=dt)
h = torch.randn(B, 1, Hs, Ws, dtype=dt) * 0.8
wz, wr, wq = (torch.randn(1, 1 + C_in, 1, 1, dtype=dt) for _ in range(3))
bz, br, bq = torch.randn(1, dtype=dt), torch.randn(1, dtype=dt), torch.randn(1, dtype=dt)
h1, out = conv_gru_step(x, h, w_z=wz, w_r=wr, w_q=wq, b_z=bz, b_r=br, b_q=bq)
assert out is h1

cell = torch.nn.GRUCell(C_in, 1).to(dt)
with torch.no_grad():  # torch rows are [r, z, n]; hidden part is column 0 of our kernels
    cell.weight_ih.copy_(torch.cat([wr[0, 1:, 0, 0], -wz[0, 1:, 0, 0], wq[0, 1:, 0, 0]]).view(3, C_in))
    cell.weight_hh.copy_(torch.stack([wr[0, 0, 0, 0], -wz[0, 0, 0, 0], wq[0, 0, 0, 0]]).view(3, 1))
    cell.bias_ih.copy_(torch.cat([br, -bz, bq]))
    cell.bias_hh.zero_()
pix = lambda t: t.permute(0, 2, 3, 1).reshape(-1, t.shape[1])  # noqa: E731  [B*H*W, C]
torch.testing.assert_close(pix(h1), cell(pix(x), pix(h)), rtol=1e-12, atol=1e-12)

# 3x3 kernels, several hidden channels: explicit loops
Ch = 2
x3 = torch.randn(1, C_in, Hs, Ws, dtype=dt)
h3 = torch.randn(1, Ch, Hs, Ws, dtype=dt)
k3 = [torch.randn(Ch, Ch + C_in, 3, 3, dtype=dt) * 0.4 for _ in range(3)]
b3 = [torch.randn(Ch, dtype=dt) for _ in range(3)]
got = conv_gru_step(x3, h3, w_z=k3[0], w_r=k3[1], w_q=k3[2], b_z=b3[0], b_r=b3[1], b_q=b3[2])[0]


def xcorr(inp: torch.Tensor, k: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    out_ = torch.zeros(k.shape[0], Hs, Ws, dtype=dt)
    for o in range(k.shape[0]):
        for i in range(Hs):
            for j in range(Ws):
                s = b[o].item()
                for c in range(inp.shape[0]):
                    for di in (-1, 0, 1):
                        for dj in (-1, 0, 1):
                            if 0 <= i + di < Hs and 0 <= j + dj < Ws:
                                s += k[o, c, di + 1, dj + 1].item() * inp[c, i + di, j + dj].item()
                out_[o, i, j] = s
    return out_


hx = torch.cat([h3[0], x3[0]])
z_ref, r_ref = torch.sigmoid(xcorr(hx, k3[0], b3[0])), torch.sigmoid(xcorr(hx, k3[1], b3[1]))
q_ref = torch.tanh(xcorr(torch.cat([r_ref * h3[0], x3[0]]), k3[2], b3[2]))
torch.testing.assert_close(got[0], (1 - z_ref) * h3[0] + z_ref * q_ref, rtol=1e-12, atol=1e-12)

# %% [markdown]
# **Claim 4 (the gate's limits and the recurrence).** A closed update gate ($z \to 0$) carries $h$ through the whole
# sequence unchanged (the memory that lets the encoder integrate slices); an open one ($z \to 1$) replaces $h$ by the
# candidate $q$ at every step. Run over a sequence with the core `multi_step`, the states equal the step applied in a
# hand-written loop, and gradients through time (to $h_0$ and to a kernel entry) equal central finite differences.

# %%  catches: state not carried between slices, gradient cut inside the step
T = 6
x_seq = torch.randn(T, 1, C_in, Hs, Ws, dtype=dt)
h0 = torch.randn(1, Ch, Hs, Ws, dtype=dt)
closed = dict(w_z=k3[0] * 0, w_r=k3[1], w_q=k3[2], b_z=torch.full((Ch,), -40.0, dtype=dt), b_r=b3[1], b_q=b3[2])
_, states = multi_step(conv_gru_step, x_seq, h0, **closed)
torch.testing.assert_close(states[-1], h0, rtol=0, atol=1e-15)  # sigma(-40) ~ 4e-18
opened = dict(closed, b_z=torch.full((Ch,), 40.0, dtype=dt))
ho, _ = conv_gru_step(x_seq[0], h0, **opened)
r0 = torch.sigmoid(xcorr(torch.cat([h0[0], x_seq[0, 0]]), k3[1], b3[1]))
torch.testing.assert_close(ho[0], torch.tanh(xcorr(torch.cat([r0 * h0[0], x_seq[0, 0]]), k3[2], b3[2])), rtol=0, atol=1e-14)

params = dict(w_z=k3[0], w_r=k3[1], w_q=k3[2], b_z=b3[0], b_r=b3[1], b_q=b3[2])
out_seq, states = multi_step(conv_gru_step, x_seq, h0, **params)
hm = h0
for t in range(T):
    hm, _ = conv_gru_step(x_seq[t], hm, **params)
    torch.testing.assert_close(out_seq[t], hm, rtol=0, atol=1e-14)
x_pert = x_seq.clone()
x_pert[0] += 1.0
assert (multi_step(conv_gru_step, x_pert, h0, **params)[0][-1] - out_seq[-1]).abs().max() > 1e-6  # slice 0 still matters

c_out = torch.randn(1, Ch, Hs, Ws, dtype=dt)
loss_fn = lambda h_init, wq: (multi_step(conv_gru_step, x_seq, h_init, **dict(params, w_q=wq))[0][-1] * c_out).sum()  # noqa: E731
h0_g, wq_g = h0.clone().requires_grad_(True), k3[2].clone().requires_grad_(True)
loss = loss_fn(h0_g, wq_g)
assert loss.requires_grad  # the recurrence keeps its autograd history
loss.backward()
e = 1e-6
for idx in [(0, 1, 2, 3), (0, 0, 0, 0)]:
    dh = torch.zeros_like(h0); dh[idx] = e
    fd = (loss_fn(h0 + dh, k3[2]) - loss_fn(h0 - dh, k3[2])).item() / (2 * e)
    assert math.isclose(h0_g.grad[idx].item(), fd, rel_tol=1e-6, abs_tol=1e-9)  # BPTT through every step
dw = torch.zeros_like(k3[2]); dw[1, 0, 1, 2] = e
fd = (loss_fn(h0, k3[2] + dw) - loss_fn(h0, k3[2] - dw)).item() / (2 * e)
assert abs(wq_g.grad[1, 0, 1, 2].item()) > 1e-4
assert math.isclose(wq_g.grad[1, 0, 1, 2].item(), fd, rel_tol=1e-6, abs_tol=1e-9)  # gradient reaches the kernels

# %% [markdown]
# **Claim 5 (the weights are differentiable in the timestamps).** Before rounding, $w_k(\hat t(t))$ is a smooth function
# of the raw timestamps; autograd through `normalize_time` and `gaussian_weights` equals central finite differences
# (the rounding in the image then has zero gradient, as in the official code).

# %%  catches: a gradient cut in the normalisation or the weights
t_raw = torch.sort(torch.rand(9, dtype=dt)).values * 10
coef = torch.randn(9, dtype=dt)
f = lambda tt: (gaussian_weights(normalize_time(tt)) * coef).sum()  # noqa: E731
tg = t_raw.clone().requires_grad_(True)
f_val = f(tg)
assert f_val.requires_grad  # the weights keep their autograd history (no detach)
f_val.backward()
for k in range(9):
    d = torch.zeros(9, dtype=dt); d[k] = 1e-6
    fd = (f(t_raw + d) - f(t_raw - d)).item() / 2e-6
    assert math.isclose(tg.grad[k].item(), fd, rel_tol=1e-5, abs_tol=1e-8), k
assert tg.grad.abs().max() > 1e-3

# %%
fig, ax = plt.subplots(1, 3, figsize=(12, 3.2))
th = torch.sort(torch.rand(200, dtype=dt) ** 1.5).values
ax[0].plot(th, gaussian_weights(th), ".")
ax[0].axhline(1.0, color="k", lw=0.5)
ax[0].set_xlabel(r"normalised time $\hat t$"); ax[0].set_ylabel("weight $w_k$ (mean 1)")
ax[1].imshow(img[0]); ax[1].set_title("ON channel")
ax[2].imshow(img[1]); ax[2].set_title("OFF channel")
plt.tight_layout()
plt.show()

# %% [markdown]
# Verified: the Gaussian event weights match the density written out by hand and sum to the event count; the two-channel
# event image matches an accumulation loop, keeps polarities apart, rounds up, and ignores affine changes of the time
# axis; the ConvGRU step equals PyTorch's GRUCell (1×1 kernels) and an explicit 3×3 cross-correlation loop, holds or
# replaces its state at the gate's limits, runs under the core loop with gradients through time that match
# finite differences; the weights' gradients in the timestamps match finite differences too.
