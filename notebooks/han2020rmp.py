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
# # RMP-SNN: residual membrane potential neurons (Han, Srinivasan & Roy, CVPR 2020)
# Convert with IF neurons that reset by subtracting the threshold ("soft reset"), keeping the residual potential a
# hard reset throws away; the neuron's rate then tracks its input linearly.

# %%
import math

import matplotlib.pyplot as plt
import torch
from torch import nn

from snnref.conversion.rmp import convert_rmp, rmp_step
from snnref.conversion.toolkit import constant_input, convert, cumulative_mean, simulate_layers
from snnref.neuron import if_step, multi_step
from snnref.surrogate import heaviside

torch.manual_seed(12)
dtype = torch.float64

# %% [markdown]
# **Claim 1.** The RMP neuron conserves charge: for any input sequence, $V_{th}N_T = V_0 + \sum_{t\le T} z_t - V_T$ exactly, and
# after every step $V_t < V_{th}$ (inputs at most $V_{th}$). Oracle: the identity itself, summed in the notebook (a hard reset violates it by the
# discarded residuals).

# %%
v_th = 1.3
z = (torch.randn(50, 8, 40, dtype=dtype) * 0.8 + 0.4).clamp(max=v_th)   # [T, B, N] uneven currents, some negative
v0 = torch.rand(8, 40, dtype=dtype) * v_th
spikes, vs = multi_step(rmp_step, z, v0, v_th=v_th)
lhs = v_th * spikes.sum(0)
rhs = v0 + z.sum(0) - vs[-1]
torch.testing.assert_close(lhs, rhs, rtol=1e-12, atol=1e-12)   # catches: hard reset, reset by a wrong amount
assert max(v.max().item() for v in vs) < v_th                   # catches: '>' firing rule or a missed spike
assert spikes.sum() > 100 and (z.sum(0) - v_th * spikes.sum(0)).abs().max() > 0   # non-degenerate
hard, vh = multi_step(if_step, z, v0, v_th=v_th, v_reset=0.0)
assert not torch.allclose(v_th * hard.sum(0), v0 + z.sum(0) - vh[-1])  # the hard reset loses charge on this input
for v_reset in (0.0, -0.3):  # the hard-reset comparison neuron lands exactly on V_reset after each spike
    s_h, v_h = multi_step(if_step, z, v0, v_th=v_th, v_reset=v_reset)
    v_h = torch.stack(v_h)
    assert s_h.sum() > 100 and bool((v_h[s_h == 1] == v_reset).all())  # catches V_reset ignored by the hard reset
edge = rmp_step(torch.tensor([v_th, v_th - 1e-9], dtype=dtype), torch.zeros(2, dtype=dtype), v_th=v_th)
assert edge[0].tolist() == [1.0, 0.0] and edge[1].tolist() == [0.0, v_th - 1e-9]  # catches '>' instead of '>=' at V_th
try:
    rmp_step(z[0], v0, v_th=v_th, v_reset=0.0)
except ValueError:
    pass
else:
    raise AssertionError("an RMP neuron accepted a hard reset")

# %% [markdown]
# **Claim 2.** Linear input-output response (Fig. 4c). For constant input $z \in (0, V_{th}]$ from $V_0 = 0$, the RMP neuron
# fires $N_T = \lfloor Tz/V_{th}\rfloor$ times, so $|N_T/T - z/V_{th}| < 1/T$; a hard-reset neuron fires every
# $\lceil V_{th}/z\rceil$ steps, $N_T = \lfloor T/\lceil V_{th}/z\rceil\rfloor$, far from linear (e.g. rate $1/2$ at $z = 0.6V_{th}$).

