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
# # tdBN: threshold-dependent batch normalization (Zheng et al., AAAI 2021)
# Batch normalization for spiking layers that pools statistics over time as well as batch and space, and scales
# the normalized pre-activations to the firing threshold, $\hat x = \alpha V_{th}(x - \mu)/\sqrt{\sigma^2 + \epsilon}$.

# %%
import math

import matplotlib.pyplot as plt
import torch

from snnref.neuron import lif_step
from snnref.surrogate import atan_spike
from snnref.training.tdbn import TdBatchNorm, td_batch_norm, td_batch_stats

torch.set_default_dtype(torch.float64)
V_TH, ALPHA = 0.7, 0.8

# %% [markdown]
# **Claim 1 (statistics over time, batch and space).** Before the affine step every channel of the output has mean 0
# and standard deviation $\alpha V_{th}\,\sigma/\sqrt{\sigma^2+\epsilon}$ when the statistics are pooled over $(T, B, H, W)$;
# the result equals PyTorch's `BatchNorm2d` applied to the sequence folded to $[TB, C, H, W]$, times $\alpha V_{th}$.
# A per-time-step normalization would erase a trend over time, tdBN keeps it. The statistics and the layer are also
# checked element by element against the definition (on a cube-shaped input, so an axis mix-up gives wrong numbers),
# and the backward pass through the batch statistics equals `BatchNorm2d`'s times $\alpha V_{th}$.

# %%  catches: statistics over the wrong dimensions, missing alpha*V_th, unbiased variance in the batch statistics
g = torch.Generator().manual_seed(0)
T, B, C, H, W = 4, 6, 3, 5, 5
trend = torch.arange(T).view(T, 1, 1, 1, 1) * 0.9  # mean rises over time
x = 3.0 * torch.randn(T, B, C, H, W, generator=g) + torch.tensor([1.5, -2.0, 0.3]).view(1, 1, C, 1, 1) + trend

# the statistics alone, against per-channel sums written here (shape first: one value per channel)
mean_i, var_i = td_batch_stats(x)
assert mean_i.shape == (C,) and var_i.shape == (C,)  # catches statistics kept over time/batch/space, or over C
mu_ref = torch.tensor([x[:, :, k].sum().item() / x[:, :, k].numel() for k in range(C)])
var_ref = torch.tensor([((x[:, :, k] - mu_ref[k]) ** 2).sum().item() / x[:, :, k].numel() for k in range(C)])
torch.testing.assert_close(mean_i, mu_ref, rtol=1e-12, atol=1e-12)  # catches pooling the wrong axis into channel k
torch.testing.assert_close(var_i, var_ref, rtol=1e-12, atol=1e-12)  # biased variance over (T, B, H, W)

# the full layer on a cube (every dimension the same size, so a wrong axis gives wrong numbers instead of a shape
# error), element by element from the definition, with non-trivial lambda and beta
xq = 2.0 * torch.randn(3, 3, 3, 3, 3, generator=g) + torch.tensor([0.4, -1.1, 2.3]).view(1, 1, 3, 1, 1)
bq = TdBatchNorm(3, v_th=V_TH, alpha=ALPHA)
with torch.no_grad():
    bq.weight.copy_(torch.tensor([0.6, 1.7, -0.9])); bq.bias.copy_(torch.tensor([0.2, -0.4, 0.05]))
yq = bq(xq)
yq_ref = torch.empty_like(xq)
for k in range(3):
    vals = xq[:, :, k]
    mu = vals.sum() / vals.numel()
    var = ((vals - mu) ** 2).sum() / vals.numel()
    yq_ref[:, :, k] = bq.weight[k] * ALPHA * V_TH * (vals - mu) / math.sqrt(var.item() + 1e-5) + bq.bias[k]
torch.testing.assert_close(yq, yq_ref.detach(), rtol=1e-12, atol=1e-12)  # catches a statistic/parameter on the wrong axis

