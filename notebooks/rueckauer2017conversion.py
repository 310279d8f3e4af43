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
# # Data-based normalization and reset by subtraction (Rueckauer et al., Frontiers in Neuroscience 2017)
# A ReLU network becomes an integrate-and-fire network whose firing rates reproduce the activations, once each
# layer is scaled by a robust estimate of its largest activation and neurons reset by subtraction.

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from snnref.conversion.toolkit import (
    SpikingNeuron, activation_values, compute_thresholds, constant_input, convert, cumulative_mean, fold_batchnorm,
    normalize_weights, simulate, simulate_layers, snn_output, threshold_balancing,
)
from snnref.neuron import if_step, multi_step
from snnref.surrogate import heaviside

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)

# A toy task: three Gaussian blobs in 6-D, and a ReLU MLP with batch norm trained on it.
g = torch.Generator().manual_seed(0)
centers = torch.randn(3, 6, generator=g) * 1.5
labels = torch.randint(0, 3, (300,), generator=g)
data = centers[labels] + torch.randn(300, 6, generator=g)
torch.manual_seed(0)
ann_bn = nn.Sequential(nn.Linear(6, 32), nn.BatchNorm1d(32), nn.ReLU(),
                       nn.Linear(32, 24), nn.BatchNorm1d(24), nn.ReLU(), nn.Linear(24, 3))
opt = torch.optim.Adam(ann_bn.parameters(), lr=1e-2)
for _ in range(80):
    opt.zero_grad()
    nn.functional.cross_entropy(ann_bn(data), labels).backward()
    opt.step()
ann_bn.eval().requires_grad_(False)
print("ANN training accuracy:", (ann_bn(data).argmax(1) == labels).double().mean().item())

# %% [markdown]
# **Claim 1 (Sec. 2.1, first layer, reset by subtraction).** An IF neuron with threshold $\theta$, $V_0 = 0$ and
# reset by subtraction, driven by a constant current $z \in [0, \theta]$, has after $t$ steps
# $N_t = \lfloor t z/\theta \rfloor$ spikes, so its rate obeys the paper's identity
# $r(t) = N_t/t = \frac{z}{\theta} - \frac{V_t}{t\,\theta}$ with $0 \le V_t < \theta$: the rate equals the
# normalized activation up to an error below $1/t$. With reset to zero the residual charge is lost: the neuron
# fires every $k = \lceil \theta/z \rceil$ steps, $N_t = \lfloor t/k \rfloor$, an error that does not vanish with $t$.
# The same charge balance from any start $V_0$ (the toolkit's `v0_frac`, later used by Bu et al. 2022) reads
# $\theta N_t = t z + V_0 - V_t$, so with $V_0 = \theta/2$ the count is $N_t = \lfloor t z/\theta + 1/2 \rfloor$,
# neuron by neuron when each has its own threshold $\theta_i$.

# %%
theta, T = 1.3, 240
frac = torch.rand(40, generator=g) * 0.94 + 0.03  # z/theta, away from 0 and 1
z = frac * theta
t = torch.arange(1, T + 1).unsqueeze(1)  # [T, 1]
# margin: t z / theta (and t z / theta + 1/2) never within 1e-9 of an integer, so rounding cannot decide a spike
assert ((t * frac) - (t * frac).round()).abs().min() > 1e-9
assert ((t * frac + 0.5) - (t * frac + 0.5).round()).abs().min() > 1e-9

theta_i = torch.linspace(0.8, 1.7, 40)  # one threshold per neuron, none equal to 1
half = SpikingNeuron(v_th=theta_i, v0_frac=0.5)
assert half.params.get("spike_fn") is heaviside  # catches the converted layer firing with a surrogate, not the exact step
out_half = half(constant_input(frac * theta_i, T))  # [T, 40], emits theta_i * S_t
torch.testing.assert_close(out_half.cumsum(0) / theta_i, torch.floor(t * frac + 0.5), rtol=0, atol=1e-9)  # catches V_0 = 0, -theta/2, v0_frac / theta or V_0 taken from the input

out_sub = SpikingNeuron(v_th=theta, v_reset=None)(constant_input(z, T))  # [T, 40], emits theta * S_t
count_sub = out_sub.cumsum(0) / theta
torch.testing.assert_close(count_sub, torch.floor(t * frac), rtol=0, atol=1e-9)  # catches hard reset, '>' vs '>=', emitted amplitude != theta

