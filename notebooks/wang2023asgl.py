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
# # ASGL: adaptive smoothing gradient learning (Wang et al., ICML 2023)
# Training mixes random analog units $\sigma(\alpha x)$ into the spiking network while every unit backpropagates
# the gradient of $\sigma(\alpha x)$, so the width $\alpha$ itself is learned; with no noise the network is the SNN.

# %%
import math

import matplotlib.pyplot as plt
import torch

from snnref.neuron import lif_step, multi_step
from snnref.surrogate import heaviside
from snnref.training.asgl import NoisySpike, noisy_spike, spike_mode_mask

torch.set_default_dtype(torch.float64)
ALPHA, P = 3.3, 0.3  # width and analog-mode probability (not 2 / 0.5, where symmetric mistakes hide)


def sig(z, a):  # the smooth forward H_alpha, written out here as the independent side
    return 1 / (1 + math.e ** (-a * z))


# %% [markdown]
# **Claim 1 (hybrid forward).** $\hat H_\alpha(x) = (1 - m)\odot H_\alpha(x) + m\odot\Theta(x)$ in value: spike-mode
# units ($m = 1$) emit exactly 0/1, analog units emit $\sigma(\alpha x)$; in evaluation the layer emits $\Theta(x)$,
# and with $m \equiv 1$ an LIF network built on the core produces the same spikes as with a plain step.

# %%  catches: mask meaning inverted, analog value not sigma(alpha x), noise left on at inference
g = torch.Generator().manual_seed(0)
x = 2 * torch.rand(2000, generator=g) - 1
x = x[(x.abs() > 1e-3)]  # away from 0, where the step's convention would decide
m = spike_mode_mask(x, p=P, generator=g)
out = noisy_spike(x, m, alpha=ALPHA)
expected = torch.where(m > 0, (x >= 0).double(), sig(x, ALPHA))
torch.testing.assert_close(out, expected, rtol=1e-13, atol=1e-15)  # elementwise hybrid value
assert noisy_spike(torch.zeros(1), torch.ones(1), alpha=ALPHA).item() == 1.0  # spike mode fires at x = 0 (>=)

layer = NoisySpike(alpha=ALPHA, p=P)
layer.eval()
torch.testing.assert_close(layer(x), (x >= 0).double(), rtol=0, atol=0)  # eval: pure spikes, no noise
assert layer(torch.zeros(1)).item() == 1.0  # eval fires at x = 0 (the core's >= convention)
m1 = spike_mode_mask(x, p=P, generator=torch.Generator().manual_seed(5))
torch.rand(3)  # move the global RNG: the mask must come from the generator passed in
torch.testing.assert_close(m1, spike_mode_mask(x, p=P, generator=torch.Generator().manual_seed(5)), rtol=0, atol=0)

# an LIF layer with all units in spike mode is the ordinary SNN
xs = 1.9 * torch.rand(12, 3, 4, generator=g)  # [T, B, N]
ones = torch.ones(3, 4)
V_R = -0.15  # a non-zero reset/rest potential, so the core's rest and reset terms are exercised
s_noisy, _ = multi_step(lif_step, xs, tau=2.7, v_th=0.8, v_reset=V_R, spike_fn=lambda z: noisy_spike(z, ones, alpha=ALPHA))
s_plain, v_plain = multi_step(lif_step, xs, tau=2.7, v_th=0.8, v_reset=V_R, spike_fn=heaviside)
assert s_plain.sum() > 5
torch.testing.assert_close(s_noisy, s_plain, rtol=0, atol=0)  # m = 1 must reproduce the SNN exactly
# and that SNN is the LIF of the definition: H = V + (X - (V - V_r))/tau, S = [H >= V_th], V = H (1 - S) + V_r S
v_ref, s_ref = torch.zeros(3, 4), []
for t in range(12):
    h_ref = v_ref + (xs[t] - (v_ref - V_R)) / 2.7
    assert ((h_ref - 0.8).abs() > 1e-9).all()  # margins: no spike decided by rounding
    s_ref.append((h_ref >= 0.8).double())
    v_ref = h_ref * (1 - s_ref[-1]) + V_R * s_ref[-1]
    torch.testing.assert_close(v_plain[t], v_ref, rtol=1e-12, atol=1e-12)  # catches a wrong leak or reset in the core
torch.testing.assert_close(s_plain, torch.stack(s_ref), rtol=0, atol=0)  # catches threshold sign, input/potential swap