bn = TdBatchNorm(C, v_th=V_TH, alpha=ALPHA)
y = bn(x)
for k in range(C):
    vals = x[:, :, k].flatten().tolist()
    mu = sum(vals) / len(vals)
    var = sum((v - mu) ** 2 for v in vals) / len(vals)
    yk = y[:, :, k].flatten()
    assert math.isclose(yk.mean().item(), 0.0, abs_tol=1e-12)
    sd = math.sqrt(sum(v * v for v in yk.tolist()) / len(vals))
    assert math.isclose(sd, ALPHA * V_TH * math.sqrt(var / (var + 1e-5)), rel_tol=1e-10)  # scaled to alpha*V_th
ref = torch.nn.BatchNorm2d(C, eps=1e-5, dtype=torch.float64)
xr = x.clone().requires_grad_(True)
y = bn(xr)
assert y.requires_grad  # catches a normalization cut from the graph (no gradient would reach earlier layers)
xf = x.reshape(T * B, C, H, W).clone().requires_grad_(True)
y_ref = ALPHA * V_TH * ref(xf)
torch.testing.assert_close(y, y_ref.reshape(x.shape), rtol=1e-12, atol=1e-12)
# backward through the batch statistics: the same as BatchNorm2d's, times alpha*V_th
cw = torch.randn(x.shape, generator=g)
(gx,) = torch.autograd.grad((y * cw).sum(), xr)
(gx_ref,) = torch.autograd.grad((y_ref * cw.reshape(T * B, C, H, W)).sum(), xf)
assert gx.abs().max() > 1e-3  # not vacuous
torch.testing.assert_close(gx, gx_ref.reshape(x.shape), rtol=1e-10, atol=1e-12)  # catches detached mean/var or output
# time trend survives (per-step BN would give every t the same mean, 0)
step_means = y.mean(dim=(1, 2, 3, 4))
assert (step_means.diff() > 0.1).all()  # catches per-time-step statistics

# %% [markdown]
# **Claim 2 (affine step and running statistics).** $y = \lambda\hat x + \beta$ per channel; in training the running
# mean and variance move by the momentum towards the batch mean and the *unbiased* batch variance, exactly as
# `BatchNorm2d` does on the folded tensor, and evaluation normalizes with those running values. The affine gradients
# are $\partial L/\partial\beta_k = \sum g_k$ and $\partial L/\partial\lambda_k = \sum g_k\hat x_k$.

# %%  catches: affine parameters applied per time step instead of per channel, wrong momentum, biased running variance
bn = TdBatchNorm(C, v_th=V_TH, alpha=ALPHA, momentum=0.3)
ref = torch.nn.BatchNorm2d(C, eps=1e-5, momentum=0.3, dtype=torch.float64)
with torch.no_grad():
    for p, q in [(bn.weight, ref.weight), (bn.bias, ref.bias)]:
        p.copy_(torch.tensor([0.6, 1.7, -0.9]) if p is bn.weight else torch.tensor([0.2, -0.4, 0.05]))
        q.copy_(p)
for _ in range(3):
    xb = 2.0 * torch.randn(T, B, C, H, W, generator=g) + 0.7
    out = bn(xb)
    ref_out = ref(xb.reshape(T * B, C, H, W)).reshape(xb.shape)
    # BatchNorm2d's affine acts after the unit normalization: lambda*(alpha V_th x_hat) + beta vs alpha V_th (lambda x_hat) + ...
    mean, var = td_batch_stats(xb)
    manual = td_batch_norm(xb, mean, var, v_th=V_TH, alpha=ALPHA, weight=bn.weight, bias=bn.bias, eps=1e-5)
    torch.testing.assert_close(out, manual, rtol=0, atol=0)
    # dL/d beta_k = sum of the upstream gradient over channel k; dL/d lambda_k = sum of it times x_hat_k
    cw = torch.randn(xb.shape, generator=g)
    gw, gb = torch.autograd.grad((out * cw).sum(), (bn.weight, bn.bias))
    x_hat = (out - bn.bias.view(1, 1, C, 1, 1)) / bn.weight.view(1, 1, C, 1, 1)
    torch.testing.assert_close(gb, cw.sum(dim=(0, 1, 3, 4)), rtol=1e-12, atol=1e-12)  # bias gradient per channel
    torch.testing.assert_close(gw, (cw * x_hat).sum(dim=(0, 1, 3, 4)).detach(), rtol=1e-10, atol=1e-10)  # weight gradient
    x_unit = (ref_out - ref.bias.view(1, 1, C, 1, 1)) / ref.weight.view(1, 1, C, 1, 1)
    torch.testing.assert_close(out, bn.weight.view(1, 1, C, 1, 1) * ALPHA * V_TH * x_unit + bn.bias.view(1, 1, C, 1, 1),
                               rtol=1e-10, atol=1e-10)