_, v_states = multi_step(if_step, constant_input(z, T), v_th=theta, v_reset=None, spike_fn=heaviside)
v_t = torch.stack(v_states)  # [T, 40] membrane after each step
torch.testing.assert_close(count_sub / t, frac - v_t / (t * theta), rtol=0, atol=1e-12)  # catches a core reset that subtracts other than theta
assert bool((v_t >= -1e-12).all() and (v_t < theta).all())  # catches a residual left above threshold
assert bool((frac - count_sub / t < 1 / t + 1e-12).all())  # the 1/t error bound of the paper

out_zero = SpikingNeuron(v_th=theta, v_reset=0.0)(constant_input(z, T))
k = torch.ceil(1 / frac)
torch.testing.assert_close(out_zero.cumsum(0) / theta, torch.floor(t / k), rtol=0, atol=1e-9)  # catches v_reset ignored (soft reset used)
assert (frac - 1 / k).max() > 0.2  # reset to zero keeps a large error at t = T

# %% [markdown]
# The toolkit refuses networks the conversion does not cover: unfolded batch norm, max pooling, a wrong number
# of thresholds, an unknown normalization method or percentile.

# %%
mlp = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Linear(32, 24), nn.ReLU(), nn.Linear(24, 3))  # two activations
for bad in (lambda: convert(ann_bn, [1.0, 1.0]), lambda: convert(nn.Sequential(nn.MaxPool2d(2)), []),
            lambda: convert(mlp, [1.0]), lambda: convert(mlp, [1.0, 1.0, 1.0]), lambda: convert(mlp, [1.0] * 4),
            lambda: compute_thresholds(mlp, data, method="mean"), lambda: compute_thresholds(mlp, data, p=0.0),
            lambda: fold_batchnorm(nn.Sequential(nn.ReLU(), nn.BatchNorm1d(3))),
            lambda: SpikingNeuron(v_th=0.0), lambda: constant_input(data, 0)):
    try:
        bad()
    except ValueError:
        continue
    raise AssertionError("invalid input accepted")  # catches a dropped validation, or thresholds indexed from 1 / every other one
assert [m.v_th for m in convert(mlp, [0.7, 1.9]) if isinstance(m, SpikingNeuron)] == [0.7, 1.9]  # thresholds in layer order

# %% [markdown]
# **Claim 2 (Sec. 2.2.3, batch normalization).** A BN layer after a linear layer is absorbed into it:
# $\tilde W = \frac{\gamma}{\sigma} W$, $\tilde b = \frac{\gamma}{\sigma}(b - \mu) + \beta$ with
# $\sigma = \sqrt{\mathrm{Var} + \epsilon}$, one factor per output unit or channel, leaving the network's function
# (in inference mode) unchanged. Checked first on square layers (a per-unit scale broadcast along the wrong axis then
# gives wrong numbers instead of an error) against the formula written out here, then on the trained MLP and a CNN.

# %%
def bn_with_stats(bn):  # random running statistics and affine parameters, away from the identity
    with torch.no_grad():
        bn.running_mean.uniform_(-0.5, 0.5, generator=g)
        bn.running_var.uniform_(0.3, 2.0, generator=g)
        if bn.affine:
            bn.weight.uniform_(0.5, 1.5, generator=g)
            bn.bias.uniform_(-0.3, 0.3, generator=g)
    return bn


for lin, bn, x in ((nn.Linear(2, 2), nn.BatchNorm1d(2), torch.randn(5, 2, generator=g)),
                   (nn.Conv2d(3, 3, 3), nn.BatchNorm2d(3), torch.randn(4, 3, 5, 5, generator=g)),
                   (nn.Conv2d(3, 3, 3, bias=False), nn.BatchNorm2d(3, affine=False), torch.randn(4, 3, 5, 5, generator=g))):
    seq = nn.Sequential(lin, bn_with_stats(bn)).eval().requires_grad_(False)
    fused = fold_batchnorm(seq)
    assert len(fused) == 1 and type(fused[0]) is type(lin)  # the BN is gone, the linear layer kept
    w, b = fused[0].weight, fused[0].bias
    assert w.shape == lin.weight.shape and b.shape == (3 if lin.weight.dim() == 4 else 2,)  # catches a mis-shaped scale
    gamma = bn.weight if bn.affine else torch.ones(3)
    beta = bn.bias if bn.affine else torch.zeros(3)
    sigma = torch.sqrt(bn.running_var + bn.eps)
    bias0 = lin.bias if lin.bias is not None else torch.zeros(3)
    per_unit = (-1,) + (1,) * (lin.weight.dim() - 1)
    torch.testing.assert_close(w, lin.weight * (gamma / sigma).reshape(per_unit), rtol=1e-12, atol=1e-14)  # catches scale along the wrong axis, sigma without eps or sqrt
    torch.testing.assert_close(b, gamma / sigma * (bias0 - bn.running_mean) + beta, rtol=1e-12, atol=1e-14)  # catches mu or beta dropped, bias not scaled
    torch.testing.assert_close(fused(x), seq(x), rtol=1e-10, atol=1e-12)