# %% [markdown]
# **Claim 2 (gradients of the hybrid forward).** Whatever the mode, every unit backpropagates
# $\partial\hat H/\partial x = \alpha\,\sigma(\alpha x)(1 - \sigma(\alpha x))$ and
# $\partial\hat H/\partial\alpha = x\,\sigma(\alpha x)(1 - \sigma(\alpha x))$; for an all-analog layer these equal the
# finite differences of $\sigma(\alpha x)$, anchored by $\partial\hat H/\partial x|_{x=0} = \alpha/4$.

# %%  catches: missing stop-gradient (spike units would get no gradient), alpha not learnable, wrong slope
xg = x.clone().requires_grad_(True)
alpha = torch.tensor(ALPHA, requires_grad=True)
out = noisy_spike(xg, m, alpha=alpha)
assert out.requires_grad  # catches a hybrid output cut from the graph
out.sum().backward()
s = sig(x, ALPHA)
torch.testing.assert_close(xg.grad, ALPHA * s * (1 - s), rtol=1e-12, atol=1e-14)  # same grad in both modes
assert math.isclose(alpha.grad.item(), (x * s * (1 - s)).sum().item(), rel_tol=1e-12)  # d/d alpha over all units

x0 = torch.zeros(1, requires_grad=True)
noisy_spike(x0, torch.ones(1), alpha=ALPHA).sum().backward()
assert math.isclose(x0.grad.item(), ALPHA / 4, rel_tol=1e-14)  # anchor: slope alpha/4 at 0 in spike mode

eps, zeros = 1e-6, torch.zeros_like(x)
fd_a = (noisy_spike(x, zeros, alpha=ALPHA + eps) - noisy_spike(x, zeros, alpha=ALPHA - eps)) / (2 * eps)
fd_x = (noisy_spike(x + eps, zeros, alpha=ALPHA) - noisy_spike(x - eps, zeros, alpha=ALPHA)) / (2 * eps)
torch.testing.assert_close(fd_a, x * s * (1 - s), rtol=1e-6, atol=1e-9)  # analog value really is sigma(alpha x)
torch.testing.assert_close(fd_x, ALPHA * s * (1 - s), rtol=1e-6, atol=1e-9)

layer = NoisySpike(alpha=ALPHA, p=P)
out = layer(x.clone().requires_grad_(True))
assert out.requires_grad  # catches a layer output cut from the graph
out.sum().backward()
assert isinstance(layer.alpha, torch.nn.Parameter) and math.isclose(layer.alpha.grad.item(), (x * s * (1 - s)).sum().item(), rel_tol=1e-12)

# %% [markdown]
# **Claim 3 (BPTT through an ASGL network).** In an LIF layer built on the core whose fire step is $\hat H_\alpha$ with a
# fixed mix of modes $m$, autograd's gradients with respect to the inputs and to $\alpha$ equal those of a reference
# written here from the definitions (LIF charge, $\hat H_\alpha$ as value $m\Theta + (1-m)\sigma(\alpha z)$ with the gradient
# of $\sigma(\alpha z)$, hard reset $V = H(1 - S)$ with the reset in the graph).

# %%  catches: a charge or reset cut from the graph, the gradient of the reset path dropped
m_l = spike_mode_mask(torch.empty(3, 4), p=P, generator=torch.Generator().manual_seed(9))
assert 0 < m_l.sum() < m_l.numel()  # both modes present
cl = torch.randn(12, 3, 4, generator=g)  # loss weights
x1, a1 = xs.clone().requires_grad_(True), torch.tensor(ALPHA, requires_grad=True)
s1, _ = multi_step(lif_step, x1, tau=2.7, v_th=0.8, spike_fn=lambda z: noisy_spike(z, m_l, alpha=a1))
assert s1.requires_grad  # catches spikes cut from the graph
gx1, ga1 = torch.autograd.grad((cl * s1).sum(), (x1, a1), allow_unused=True)
assert gx1 is not None  # catches a membrane charge cut from the graph (only alpha would get a gradient)


def asgl_lif_reference(x_seq, a, reset_grad=True):
    v, out = torch.zeros(3, 4), []
    for t in range(12):
        h = v + (x_seq[t] - v) / 2.7
        smooth = 1 / (1 + torch.exp(-a * (h - 0.8)))
        s_t = smooth + (m_l * ((h >= 0.8).double() - smooth)).detach()
        out.append(s_t)
        v = h * (1 - (s_t if reset_grad else s_t.detach()))
    return torch.stack(out)


