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
# # Quantization clip-floor-shift activation (Bu et al., ICLR 2022)
# Train the ANN with the staircase an IF neuron actually computes, shifted by half a step, and the converted SNN
# is accurate at a handful of time steps.

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from snnref.conversion.errors import decompose_conversion_error, layer_conversion_errors, quantized_clip
from snnref.conversion.qcfs import QCFS, convert_qcfs, qcfs_activation
from snnref.conversion.toolkit import SpikingNeuron, compute_thresholds, constant_input, convert, snn_output
from snnref.surrogate import heaviside

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)


def if_count_loop(z: float, theta: float, v0: float, T: int) -> int:
    """Spikes of a soft-reset IF neuron, written from the definition (the notebook's oracle)."""
    v, n = v0, 0
    for _ in range(T):
        v += z
        if v >= theta:
            v -= theta
            n += 1
    return n


# %% [markdown]
# **Claim 1 (Sec. 3, the SNN's activation).** An IF neuron with threshold $\theta$, reset by subtraction and
# $v(0) = \varphi\theta$, driven by a constant input $z$ for $T$ steps, outputs on average
# $\phi(T) = \frac{\theta}{T}\,\mathrm{clip}\!\left(\lfloor \frac{zT}{\theta} + \varphi \rfloor, 0, T\right)$: a
# clipped, floored (for $\varphi = 0$) or rounded (for $\varphi = 1/2$) copy of $z$.
# The converted neuron fires with the exact step where $v \ge \theta$ (the pinned convention: an input of exactly
# $\theta$ fires on the first step).

# %%
theta = 1.7
g = torch.Generator().manual_seed(0)
z = torch.rand(120, generator=g) * 2.4 * theta - 0.5 * theta  # below 0, inside, and above theta
theta_i = torch.linspace(1.5, 1.9, 120)  # first one threshold per neuron, then the shared theta
for th in (theta_i, theta):
    ths = th.tolist() if torch.is_tensor(th) else [th] * len(z)
    for T in (3, 7, 32):
        for phi in (0.0, 0.5):
            u = z * T / th + phi
            assert (u - u.round()).abs().min() > 1e-6  # margin: no input sits on a step edge
            loop = torch.tensor([if_count_loop(v, t_, phi * t_, T) * t_ / T for v, t_ in zip(z.tolist(), ths)])
            snn = SpikingNeuron(v_th=th, v_reset=None, v0_frac=phi)(constant_input(z, T)).mean(0)
            torch.testing.assert_close(snn, loop, rtol=0, atol=1e-12)  # catches v0 ignored or taken from the input, hard reset
            closed = quantized_clip(z, v_th=th, T=T, v0_frac=phi)
            torch.testing.assert_close(closed, loop, rtol=0, atol=1e-12)  # catches floor/round swap, clip at T-1, phi dropped

edge = SpikingNeuron(v_th=theta, v_reset=None)
assert edge.params.get("spike_fn") is heaviside  # catches a surrogate, not the exact step, in the converted layer
torch.testing.assert_close(edge(constant_input(torch.tensor([theta, theta - 1e-9]), 1)), torch.tensor([[theta, 0.0]]),
                           rtol=0, atol=0)  # catches '>' instead of '>=' at the threshold

# %% [markdown]
# **Claim 2 (Theorem 1 and the QCFS definition).** The QCFS activation
# $\hat a = \lambda\,\mathrm{clip}(\frac{1}{L}\lfloor \frac{zL}{\lambda} + \varphi \rfloor, 0, 1)$ equals the IF
# output of Claim 1 when $\theta = \lambda$, $T = L$ and $v(0) = \varphi\theta$, so for a layer fed a constant input
# the converted SNN reproduces the ANN exactly; its deviation from ReLU is only clipping and quantization error. In
# deeper layers the input is no longer even, and what is left is the unevenness error (Sec. 3, Fig. 2).