ann = fold_batchnorm(ann_bn).requires_grad_(False)
assert [tuple(m.weight.shape) for m in ann if hasattr(m, "weight")] == [(32, 6), (24, 32), (3, 24)]
torch.testing.assert_close(ann(data), ann_bn(data), rtol=1e-10, atol=1e-10)  # catches var without eps or sqrt, beta dropped
assert not any(isinstance(m, nn.BatchNorm1d) for m in ann)
conv_bn = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.AvgPool2d(2),
                        nn.Conv2d(4, 3, 3, bias=False), nn.BatchNorm2d(3, affine=False), nn.ReLU(),
                        nn.Flatten(), nn.Linear(12, 3))
images = torch.rand(16, 2, 8, 8, generator=g)
conv_bn.train()
for _ in range(3):
    conv_bn(images + torch.rand(16, 2, 8, 8, generator=g))  # non-trivial running statistics
with torch.no_grad():
    conv_bn[1].weight.uniform_(0.5, 1.5)
    conv_bn[1].bias.uniform_(-0.2, 0.2)
conv_bn.eval().requires_grad_(False)
conv = fold_batchnorm(conv_bn).requires_grad_(False)
torch.testing.assert_close(conv(images), conv_bn(images), rtol=1e-10, atol=1e-10)  # per-channel scale on Conv2d, no-bias conv, affine=False

# %% [markdown]
# **Claim 3 (Sec. 2.2.2, data-based normalization).** $\lambda^l$ is the maximum, or robustly the $p$-th
# percentile ($p \in [99, 99.9999]$ in the paper), of layer $l$'s ReLU activations on the training data. Scaling
# layer $l$ so that $\lambda^l$ maps to the threshold makes the largest first-layer activation fire at the maximal
# rate 1 (one spike per step), every other neuron below it; with a percentile, the activations above
# $\lambda^l$ are clipped to rate 1. Spike-based threshold balancing (the model-based alternative) agrees with the
# data-based maximum in the first layer under analog input, and is larger in deeper layers.

# %%
acts = [torch.relu(ann[:1](data)), torch.relu(ann[:3](data))]  # independent forward through slices
lam_max = compute_thresholds(ann, data, method="max")
for lam, a in zip(lam_max, acts):
    assert math.isclose(lam, a.max().item(), rel_tol=1e-12)  # catches a mean/last-batch statistic instead of max
for p in (99.0, 99.9):
    lam_p = compute_thresholds(ann, data, method="percentile", p=p)
    lam_nz = compute_thresholds(ann, data, method="percentile", p=p, nonzero=True)
    for lp, ln, a in zip(lam_p, lam_nz, acts):
        a = a.flatten().numpy()
        assert math.isclose(lp, np.percentile(a, p), rel_tol=1e-12)  # catches p used as a fraction, wrong interpolation
        assert math.isclose(ln, np.percentile(a[a != 0], p), rel_tol=1e-12)  # catches zeros not dropped (toolbox rule)
    assert lam_p[0] < lam_max[0] and lam_nz[0] > lam_p[0]  # non-degenerate: the three statistics differ

# Every module runs per time step and per sample: one sample simulated alone gives that sample's rows of the batch.
snn = convert(ann, lam_max)
one = simulate_layers(snn, constant_input(data[:1], 30))
assert [tuple(o.shape) for o in one] == [(30, 1, 32), (30, 1, 32), (30, 1, 24), (30, 1, 24), (30, 1, 3)]  # catches time and batch not folded together for the linear layers
for o, o_all in zip(one, simulate_layers(snn, constant_input(data, 30))):
    torch.testing.assert_close(o, o_all[:, :1], rtol=1e-12, atol=1e-12)  # catches state shared across the batch