# %%
T = 120
zs = (torch.arange(1, 200, dtype=dtype) + 0.37) / 200 * v_th        # off the integer points
n_rmp = multi_step(rmp_step, zs.expand(T, -1), v_th=v_th)[0].sum(0)
n_hard = multi_step(if_step, zs.expand(T, -1), v_th=v_th, v_reset=0.0)[0].sum(0)
torch.testing.assert_close(n_rmp, torch.floor(T * zs / v_th), rtol=0, atol=0)
assert (n_rmp / T - zs / v_th).abs().max() < 1 / T
torch.testing.assert_close(n_hard, torch.tensor([T // math.ceil(v_th / v) for v in zs.tolist()], dtype=dtype), rtol=0, atol=0)
assert (n_hard / T - zs / v_th).abs().max() > 0.09                 # the hard reset is far from linear

# %% [markdown]
# **Claim 3.** At toy scale, the paper's result holds: with the same max-activation thresholds, the RMP conversion of a
# random 10-32-32-5 ReLU network at 16 steps is closer to the ANN than the hard-reset conversion at 256 steps, and its
# error keeps falling like $1/T$ while the hard-reset error stalls.

# %%
net = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 5)).double()
xb = torch.rand(256, 10, dtype=dtype)
ths = [torch.relu(net[:1](xb)).max().item(), torch.relu(net[:3](xb)).max().item()]  # max activation per layer
ann = net(xb).detach()
for bad in ([1.0], [1.0] * 3, [1.0] * 4):  # one threshold per ReLU, in order
    try:
        convert_rmp(net, bad)
    except ValueError:
        continue
    raise AssertionError("wrong number of thresholds accepted")  # catches thresholds indexed from 1 or every other one
rmp_net = convert_rmp(net, ths)
assert [(m.v_th, m.v_reset, m.step) for m in rmp_net[1::2]] == [(ths[0], None, rmp_step), (ths[1], None, rmp_step)]
hard_net = convert(net, ths, v_reset=0.0)
assert hard_net[1].params.get("spike_fn") is heaviside  # the comparison neurons fire with the exact step

# The error after every t <= 256 from one run: the running mean (1/t) sum_{s<=t} y_s of the read-out (`cumulative_mean`,
# checked against a loop on one step, a 1-D, a square and a [T, B, N] sequence).
for seq in (torch.tensor([[3.0, -1.0]], dtype=dtype), torch.tensor([2.0, 4.0, 0.0, 6.0], dtype=dtype),
            torch.rand(3, 3, dtype=dtype), torch.rand(5, 2, 3, dtype=dtype)):
    expected = torch.stack([seq[:s + 1].sum(0) / (s + 1) for s in range(len(seq))])
    torch.testing.assert_close(cumulative_mean(seq), expected, rtol=1e-12, atol=1e-12)  # catches a divisor off by one step or along the wrong axis


def err_curve(snn, T_max=256):
    out = simulate_layers(snn, constant_input(xb, T_max))[-1]
    assert out.shape == (T_max, 256, 5)  # the read-out, not a hidden layer
    return (cumulative_mean(out) - ann).abs().mean(dim=(1, 2))  # [T_max]


Ts = [16, 32, 64, 128, 256]
curve_rmp, curve_hard = err_curve(rmp_net), err_curve(hard_net)
err_rmp = [curve_rmp[t - 1].item() for t in Ts]
err_hard = [curve_hard[t - 1].item() for t in Ts]
torch.testing.assert_close(err_rmp[0], (simulate_layers(rmp_net, constant_input(xb, 16))[-1].mean(0) - ann).abs().mean().item(),
                           rtol=1e-12, atol=1e-12)  # a 16-step run equals the first 16 steps of the long one
assert err_rmp[0] < err_hard[-1]                # 16 RMP steps beat 256 hard-reset steps
assert err_rmp[-1] < err_rmp[0] / 8             # ~1/T decay over a 16x longer simulation
assert err_hard[-1] > 0.7 * err_hard[0]         # the hard reset's error stalls

# %%
fig, ax = plt.subplots(1, 2, figsize=(10, 3.2))
ax[0].plot(zs / v_th, n_rmp / T, label="RMP (soft reset)")
ax[0].plot(zs / v_th, n_hard / T, label="hard reset")
ax[0].plot([0, 1], [0, 1], "k:")
ax[0].set_xlabel(r"input $z/V_{th}$"); ax[0].set_ylabel(f"rate, T={T}"); ax[0].legend()
ax[1].loglog(Ts, err_rmp, "o-", label="RMP")
ax[1].loglog(Ts, err_hard, "s-", label="hard reset")
ax[1].set_xlabel("T"); ax[1].set_ylabel("mean |SNN - ANN|"); ax[1].legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# Verified: exact charge conservation of the RMP neuron on uneven inputs (which the hard reset breaks), its linear
# response $\lfloor Tz/V_{th}\rfloor$ against the hard reset's $\lfloor T/\lceil V_{th}/z\rceil\rfloor$, and on a toy network an RMP
# conversion at 16 steps that beats a hard-reset conversion at 256 (with the converter's thresholds, reset and step
# checked layer by layer, and the hard reset's landing on $V_{reset}$).
