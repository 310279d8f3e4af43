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
# # Noisy Softplus (Liu, Chen & Furber, arXiv 2017)
# A softplus whose smoothness is set by the input noise $\sigma$: $f_{ns}(x,\sigma) = k\sigma\log(1+e^{x/(k\sigma)})$,
# modelling the mean response of a LIF neuron to noisy current, so an ANN using it maps onto an SNN.

# %%
import math

import matplotlib.pyplot as plt
import torch

from snnref.conversion.noisy_softplus import noisy_softplus
from snnref.neuron import lif_step, multi_step

torch.manual_seed(5)
dtype = torch.float64
k = 0.37  # not 1: a dropped or doubled k would otherwise go unnoticed

# %% [markdown]
# **Claim 1.** $f_{ns}$ is the formula above (checked pointwise against `math.log1p`), equals $k\sigma\ln 2$ at $x=0$,
# and approaches ReLU as the noise vanishes: $0 \le f_{ns}(x,\sigma) - \max(0,x) \le k\sigma\ln 2$, with the
# maximum gap at $x = 0$.

# %%
xs = torch.linspace(-3, 3, 61, dtype=dtype)
for sigma in (0.2, 0.9, 2.5):
    y = noisy_softplus(xs, sigma, k=k)
    ref = torch.tensor([k * sigma * math.log1p(math.exp(v / (k * sigma))) for v in xs.tolist()], dtype=dtype)
    # catches: missing k or sigma in the scale, scale applied inside only, exp/log swapped
    torch.testing.assert_close(y, ref, rtol=1e-12, atol=1e-12)
    gap = y - xs.clamp(min=0)
    assert gap.min() >= -1e-12 and gap.max() <= k * sigma * math.log(2) + 1e-12  # catches: an offset (e.g. log(2) subtracted)
    assert math.isclose(noisy_softplus(torch.zeros((), dtype=dtype), sigma, k=k).item(), k * sigma * math.log(2),
                        rel_tol=1e-12)
# large inputs: stable, and equal to the input up to kσ·e^{-x/(kσ)}
big = noisy_softplus(torch.tensor([80.0, -80.0], dtype=dtype), 0.1, k=k)
assert torch.isfinite(big).all() and math.isclose(big[0].item(), 80.0, rel_tol=1e-12) and 0 <= big[1].item() < 1e-300
# per-element sigma broadcasts
torch.testing.assert_close(noisy_softplus(xs[:3], torch.tensor([0.2, 0.9, 2.5], dtype=dtype), k=k),
                           torch.stack([noisy_softplus(xs[i], s, k=k) for i, s in enumerate((0.2, 0.9, 2.5))]))
for bad in ({"sigma": 0.0, "k": k}, {"sigma": 0.5, "k": 0.0}, {"sigma": torch.tensor([0.5, -0.1]), "k": k}):
    try:
        noisy_softplus(xs[:2], bad["sigma"], k=bad["k"])
    except ValueError:
        pass
    else:
        raise AssertionError(f"accepted {bad}")  # catches: missing validation of sigma or k

# %% [markdown]
# **Claim 2.** The gradients used to train with it: $\partial f_{ns}/\partial x = 1/(1+e^{-x/(k\sigma)})$ (the logistic,
# in closed form) and $\partial f_{ns}/\partial\sigma = k\,[\log(1+e^{z}) - z\,\mathrm{logistic}(z)] > 0$, $z = x/(k\sigma)$
# (checked by central finite differences): more noise always raises the response.

# %%
x = torch.linspace(-2, 2, 21, dtype=dtype, requires_grad=True)
sigma = torch.full_like(x, 0.7, requires_grad=True)
y_grad = noisy_softplus(x, sigma, k=k)
assert y_grad.requires_grad  # catches the output cut from the graph (an ANN using it could not train)
y_grad.sum().backward()
z = (x / (k * sigma)).detach()
torch.testing.assert_close(x.grad, torch.sigmoid(z), rtol=1e-12, atol=1e-12)  # catches: a detached or rescaled input path
analytic_ds = k * (torch.log1p(torch.exp(z)) - z * torch.sigmoid(z))
h = 1e-6
fd = (noisy_softplus(x.detach(), 0.7 + h, k=k) - noisy_softplus(x.detach(), 0.7 - h, k=k)) / (2 * h)
torch.testing.assert_close(fd, analytic_ds, rtol=1e-7, atol=1e-9)             # catches: sigma entering with a wrong power
torch.testing.assert_close(sigma.grad, analytic_ds, rtol=1e-10, atol=1e-12)    # catches: sigma detached from the graph
assert (analytic_ds > 0).all()

