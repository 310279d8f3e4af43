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
# # MPBN: membrane potential batch normalization (Guo et al., ICCV 2023)
# A batch-norm layer placed between the membrane update and the fire step, and folded into a per-channel threshold
# after training so that inference is a plain LIF network.

# %%
import math
from functools import partial

import matplotlib.pyplot as plt
import torch

from snnref.neuron import lif_step, multi_step
from snnref.surrogate import triangle_spike
from snnref.training.mpbn import folded_threshold, mpbn_step

torch.set_default_dtype(torch.float64)
DECAY, V_TH, EPS = 0.35, 1.0, 1e-5
SPIKE = partial(triangle_spike, alpha=1.0)
g = torch.Generator().manual_seed(2)
T, B, C = 8, 64, 3


def make_bn():
    bn = torch.nn.BatchNorm1d(C, eps=EPS, momentum=0.2)
    with torch.no_grad():
        bn.weight.copy_(torch.tensor([0.8, 1.3, 0.6]))
        bn.bias.copy_(torch.tensor([0.1, -0.2, 0.3]))
    return bn


# %% [markdown]
# **Claim 1 (MPBN in training).** $u_t = \lambda u_{t-1}(1 - o_{t-1}) + x_t$, then
# $o_t = \Theta(\gamma(u_t - \mu_t)/\sqrt{\sigma_t^2 + \epsilon} + \beta - V_{th})$ with the batch statistics of $u_t$ at
# each step, and the reset acts on $u_t$ itself (not on the normalized value) — checked against a loop written here.

# %%  catches: resetting the normalized potential, normalizing the input instead of the potential, wrong decay
x = 1.2 * torch.randn(T, B, C, generator=g) + torch.tensor([0.4, 1.0, -0.3])
bn = make_bn()
s_impl, states = multi_step(mpbn_step, x, decay=DECAY, v_th=V_TH, bn=bn, spike_fn=SPIKE)
u = torch.zeros(B, C)
s_ref = torch.zeros(T, B, C)
w, b = [0.8, 1.3, 0.6], [0.1, -0.2, 0.3]
for t in range(T):
    u = DECAY * u + x[t]
    for k in range(C):
        col = u[:, k].tolist()
        mu = sum(col) / B
        var = sum((c - mu) ** 2 for c in col) / B  # batch norm uses the biased variance
        for i in range(B):
            z = w[k] * (col[i] - mu) / math.sqrt(var + EPS) + b[k]
            assert abs(z - V_TH) > 1e-9
            s_ref[t, i, k] = 1.0 if z >= V_TH else 0.0
    u = u * (1 - s_ref[t])
assert 0.05 < s_ref.mean() < 0.6
torch.testing.assert_close(s_impl, s_ref, rtol=0, atol=0)
torch.testing.assert_close(states[-1], u, rtol=1e-12, atol=1e-12)  # the carried potential is un-normalized

# %% [markdown]
# **Claim 2 (re-parameterization).** With fixed statistics (evaluation mode) and $\gamma > 0$, MPBN followed by the
# threshold $V_{th}$ fires exactly when $u \ge \hat V_{th} = \mu + (V_{th} - \beta)\sqrt{\sigma^2 + \epsilon}/\gamma$, so
# the trained network equals a plain LIF network (core `lif_step`) with per-channel thresholds $\hat V_{th}$.

# %%  catches: folding with the wrong sign of beta, with sigma instead of sqrt(sigma^2 + eps), or dividing by gamma twice
for _ in range(5):  # a few training batches to move the running statistics away from (0, 1)
    multi_step(mpbn_step, 1.2 * torch.randn(T, B, C, generator=g) + 0.7, decay=DECAY, v_th=V_TH, bn=bn, spike_fn=SPIKE)
bn.eval()
v_hat = folded_threshold(v_th=V_TH, mean=bn.running_mean, var=bn.running_var, weight=bn.weight.detach(),
                         bias=bn.bias.detach(), eps=EPS)
torch.testing.assert_close(bn(v_hat.view(1, C)).detach().flatten(), torch.full((C,), V_TH), rtol=1e-12, atol=1e-12)
xe = 1.2 * torch.randn(T, B, C, generator=g) + 0.5
with torch.no_grad():
    s_mp, st_mp = multi_step(mpbn_step, xe, decay=DECAY, v_th=V_TH, bn=bn, spike_fn=SPIKE)
    s_lif, st_lif = multi_step(lif_step, xe, tau=1 / (1 - DECAY), v_th=v_hat, v_reset=0.0, decay_input=False,
                               spike_fn=SPIKE)
    h_all = torch.stack([DECAY * (st_lif[t - 1] if t else torch.zeros(B, C)) + xe[t] for t in range(T)])
assert ((h_all - v_hat).abs() > 1e-9).all()  # margins: no spike decided by rounding
assert s_lif.sum() > 50
torch.testing.assert_close(s_mp, s_lif, rtol=0, atol=0)  # folded LIF == MPBN network
torch.testing.assert_close(torch.stack(st_mp), torch.stack(st_lif), rtol=1e-12, atol=1e-12)
try:
    folded_threshold(v_th=V_TH, mean=torch.zeros(2), var=torch.ones(2), weight=torch.tensor([1.0, -0.5]),
                     bias=torch.zeros(2), eps=EPS)