# %%
lam, L = 1.7, 5
for phi in (0.0, 0.5):
    ann_out = qcfs_activation(z, lam=lam, L=L, phi=phi)
    loop = torch.tensor([if_count_loop(v, lam, phi * lam, L) for v in z.tolist()]) * lam / L
    torch.testing.assert_close(ann_out, loop, rtol=0, atol=1e-12)  # catches L and lam swapped, shift outside the floor
    assert ann_out.unique().numel() == L + 1  # L + 1 levels: 0, lam/L, ..., lam

torch.manual_seed(3)
net = nn.Sequential(nn.Linear(5, 16), QCFS(L=L, lam=1.3), nn.Linear(16, 6), QCFS(L=L, lam=0.9), nn.Linear(6, 2))
x = torch.randn(64, 5, generator=g)
# One threshold per QCFS layer, in order (the converter refuses any other count), and each layer's neurons start from
# its own shift phi * theta unless v0_frac overrides it for all.
for bad in ([1.0], [1.0] * 3, [1.0] * 4):
    try:
        convert(net, bad, activations=(QCFS,))
    except ValueError:
        continue
    raise AssertionError("wrong number of thresholds accepted")  # catches thresholds indexed every other layer
net_mixed = nn.Sequential(nn.Linear(5, 16), QCFS(L=L, lam=1.3, phi=0.25), nn.Linear(16, 6), QCFS(L=L, lam=0.9))
assert [m.v0_frac for m in convert_qcfs(net_mixed, v0_frac=0.75) if isinstance(m, SpikingNeuron)] == [0.75, 0.75]  # catches the override ignored
snn_mixed = convert_qcfs(net_mixed)
assert [(m.v_th, m.v0_frac, m.v_reset) for m in snn_mixed if isinstance(m, SpikingNeuron)] == [
    (1.3, 0.25, None), (0.9, 0.5, None)]  # catches lambda not the threshold, one layer's phi used for all, hard reset

# The first layer alone, for one sample and for the batch: z is the mean current *into* the neurons.
z1 = net[0](x).detach()
for xb in (x[:L], x):   # batch = T first: a mean over the wrong axis gives wrong values, not a crash
    e = layer_conversion_errors(convert_qcfs(net)[:2], constant_input(xb, L))[0]
    assert e.clipping.shape == e.unevenness.shape == (len(xb), 16)  # catches the mean taken over the batch, not time
    torch.testing.assert_close(e.clipping, torch.clamp(z1[:len(xb)], 0, 1.3) - torch.relu(z1[:len(xb)]), rtol=0, atol=1e-12)  # catches z read from the layer's own output
    torch.testing.assert_close(e.total(), net[1](z1[:len(xb)]) - torch.relu(z1[:len(xb)]), rtol=0, atol=1e-12)  # phi: this layer's rate, per sample
errs = layer_conversion_errors(convert_qcfs(net), constant_input(x, L))
torch.testing.assert_close(errs[0].unevenness, torch.zeros_like(z1), rtol=0, atol=1e-12)  # first layer: even input
torch.testing.assert_close(errs[0].clipping + errs[0].quantization, net[1](z1) - torch.relu(z1), rtol=0, atol=1e-12)
torch.testing.assert_close(errs[0].total(), net[1](z1) - torch.relu(z1), rtol=0, atol=1e-12)  # catches a term left out of the total
torch.testing.assert_close(errs[0].clipping, torch.clamp(z1, 0, 1.3) - torch.relu(z1), rtol=0, atol=1e-12)  # clip(z, 0, lam) - ReLU(z)
assert errs[0].clipping.min() < -0.05 and errs[0].quantization.abs().max() > 0.05  # both terms present
assert errs[1].unevenness.abs().max() > 0.1  # second layer: uneven spike arrival shows up
phi2, z2 = snn_output(convert_qcfs(net)[:4], x, T=L), snn_output(convert_qcfs(net)[:3], x, T=L)
assert phi2.shape == z2.shape == errs[1].total().shape  # the read-out is the last layer's output
torch.testing.assert_close(errs[1].total(), phi2 - torch.relu(z2), rtol=0, atol=1e-12)  # the three terms sum to phi - ReLU(z)