torch.testing.assert_close(bn.running_mean, ref.running_mean, rtol=1e-12, atol=1e-12)  # momentum update
torch.testing.assert_close(bn.running_var, ref.running_var, rtol=1e-12, atol=1e-12)  # unbiased running variance
bn.eval(); ref.eval()
xe = torch.randn(T, B, C, H, W, generator=g)
ref_e = ref(xe.reshape(T * B, C, H, W)).reshape(xe.shape)
x_unit = (ref_e - ref.bias.view(1, 1, C, 1, 1)) / ref.weight.view(1, 1, C, 1, 1)
torch.testing.assert_close(bn(xe), bn.weight.view(1, 1, C, 1, 1) * ALPHA * V_TH * x_unit + bn.bias.view(1, 1, C, 1, 1),
                           rtol=1e-10, atol=1e-10)  # evaluation uses the running statistics
for kw in [dict(v_th=0.0), dict(v_th=1.0, momentum=0.0), dict(v_th=1.0, momentum=1.5)]:
    try:
        TdBatchNorm(C, **kw)
    except ValueError as e:
        assert ("v_th" in str(e)) == (kw["v_th"] <= 0)
    else:
        raise AssertionError(kw)
assert TdBatchNorm(C, v_th=1.0, momentum=1.0).momentum == 1.0

# %% [markdown]
# **Claim 3 (balanced firing, toy scale).** Because normalized pre-activations are $\mathcal{N}(0, (\alpha V_{th})^2)$,
# a neuron starting from rest and receiving $y$ fires on its first step with probability
# $P(y \ge V_{th}) = 1 - \Phi(1/\alpha)$, independent of the scale and offset of the raw input (so $\alpha$ sets how much
# of a layer is active, the paper's motivation for scaling by the threshold).

# %%  catches: normalizing to unit variance (the threshold ignored), normalization that depends on the input scale
N = 400_000
for alpha, scale, offset in [(1.0, 12.0, 3.7), (0.5, 0.03, -1.0), (1.6, 250.0, 40.0)]:
    raw = scale * torch.randn(1, N, 1, generator=g) + offset  # [T=1, B=N, C=1]
    yb = TdBatchNorm(1, v_th=V_TH, alpha=alpha)(raw)
    s, _ = lif_step(yb[0], torch.zeros_like(yb[0]), tau=1.9, v_th=V_TH, decay_input=False, spike_fn=atan_spike)
    p = 0.5 * math.erfc((1 / alpha) / math.sqrt(2))
    assert math.isclose(s.mean().item(), p, abs_tol=5 * math.sqrt(p * (1 - p) / N)), (alpha, s.mean().item(), p)

fig, ax = plt.subplots(figsize=(7, 3))
for alpha in [0.5, 1.0, 1.6]:
    yb = TdBatchNorm(1, v_th=V_TH, alpha=alpha)(5 * torch.randn(1, 20000, 1, generator=g) + 2)
    ax.hist(yb.flatten().detach(), bins=120, histtype="step", density=True, label=rf"$\alpha$={alpha}")
ax.axvline(V_TH, color="k", lw=0.8, label="$V_{th}$"); ax.legend(fontsize=8); ax.set_xlabel("normalized pre-activation")
plt.show()

# %% [markdown]
# Verified: tdBN pools statistics over time, batch and space (brute force and `BatchNorm2d` on the folded tensor agree),
# scales to $\alpha V_{th}$, keeps a trend over time, applies per-channel affine parameters, tracks running statistics
# like `BatchNorm2d`, and makes the first-step firing probability $1 - \Phi(1/\alpha)$ whatever the input scale.