except ValueError as e:
    assert "gamma" in str(e)  # a negative scale flips the inequality: cannot fold
else:
    raise AssertionError("negative gamma folded")
try:
    folded_threshold(v_th=V_TH, mean=torch.zeros(2), var=torch.ones(2), weight=torch.tensor([1.0, 0.0]),
                     bias=torch.zeros(2), eps=EPS)
except ValueError:
    pass
else:
    raise AssertionError("zero gamma folded")

fig, ax = plt.subplots(figsize=(8, 3))
for k in range(C):
    ax.plot(h_all[:, 0, k], f"C{k}.-", label=f"channel {k}: $u_t$")
    ax.axhline(v_hat[k].item(), color=f"C{k}", ls="--", lw=0.8)
ax.set_xlabel("t"); ax.set_title(r"potentials of one sample and the folded thresholds $\hat V_{th}$ (dashed)")
ax.legend(fontsize=8); plt.show()

# %% [markdown]
# **Claim 3 (training gradient).** MPBN is trained by BPTT with a surrogate: for $L = \sum_t c_t \cdot o_t$ the gradients
# with respect to the input $x_t$ and to $\gamma, \beta$ pass through the batch statistics of every $u_t$, the
# surrogate $g'(z - V_{th}) = \max(0, a - |z - V_{th}|)/a^2$ (triangle, $a = 0.7$) and the reset $u_t(1 - o_t)$. A reference
# written here from the equations in plain torch (batch mean and biased variance by hand, the surrogate as
# $o = \Theta + (z - \mathrm{sg}(z))\,g'$, no snnref) gives the same autograd gradients.

# %%  catches: a spike, charge or reset cut from the graph, the surrogate's width, a reset gradient dropped
A_TRI = 0.7
SPIKE_G = partial(triangle_spike, alpha=A_TRI)
xg = 1.2 * torch.randn(T, B, C, generator=g) + torch.tensor([0.4, 1.0, -0.3])
cg = torch.randn(T, B, C, generator=g)  # loss weights


def mpbn_reference(x_seq, gamma, beta, reset_grad=True):
    """The MPBN forward pass from its equations, with the triangle surrogate in the backward pass."""
    u, out = torch.zeros(B, C), []
    for t in range(T):
        u = DECAY * u + x_seq[t]
        mu = u.mean(0)
        var = ((u - mu) ** 2).mean(0)
        z = gamma * (u - mu) / torch.sqrt(var + EPS) + beta - V_TH
        o = (z >= 0).double() + (z - z.detach()) * torch.clamp(A_TRI - z.detach().abs(), min=0) / A_TRI**2
        out.append(o)
        u = u * (1 - (o if reset_grad else o.detach()))
    return torch.stack(out)


bn = make_bn()
x1, x2 = xg.clone().requires_grad_(True), xg.clone().requires_grad_(True)
s1, _ = multi_step(mpbn_step, x1, decay=DECAY, v_th=V_TH, bn=bn, spike_fn=SPIKE_G)
assert s1.requires_grad  # catches a charge, BN-fire or spike function cut from the graph
gx1, gw1, gb1 = torch.autograd.grad((cg * s1).sum(), (x1, bn.weight, bn.bias), allow_unused=True)
assert gx1 is not None  # catches a membrane charge cut from the graph (only gamma, beta would get gradients)
gamma2 = torch.tensor([0.8, 1.3, 0.6], requires_grad=True)
beta2 = torch.tensor([0.1, -0.2, 0.3], requires_grad=True)
s2 = mpbn_reference(x2, gamma2, beta2)
gx2, gw2, gb2 = torch.autograd.grad((cg * s2).sum(), (x2, gamma2, beta2))
torch.testing.assert_close(s1, s2.detach(), rtol=0, atol=0)  # same spikes
assert gx2.abs().max() > 1e-2 and (gb2.abs() > 1e-2).all()  # the gradient is not vacuous
torch.testing.assert_close(gx1, gx2, rtol=1e-9, atol=1e-11)  # BPTT through BN statistics, surrogate and reset
torch.testing.assert_close(gw1, gw2, rtol=1e-9, atol=1e-11)  # gradient of gamma
torch.testing.assert_close(gb1, gb2, rtol=1e-9, atol=1e-11)  # gradient of beta
# the reset path carries gradient here: without it (u * (1 - sg(o))) the input gradient clearly differs
x3 = xg.clone().requires_grad_(True)
(gx3,) = torch.autograd.grad((cg * mpbn_reference(x3, gamma2, beta2, reset_grad=False)).sum(), x3)
assert (gx3 - gx2).abs().max() > 0.1 * gx2.abs().max()  # so the comparison above is sensitive to the reset path

# %% [markdown]
# Verified: in training MPBN normalizes the membrane potential with per-step batch statistics before firing and
# resets the un-normalized potential; after training the BN folds exactly into per-channel thresholds, and the
# network is then a plain LIF network with identical spikes and potentials; the surrogate-gradient BPTT through the
# batch statistics, the triangle surrogate and the reset equals a plain-torch reference written from the equations.