T = 400
first = simulate_layers(convert(ann, lam_max), constant_input(data, T))[1]  # [T, B, 32] first spiking layer
rate = first.mean(0) / lam_max[0]
assert rate.max() <= 1 and rate.max() >= 1 - 1 / T  # catches thresholds that are not the max activation
torch.testing.assert_close(rate, torch.floor(T * acts[0] / lam_max[0]) / T, rtol=0, atol=1 / T + 1e-12)

lam_p = compute_thresholds(ann, data, method="percentile", p=99.0)
first_p = simulate_layers(convert(ann, lam_p), constant_input(data, T))[1].mean(0) / lam_p[0]
above = acts[0] > lam_p[0]
assert 0 < above.double().mean() <= 0.01 + 1e-12  # at most 1 % of the activations exceed the 99th percentile
assert bool((first_p[above] == 1).all())  # clipped neurons fire on every step

# Spike-based threshold balancing (the model-based alternative the paper compares with) sees, under constant analog
# input, the same first-layer currents as the data, so its first threshold is the data-based maximum.
x_seq = constant_input(data, 20)
theta_tb = threshold_balancing(ann, x_seq)
assert math.isclose(theta_tb[0], lam_max[0], rel_tol=1e-9)  # catches max over the wrong layer's input
layer2_in = simulate_layers(convert(ann, [theta_tb[0], 1.0]), x_seq)[2]  # currents into the second spiking layer
assert math.isclose(theta_tb[1], layer2_in.max().item(), rel_tol=1e-12)  # catches thresholds not carried over
assert theta_tb[1] > lam_max[1]  # instantaneous spike currents overshoot the mean activation
# A network whose first module is a neuron layer (spiking input neurons) balances that layer on the raw input.
theta_in = threshold_balancing(nn.Sequential(nn.ReLU(), ann[0]), x_seq)
assert theta_in == [data.max().item()]  # catches the first layer's current taken from another module's output

# %% [markdown]
# **Claim 4 (Sec. 2.2.2, weight normalization).** Rescaling $W^l \to W^l \lambda^{l-1}/\lambda^l$ and
# $b^l \to b^l/\lambda^l$ divides every activation of layer $l$ by $\lambda^l$, so the maximum becomes 1; an SNN
# with these weights and unit thresholds emits exactly the spike trains of the unscaled SNN whose thresholds
# are $\lambda^l$ (and whose spikes carry $\lambda^l$).

# %%
# Layer by layer: normalizing the first one or two layers alone (no read-out) divides their activations by lambda^l.
for depth in (1, 2):
    part = normalize_weights(ann[:2 * depth], lam_max[:depth])
    for a_norm, a, lam in zip(activation_values(part, data), acts, lam_max):
        torch.testing.assert_close(a_norm, a / lam, rtol=1e-12, atol=1e-12)  # catches lambda indexed past layer l, lambda^0 != 1
norm = normalize_weights(ann, lam_max)
for a_norm, a, lam in zip(activation_values(norm, data), acts, lam_max):
    torch.testing.assert_close(a_norm, a / lam, rtol=1e-12, atol=1e-12)  # catches lambda^{l-1} missing or bias unscaled
    assert math.isclose(a_norm.max().item(), 1.0, rel_tol=1e-12)
torch.testing.assert_close(norm(data), ann(data), rtol=1e-12, atol=1e-12)  # the read-out stays in ANN units

x_seq = constant_input(data, 60)
lam_p = compute_thresholds(ann, data, method="percentile", p=99.5)  # interpolated: no activation sits on a threshold
outs_scaled = simulate_layers(convert(ann, lam_p), x_seq)
outs_unit = simulate_layers(convert(normalize_weights(ann, lam_p), [1.0, 1.0]), x_seq)
for k, i in enumerate((1, 3)):  # the two spiking layers
    assert torch.equal(outs_scaled[i] / lam_p[k], outs_unit[i])  # identical spike trains
torch.testing.assert_close(outs_scaled[-1], outs_unit[-1], rtol=1e-9, atol=1e-12)