# %% [markdown]
# **Claim 3.** The qualitative behaviour it models: a LIF neuron (core `lif_step`, $\tau = 10$, $V_{th}=1$, resting
# and reset potential $V_{rest} = V_{reset} = -0.4$, as in the paper's PyNN neurons where both lie below threshold)
# whose mean current $\mu = 1.2$ keeps its steady state $V_{rest} + \mu = 0.8$ sub-threshold never fires without
# noise, and fires more as the noise grows, just as $f_{ns}(V_{rest} + \mu - V_{th}, \sigma)$ rises with $\sigma$
# (Claim 2). The simulated neuron is first checked, spike for spike, against a loop written from the LIF definition.

# %%
T, n = 2000, 50
mu, sigmas, v_rest = 1.2, [0.0, 0.5, 1.0, 2.0, 3.0], -0.4
rates = []
gen = torch.Generator().manual_seed(0)
for s in sigmas:
    current = mu + s * torch.randn(T, n, generator=gen, dtype=dtype)   # [T, N] noisy input current
    spikes, states = multi_step(lif_step, current, torch.full((n,), v_rest, dtype=dtype), tau=10.0, v_th=1.0,
                                 v_reset=v_rest)  # V_0 = V_rest
    rates.append(spikes.mean().item())
    if s == 1.0:  # the oracle: H = V + (X - (V - V_rest))/tau, fire on H >= V_th, then V = V_reset
        for j in range(3):
            v, ref_s, ref_v = v_rest, [], []
            for t in range(300):
                v = v + (current[t, j].item() - (v - v_rest)) / 10.0
                ref_s.append(float(v >= 1.0))
                v = v_rest if v >= 1.0 else v
                ref_v.append(v)
            assert sum(ref_s) > 3  # the check sees spikes and resets
            # catches: leak towards 0 instead of V_rest, reset to 0, swapped charge arguments, reset keeping H
            torch.testing.assert_close(spikes[:300, j], torch.tensor(ref_s, dtype=dtype), rtol=0, atol=0)
            torch.testing.assert_close(torch.stack(states)[:300, j], torch.tensor(ref_v, dtype=dtype), rtol=1e-12,
                                       atol=1e-12)
assert rates[0] == 0.0                                       # deterministic sub-threshold input: silent
assert all(a < b for a, b in zip(rates, rates[1:])), rates   # more noise, more spikes
nsp = [noisy_softplus(torch.tensor(v_rest + mu - 1.0, dtype=dtype), s, k=k).item() for s in sigmas[1:]]
assert all(a < b for a, b in zip(nsp, nsp[1:]))

# %%
fig, ax = plt.subplots(1, 2, figsize=(10, 3.2))
xx = torch.linspace(-2, 2, 200, dtype=dtype)
for s in (0.1, 0.5, 1.0, 2.0):
    ax[0].plot(xx, noisy_softplus(xx, s, k=k), label=f"σ={s}")
ax[0].plot(xx, xx.clamp(min=0), "k:", label="ReLU")
ax[0].set_xlabel("x"); ax[0].set_ylabel("$f_{ns}(x, σ)$"); ax[0].legend(fontsize=7)
ax[1].plot(sigmas, rates, "o-")
ax[1].set_xlabel("input noise σ"); ax[1].set_ylabel("LIF firing rate (V_rest + μ = 0.8 < V_th)")
plt.tight_layout()
plt.show()

# %% [markdown]
# Verified: the Noisy Softplus formula pointwise, its value $k\sigma\ln2$ at 0 and the ReLU limit with gap at most
# $k\sigma\ln2$; its closed-form gradients in $x$ (logistic) and $\sigma$ (finite differences, always positive); and, in a
# LIF simulation, the noise-driven firing below threshold that the function is meant to capture.