# With phi = 0.25 in the first layer (0.5 in the second), the first spiking layer still reproduces its QCFS layer at T = L.
torch.testing.assert_close(snn_output(snn_mixed[:2], x, T=L), net_mixed[:2](x).detach(), rtol=0, atol=1e-12)

# %% [markdown]
# **Claim 3 (Theorem 2).** With $\theta = \lambda$ and $v(0) = \varphi\theta$, for arbitrary $T$ and $L$ the
# expected conversion error $\mathbb{E}_z[\phi(T) - \hat a(z)]$ over $z$ uniform on $[0, \lambda]$ is zero when
# $\varphi = 1/2$. Without the shift ($\varphi = 0$) it is $\frac{\lambda}{2}(\frac{1}{L} - \frac{1}{T})$, non-zero
# whenever $T \ne L$; against plain ReLU, the unshifted SNN is biased by $-\lambda/(2T)$.

# %%
lam = 1.3
for T, L in ((3, 8), (5, 4), (16, 2), (7, 7)):
    n = 2 * T * L * 20  # step edges fall on cell boundaries, so the midpoint rule is exact
    zs = (torch.arange(n) + 0.5) * lam / n
    snn_half = SpikingNeuron(v_th=lam, v0_frac=0.5)(constant_input(zs, T)).mean(0)
    snn_zero = SpikingNeuron(v_th=lam, v0_frac=0.0)(constant_input(zs, T)).mean(0)
    err_half = (snn_half - qcfs_activation(zs, lam=lam, L=L, phi=0.5)).mean().item()
    err_zero = (snn_zero - qcfs_activation(zs, lam=lam, L=L, phi=0.0)).mean().item()
    assert abs(err_half) < 1e-12  # Theorem 2; catches a shift other than 1/2 in either model
    assert math.isclose(err_zero, lam / 2 * (1 / L - 1 / T), abs_tol=1e-12)  # catches phi ignored
    assert math.isclose((snn_zero - zs).mean().item(), -lam / (2 * T), abs_tol=1e-12)
    assert abs((snn_half - zs).mean().item()) < 1e-12

# %% [markdown]
# **Claim 4 (training through the floor).** The floor's gradient is passed straight through (as in the official
# code), so inside the staircase $\partial\hat a/\partial z = 1$ and
# $\partial\hat a/\partial\lambda = \frac{1}{L}\lfloor\frac{zL}{\lambda}+\varphi\rfloor - \frac{z}{\lambda}$;
# above it $\partial\hat a/\partial\lambda = 1$, $\partial\hat a/\partial z = 0$; below it both vanish.

# %%
lam0, L, phi = 1.3, 6, 0.5
zg = torch.rand(200, generator=g) * 2.2 * lam0 - 0.6 * lam0
u = zg * L / lam0 + phi
assert (u - u.round()).abs().min() > 1e-6
layer = QCFS(L=L, lam=lam0, phi=phi)
zr = zg.clone().requires_grad_(True)
out = layer(zr)
assert out.requires_grad and out.grad_fn is not None  # catches a detached activation: nothing to train
out.sum().backward()
level = torch.floor(u)
inside, above = (level >= 0) & (level <= L), level > L
torch.testing.assert_close(zr.grad, inside.double(), rtol=0, atol=0)  # catches a detached floor (zero gradient)
d_lam = torch.where(inside, level / L - zg / lam0, torch.where(above, 1.0, 0.0)).sum()
torch.testing.assert_close(layer.lam.grad, d_lam, rtol=1e-12, atol=1e-12)  # catches lam treated as a constant

for bad in (lambda: QCFS(L=0), lambda: QCFS(L=2.5), lambda: QCFS(L=4, lam=0.0), lambda: QCFS(L=4, phi=1.0),
            lambda: QCFS(L=4, phi=-0.1)):
    try:
        bad()
    except ValueError:
        continue
    raise AssertionError("invalid QCFS hyperparameter accepted")

