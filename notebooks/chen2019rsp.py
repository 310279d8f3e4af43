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
# # Rand Softplus (Chen, Mai, Xiao & Zhang, Neural Computation 2019)
# A noise-adaptive activation $f_{RSP}(x) = (1-\eta)\max(0,x) + \eta\log(1+e^{x})$ that mimics how a neuron driven by
# noisy current responds: the noisier the input, the larger $\eta$ and the smoother the bend at zero.

# %%
import math

import matplotlib.pyplot as plt
import torch

from snnref.conversion.rand_softplus import RandSoftplus, rand_softplus
from snnref.neuron import if_step, multi_step
from snnref.surrogate import heaviside

dtype = torch.float64
xs = torch.linspace(-4.05, 4.05, 55, dtype=dtype)  # no grid point at 0, where ReLU has a kink


def softplus_ref(v: float) -> float:
    """log(1 + e^v) from the math module, stable for large |v|."""
    return max(v, 0.0) + math.log1p(math.exp(-abs(v)))


# %% [markdown]
# **Claim 1.** RSP is the convex blend of the paper's equation: pointwise
# $f_{RSP}(x) = (1-\eta)\max(0,x) + \eta\log(1+e^{x})$ (checked against a `math` evaluation), ReLU at $\eta=0$,
# softplus at $\eta=1$, linear in $\eta$, with $f_{RSP}(0) = \eta\ln 2$ and $0 \le f_{RSP}(x) - \max(0,x) \le \eta\ln 2$.

# %%
for eta in (0.0, 0.23, 0.61, 1.0):
    y = rand_softplus(xs, eta=eta)
    ref = torch.tensor([(1 - eta) * max(v, 0.0) + eta * softplus_ref(v) for v in xs.tolist()], dtype=dtype)
    # catches: the weights swapped ((eta) on ReLU), a dropped (1 - eta), softplus replaced by another smooth ReLU
    torch.testing.assert_close(y, ref, rtol=1e-13, atol=1e-13)
    gap = y - xs.clamp(min=0)
    assert gap.min() >= -1e-13 and gap.max() <= eta * math.log(2) + 1e-13   # catches: an added offset
    assert math.isclose(rand_softplus(torch.zeros((), dtype=dtype), eta=eta).item(), eta * math.log(2),
                        rel_tol=1e-13, abs_tol=1e-15)
torch.testing.assert_close(rand_softplus(xs, eta=0.0), xs.clamp(min=0), rtol=0, atol=0)      # eta = 0: exactly ReLU
torch.testing.assert_close(rand_softplus(xs, eta=1.0), torch.tensor([softplus_ref(v) for v in xs.tolist()],
                                                                     dtype=dtype), rtol=1e-13, atol=1e-13)
lo, hi = rand_softplus(xs, eta=0.0), rand_softplus(xs, eta=1.0)
torch.testing.assert_close(rand_softplus(xs, eta=0.37), lo + 0.37 * (hi - lo), rtol=1e-13, atol=1e-13)
# large inputs: exact and finite (a softplus that switches to the identity above 20 is off by e^-x there)
big = rand_softplus(torch.tensor([30.0, 80.0, -80.0], dtype=dtype), eta=0.4)
tail = 0.4 * math.exp(-30.0)   # about 10 ulps of 30: resolvable in float64
assert 0.5 * tail < big[0].item() - 30.0 < 1.5 * tail, big[0].item() - 30.0   # catches: softplus cut to x above 20
assert math.isclose(big[1].item(), 80.0, rel_tol=1e-15)
assert math.isclose(big[2].item(), 0.4 * math.exp(-80.0), rel_tol=1e-12)              # catches: softplus clamped to 0
# a per-element eta broadcasts, and the layer equals the function
etas = torch.tensor([0.1, 0.5, 0.9], dtype=dtype)
torch.testing.assert_close(rand_softplus(xs[:3], eta=etas),
                           torch.stack([rand_softplus(xs[i], eta=e.item()) for i, e in enumerate(etas)]))
for eta in (0.0, 0.45, 1.0):
    torch.testing.assert_close(RandSoftplus(eta=eta)(xs), rand_softplus(xs, eta=eta), rtol=0, atol=0)