# %% [markdown]
# **Claim 5 (Sec. 2.1, higher layers; the accuracy-vs-time results).** In deeper layers the rate equation
# $r^l(t) = \sum_j W^l_{ij} r^{l-1}_j(t) + b^l_i - V^l_i(t)/(t\,\theta^l)$ propagates the approximation
# error, which still decays like $1/t$: the converted SNN's outputs approach the ANN's as $T$ grows and its
# classifications converge to the ANN's. Checked on the MLP and on a small CNN with average pooling.

# %%
# The read-out after t steps, (1/t) sum_{s<=t} y_s, against a loop, on one step, a 1-D, a square and a [T, B, N] sequence.
for seq in (torch.tensor([[3.0, -1.0]]), torch.tensor([2.0, 4.0, 0.0, 6.0]), torch.rand(3, 3, generator=g),
            torch.rand(5, 2, 3, generator=g)):
    expected = torch.stack([seq[:s + 1].sum(0) / (s + 1) for s in range(len(seq))])
    torch.testing.assert_close(cumulative_mean(seq), expected, rtol=1e-12, atol=1e-12)  # catches divisor off by one step or along the wrong axis

T = 1000
snn = convert(ann, lam_max)
out_seq = simulate(snn, constant_input(data, T))  # [T, B, 3]
assert out_seq.shape == (T, len(data), 3)  # catches simulate returning a hidden layer instead of the read-out
curve = cumulative_mean(out_seq)  # read-out after every t
torch.testing.assert_close(curve[99], snn_output(snn, data, T=100), rtol=1e-12, atol=1e-12)  # catches wrong divisor in cumulative_mean
y_ann = ann(data)
err = (curve - y_ann).abs().amax(dim=(1, 2))  # [T]
scale = y_ann.abs().max().item()
assert err[T - 1] < 0.01 * scale  # converges to the ANN
assert err[T - 1] < err[99] / 5  # roughly 1/t decay
agree = (curve.argmax(-1) == y_ann.argmax(-1)).double().mean(-1)
assert agree[T - 1] == 1 and agree[4] < 1  # classifications converge

# With percentile thresholds the SNN converges to the ANN whose ReLUs are clipped at lambda^l (written here).
lam_p = compute_thresholds(ann, data, method="percentile", p=99.0)
clipped = nn.Sequential(ann[0], nn.Hardtanh(0, lam_p[0]), ann[2], nn.Hardtanh(0, lam_p[1]), ann[4])
err_p = (snn_output(convert(ann, lam_p), data, T=T) - clipped(data)).abs().max().item()
assert err_p < 0.01 * scale and (clipped(data) - y_ann).abs().max() > 5 * err_p  # catches clipping not at lambda

lam_c = compute_thresholds(conv, images, method="max")
y_conv = conv(images).detach()
err_c = [(snn_output(convert(conv, lam_c), images, T=Tc) - y_conv).abs().max().item() for Tc in (20, 800)]
assert err_c[1] < err_c[0] / 10 and err_c[1] < 0.02 * y_conv.abs().max().item()  # conv/avg-pool layers run per step

fig, ax = plt.subplots(1, 2, figsize=(10, 3.5))
ax[0].plot(t[:40, 0], count_sub[:40, 5] / t[:40, 0], label="reset by subtraction")
ax[0].plot(t[:40, 0], out_zero[:40, 5].cumsum(0) / theta / t[:40, 0], label="reset to zero")
ax[0].axhline(frac[5].item(), color="k", ls=":", label=r"$z/\theta$")
ax[0].set_xlabel("t"); ax[0].set_ylabel("rate"); ax[0].legend()
ax[1].loglog(np.arange(1, T + 1), err.numpy(), label="max |SNN - ANN|")
ax[1].loglog(np.arange(1, T + 1), scale / np.arange(1, T + 1), ls="--", label="scale / t")
ax[1].set_xlabel("T"); ax[1].legend()
plt.show()

# %% [markdown]
# Verified: the reset-by-subtraction rate identity and its $1/t$ bound against the floor closed form (also from
# $V_0 = \theta/2$ with per-neuron thresholds), the lasting error of reset to zero, the toolkit's input validation,
# batch-norm folding against the written-out formula (square dense and conv layers, with and without affine) and on
# the trained MLP and a CNN, max / percentile / non-zero-percentile thresholds against NumPy, per-sample independence
# of the simulation, threshold balancing against the data-based maximum and the simulated currents, weight
# normalization layer by layer (activations divided by $\lambda^l$, identical spike trains), the running read-out
# against a loop, and the convergence of converted MLP and CNN outputs to the ANN's.