x2, a2 = xs.clone().requires_grad_(True), torch.tensor(ALPHA, requires_grad=True)
gx2, ga2 = torch.autograd.grad((cl * asgl_lif_reference(x2, a2)).sum(), (x2, a2))
torch.testing.assert_close(gx1, gx2, rtol=1e-10, atol=1e-12)  # input gradient through charge, hybrid fire and reset
assert math.isclose(ga1.item(), ga2.item(), rel_tol=1e-10)  # gradient of the learnable width alpha
x3 = xs.clone().requires_grad_(True)
(gx3,) = torch.autograd.grad((cl * asgl_lif_reference(x3, a2, reset_grad=False)).sum(), x3)
assert (gx3 - gx2).abs().max() > 0.05 * gx2.abs().max()  # the check above is sensitive to the reset path

# %% [markdown]
# **Claim 4 (noise statistics).** With $m \sim \mathrm{Bernoulli}(1-p)$ the fraction of analog units is $p$ and the
# expected output is $\mathbb{E}_m[\hat H_\alpha(x)] = p\,H_\alpha(x) + (1-p)\,\Theta(x)$, which tends to the SNN's
# $\Theta(x)$ as $p \to 0$ (Monte Carlo, 5 standard errors).

# %%  catches: p and 1-p swapped, a mask that is not per-unit random
N = 200_000
xi = torch.tensor([-0.7, -0.15, 0.2, 0.9])
torch.manual_seed(1)
layer = NoisySpike(alpha=ALPHA, p=P)
samples = layer(xi.expand(N, 4))  # default mask path, [N, 4]
analog = (samples != (xi >= 0).double()).double()  # units whose value differs from the spike
assert math.isclose(analog.mean().item(), P, abs_tol=5 * math.sqrt(P * (1 - P) / (4 * N)))  # analog share is p
mean = samples.mean(0)
target = P * sig(xi, ALPHA) + (1 - P) * (xi >= 0).double()
se = (samples.std(0) / math.sqrt(N)).max().item()
torch.testing.assert_close(mean, target, rtol=0, atol=5 * se)  # E[H_hat] = p H + (1-p) Theta
assert (analog.mean(0) - P).abs().max() < 0.01 and analog[:, 0].ne(analog[:, 1]).any()  # per-unit, not shared

for kw in [dict(alpha=0.0, p=0.2), dict(alpha=1.0, p=-0.1), dict(alpha=1.0, p=1.1)]:
    try:
        NoisySpike(**kw)
    except ValueError as e:
        assert ("alpha" in str(e)) == (kw["alpha"] <= 0)  # message names the bad parameter
    else:
        raise AssertionError(kw)
assert NoisySpike(alpha=1.0, p=0.0).p == 0.0 and NoisySpike(alpha=1.0, p=1.0).p == 1.0  # both ends allowed

# %%
zz = torch.linspace(-1.5, 1.5, 301)
fig, ax = plt.subplots(1, 2, figsize=(10, 3))
for a in [1.0, ALPHA, 10.0]:
    ax[0].plot(zz, sig(zz, a), label=rf"$H_\alpha$, $\alpha$={a}")
ax[0].step(zz, (zz >= 0).double(), "k", where="post", lw=0.8, label=r"$\Theta$")
ax[0].legend(fontsize=8); ax[0].set_xlabel("x")
mz = spike_mode_mask(zz, p=P, generator=torch.Generator().manual_seed(2))
ax[1].plot(zz, noisy_spike(zz, mz, alpha=ALPHA), ".", ms=2, label=rf"$\hat H_\alpha$ sample, p={P}")
ax[1].plot(zz, P * sig(zz, ALPHA) + (1 - P) * (zz >= 0).double(), "r", lw=1, label="expectation")
ax[1].legend(fontsize=8); ax[1].set_xlabel("x")
plt.tight_layout(); plt.show()

# %% [markdown]
# Verified: the hybrid forward takes the spike value in spike mode and $\sigma(\alpha x)$ in analog mode (pure spikes
# at inference, and an LIF network in spike mode equals the SNN); every unit backpropagates the gradient of
# $\sigma(\alpha x)$ with respect to both $x$ and the learnable $\alpha$ (closed form, finite differences), also through
# time in an LIF layer (against a reference written from the definitions); the analog share is $p$ and the mean
# output is $pH_\alpha + (1-p)\Theta$.