for bad in (-0.01, 1.01, torch.tensor([0.5, 1.2])):
    try:
        rand_softplus(xs[:2], eta=bad)
    except ValueError:
        pass
    else:
        raise AssertionError(f"accepted eta={bad}")   # catches: missing or loosened validation
for bad in (-0.01, 1.01):
    try:
        RandSoftplus(eta=bad)
    except ValueError:
        pass
    else:
        raise AssertionError(f"layer accepted eta={bad}")

# %% [markdown]
# **Claim 2.** The gradients backpropagation uses: $\partial f_{RSP}/\partial x = (1-\eta)\,\Theta(x) + \eta\,\sigma(x)$
# ($\sigma$ the logistic; closed form) and $\partial f_{RSP}/\partial\eta = \log(1+e^{x}) - \max(0,x) \ge 0$ (closed form,
# and central finite differences), so raising $\eta$ never lowers the output.

# %%
x = xs.clone().requires_grad_(True)
eta = torch.full_like(xs, 0.29, requires_grad=True)
out = rand_softplus(x, eta=eta)
assert out.requires_grad                     # catches: a detached output (no gradient would reach the weights)
out.sum().backward()
xd = xs
analytic_dx = (1 - 0.29) * (xd > 0).to(dtype) + 0.29 * torch.sigmoid(xd)
torch.testing.assert_close(x.grad, analytic_dx, rtol=1e-13, atol=1e-13)   # catches: x detached, weights swapped
# the layer passes the same gradient (catches: a layer that detaches its output)
x_layer = xs.clone().requires_grad_(True)
y_layer = RandSoftplus(eta=0.29)(x_layer)
assert y_layer.requires_grad
y_layer.sum().backward()
torch.testing.assert_close(x_layer.grad, analytic_dx, rtol=1e-13, atol=1e-13)
analytic_deta = torch.tensor([softplus_ref(v) - max(v, 0.0) for v in xs.tolist()], dtype=dtype)
torch.testing.assert_close(eta.grad, analytic_deta, rtol=1e-12, atol=1e-14)   # catches: eta detached from the graph
h = 1e-6
fd = (rand_softplus(xd, eta=0.29 + h) - rand_softplus(xd, eta=0.29 - h)) / (2 * h)
torch.testing.assert_close(fd, analytic_deta, rtol=1e-7, atol=1e-9)
assert (analytic_deta > 0).all()

# %% [markdown]
# **Claim 3.** What RSP models, at toy scale: an integrate-and-fire neuron (core `if_step`, $V_{th}=1$, reset by
# subtraction, membrane kept at or above its resting value 0 as a leak would keep it) driven for $T = 3000$ steps by
# $\mu + s\,\xi_t$, $\xi_t \sim \mathcal N(0,1)$, fires at rate $r(\mu) = \max(0,\mu)$ without noise and at a smoothed rate
# with noise. The least-squares $\eta$ that fits RSP to $r(\mu)$ (closed form, since RSP is linear in $\eta$) equals the
# best $\eta$ found by scanning `rand_softplus`, is 0 without noise, grows with the noise $s$ (the paper's noise
# adaptivity), and fits the noisy response far better than ReLU ($\eta = 0$).

# %%
gen = torch.Generator().manual_seed(3)


def rectified_if_step(x, v, **params):
    """Core IF step from a membrane floored at rest (0): noise cannot drive it arbitrarily negative."""
    return if_step(x, v.clamp(min=0), **params)


mus = torch.linspace(-1.4537, 0.8463, 24, dtype=dtype)   # mean drive per step (< V_th); T*mu never an integer
T, n = 3000, 8
noise_levels = [0.0, 0.7, 1.3, 2.1]
# core checks, exact: with input 0.25 (a binary fraction) H reaches V_th = 1 exactly at steps 4 and 8 and must fire
# there (spike where H - V_th >= 0), keeping V = 0 after each spike (reset by subtraction)
s_exact, v_exact = multi_step(if_step, torch.full((8, 1), 0.25, dtype=dtype), v_th=1.0, v_reset=None,
                              spike_fn=heaviside)