# %% [markdown]
# **Claim 5 (Tables 1-2, ultra-low latency, toy scale).** A network trained with QCFS ($L = 4$) and converted with
# $\theta = \lambda$, $v(0) = \theta/2$ keeps the ANN's accuracy at $T = L = 4$. Dropping the shift
# ($v(0) = 0$) costs accuracy at small $T$, and a ReLU network converted with data-based thresholds is far
# behind at $T = 4$ although it catches up at large $T$.

# %%
centers = torch.randn(4, 8, generator=g)
labels = torch.randint(0, 4, (400,), generator=g)
data = centers[labels] + torch.randn(400, 8, generator=g)


def train(act) -> nn.Sequential:
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(8, 48), act(), nn.Linear(48, 48), act(), nn.Linear(48, 4))
    opt = torch.optim.Adam(m.parameters(), lr=5e-3)
    for _ in range(120):
        opt.zero_grad()
        nn.functional.cross_entropy(m(data), labels).backward()
        opt.step()
    return m.requires_grad_(False)


def acc(y: torch.Tensor) -> float:
    return (y.argmax(1) == labels).double().mean().item()


q_ann, r_ann = train(lambda: QCFS(L=4, lam=2.0)), train(nn.ReLU)
r_snn = convert(r_ann, compute_thresholds(r_ann, data, method="percentile", p=99.9))
Ts = [1, 2, 4, 8, 16, 32, 64]
curves = {
    "QCFS, v(0)=θ/2": [acc(snn_output(convert_qcfs(q_ann), data, T=T)) for T in Ts],
    "QCFS, v(0)=0": [acc(snn_output(convert_qcfs(q_ann, v0_frac=0.0), data, T=T)) for T in Ts],
    "ReLU, 99.9th pct.": [acc(snn_output(r_snn, data, T=T)) for T in Ts],
}
i4 = Ts.index(4)
assert curves["QCFS, v(0)=θ/2"][i4] >= acc(q_ann(data)) - 0.01  # near-lossless at T = L
assert curves["QCFS, v(0)=0"][Ts.index(2)] < curves["QCFS, v(0)=θ/2"][Ts.index(2)] - 0.05  # the shift matters
assert curves["ReLU, 99.9th pct."][i4] < curves["QCFS, v(0)=θ/2"][i4] - 0.15
assert curves["ReLU, 99.9th pct."][-1] >= acc(r_ann(data)) - 0.01  # the ReLU conversion is fine given time
torch.testing.assert_close(snn_output(convert_qcfs(q_ann)[:2], data, T=4), q_ann[:2](data), rtol=0, atol=1e-12)

fig, ax = plt.subplots(1, 2, figsize=(10, 3.5))
zz = torch.linspace(-0.3, 2.0, 800)
ax[0].plot(zz, torch.relu(zz), "k:", label="ReLU")
ax[0].plot(zz, qcfs_activation(zz, lam=1.3, L=4, phi=0.0), label=r"clip-floor, $\varphi=0$")
ax[0].plot(zz, qcfs_activation(zz, lam=1.3, L=4, phi=0.5), label=r"QCFS, $\varphi=1/2$")
ax[0].set_xlabel("z"); ax[0].legend()
for name, c in curves.items():
    ax[1].semilogx(Ts, c, marker="o", label=name)
ax[1].axhline(acc(q_ann(data)), color="k", ls=":")
ax[1].set_xlabel("T"); ax[1].set_ylabel("accuracy (toy)"); ax[1].legend()
plt.show()

# %% [markdown]
# Verified: the IF neuron's clip-floor-shift output against a loop written from the definition (shared and per-neuron
# thresholds, the $v \ge \theta$ edge), QCFS = IF rate at $T = L$, the converter's thresholds, reset and per-layer
# $V_0 = \varphi^l\theta^l$, the clipping / quantization / unevenness decomposition, Theorem 2's zero expected error at
# $\varphi = 1/2$ (and the exact non-zero value without shift), the straight-through gradients for $z$ and
# $\lambda$, and the accuracy at $T = L = 4$ of a converted QCFS network against its shift-free and ReLU
# counterparts.