assert s_exact.flatten().tolist() == [0, 0, 0, 1, 0, 0, 0, 1]                 # catches: '>' instead of '>='
assert [v.item() for v in v_exact] == [0.25, 0.5, 0.75, 0.0, 0.25, 0.5, 0.75, 0.0]
# the toy neuron floors its membrane, not its input: drive 0.7, -0.5, 0.6 gives V = 0.7, 0.2, 0.8 and no spike
# (flooring the input instead would give 0.7, 0.7, 1.3 and a spike)
s_tr, v_tr = multi_step(rectified_if_step, torch.tensor([[0.7], [-0.5], [0.6]], dtype=dtype), v_th=1.0,
                        v_reset=None, spike_fn=heaviside)
assert s_tr.sum().item() == 0, s_tr.flatten()                                # catches: step(state, x) argument order
torch.testing.assert_close(torch.cat(v_tr), torch.tensor([0.7, 0.2, 0.8], dtype=dtype), rtol=0, atol=1e-15)
# no noise: the IF rate is the quantized ReLU floor(T mu)/T (core check: charge and soft reset conserve charge)
spikes0, _ = multi_step(if_step, mus.expand(T, n, -1).clone(), v_th=1.0, v_reset=None, spike_fn=heaviside)
torch.testing.assert_close(spikes0.sum(0)[0], torch.floor(T * mus.clamp(min=0)), rtol=0, atol=0)
rate_curves, eta_fit = [], []
relu_mu, sp_mu = mus.clamp(min=0), torch.tensor([softplus_ref(v) for v in mus.tolist()], dtype=dtype)
grid = torch.linspace(0, 1, 1001, dtype=dtype)
for s in noise_levels:
    drive = mus + s * torch.randn(T, n, mus.numel(), generator=gen, dtype=dtype)   # [T, N, M]
    spikes, _ = multi_step(rectified_if_step, drive, v_th=1.0, v_reset=None, spike_fn=heaviside)
    r = spikes.mean((0, 1))                                                            # [M] firing rate
    rate_curves.append(r)
    d = sp_mu - relu_mu
    eta_ls = float(((r - relu_mu) * d).sum() / (d * d).sum())                          # closed-form least squares
    sse = torch.stack([((rand_softplus(mus, eta=g.item()) - r) ** 2).sum() for g in grid])
    eta_scan = grid[sse.argmin()].item()
    assert abs(eta_scan - min(max(eta_ls, 0.0), 1.0)) <= 1e-3 + 1e-12, (eta_scan, eta_ls)  # catches: RSP not linear in eta
    eta_fit.append(eta_scan)
    if s > 0:
        sse_relu = ((rand_softplus(mus, eta=0.0) - r) ** 2).sum()
        assert sse.min() < 0.5 * sse_relu   # the smoothed response is far better fitted than by ReLU
assert eta_fit[0] <= 0.01, eta_fit                                   # noiseless neuron: RSP reduces to ReLU
assert all(a < b for a, b in zip(eta_fit, eta_fit[1:])), eta_fit      # more noise -> larger eta
print("fitted eta per noise level:", dict(zip(noise_levels, eta_fit)))

# %%
fig, ax = plt.subplots(1, 2, figsize=(10, 3.3))
xx = torch.linspace(-4, 4, 200, dtype=dtype)
for e in (0.0, 0.3, 0.6, 1.0):
    ax[0].plot(xx, rand_softplus(xx, eta=e), label=f"η={e}")
ax[0].set_xlabel("x"); ax[0].set_ylabel("$f_{RSP}(x)$"); ax[0].legend(fontsize=7)
for s, r, e in zip(noise_levels, rate_curves, eta_fit):
    line, = ax[1].plot(mus, r, "o", ms=3, label=f"IF, noise {s}")
    ax[1].plot(mus, rand_softplus(mus, eta=e), "-", color=line.get_color(), label=f"RSP η={e:.2f}")
ax[1].set_xlabel("mean input μ"); ax[1].set_ylabel("firing rate"); ax[1].legend(fontsize=6)
plt.tight_layout()
plt.show()

# %% [markdown]
# Verified: the RSP formula pointwise for several $\eta$ (including its ReLU and softplus ends, its value $\eta\ln 2$ at 0,
# exact values for large inputs, a per-element $\eta$, the layer and the $[0,1]$ check); its gradients in $x$ and $\eta$
# (closed forms and finite differences); and, with the core IF neuron under noisy drive, that the best-fitting $\eta$ is
# 0 without noise and grows with the noise level.
