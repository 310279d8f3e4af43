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
# # Dspike: differentiable spike functions (Li et al., NeurIPS 2021)
# A tanh-shaped surrogate whose temperature $b$ moves it between the straight-through ramp and the step, and the
# finite difference gradient used to judge which shape points where the true SNN loss actually goes.

# %%
import math
from functools import partial

import matplotlib.pyplot as plt
import torch

from snnref.neuron import lif_step, multi_step
from snnref.surrogate import rectangular_grad, rectangular_primitive
from snnref.training.dspike import dspike_grad, dspike_primitive, dspike_spike, finite_difference_gradient

torch.set_default_dtype(torch.float64)

# %% [markdown]
# **Claim 1 (the Dspike family).** $\mathrm{Dspike}(x) = \frac{\tanh(bx)}{2\tanh(b/2)} + \frac12$ on $|x| \le \frac12$
# passes through $(-\frac12, 0)$, $(0, \frac12)$, $(\frac12, 1)$ for every temperature $b$, its derivative has unit area
# and peak $\frac{b}{2\tanh(b/2)}$; as $b \to 0$ it becomes the straight-through ramp (gradient = unit box), and as
# $b \to \infty$ it approaches the step. Its derivative is checked by finite differences and by autograd (including
# the curvature $\mathrm{Dspike}''(x) = -2b\tanh(bx)\,\mathrm{Dspike}'(x)$ inside the window).

# %%  catches: wrong normaliser (e.g. tanh(b) instead of tanh(b/2)), wrong window, grad not the primitive's derivative
xs = torch.linspace(-0.8, 0.8, 16001)
for b in [0.7, 3.3, 9.0]:
    ends = dspike_primitive(torch.tensor([-0.5, 0.0, 0.5, -0.7, 0.7]), b)
    assert isinstance(ends, torch.Tensor) and ends.shape == (5,)  # catches a primitive that lost its x-dependent term
    torch.testing.assert_close(ends, torch.tensor([0.0, 0.5, 1.0, 0.0, 1.0]), rtol=0, atol=1e-15)  # anchors
    g = dspike_grad(xs, b)
    assert math.isclose(torch.trapezoid(g, xs).item(), 1.0, abs_tol=2e-3)  # unit area (box edges cost ~1e-4 * peak)
    assert math.isclose(dspike_grad(torch.zeros(1), b).item(), b / (2 * math.tanh(b / 2)), rel_tol=1e-14)  # peak
    inside = xs[(xs.abs() < 0.499)]
    fd = (dspike_primitive(inside + 1e-6, b) - dspike_primitive(inside - 1e-6, b)) / 2e-6
    torch.testing.assert_close(fd, dspike_grad(inside, b), rtol=1e-6, atol=1e-7)  # grad = d primitive / dx
    # the same with autograd, one order higher too: Dspike'' = -2b tanh(bx) Dspike'(x) inside the window
    xr = inside.clone().requires_grad_(True)
    prim, grad_ = dspike_primitive(xr, b), dspike_grad(xr, b)
    assert prim.requires_grad and grad_.requires_grad  # catches a primitive or derivative cut from the graph
    (d1,) = torch.autograd.grad(prim.sum(), xr)
    (d2,) = torch.autograd.grad(grad_.sum(), xr)
    torch.testing.assert_close(d1, dspike_grad(inside, b), rtol=1e-12, atol=1e-13)  # autograd(primitive) = grad
    torch.testing.assert_close(d2, -2 * b * torch.tanh(b * inside) * dspike_grad(inside, b), rtol=1e-10, atol=1e-12)
    assert (dspike_grad(torch.tensor([-0.51, 0.51, 0.8]), b) == 0).all()  # zero outside the window
    assert dspike_grad(torch.tensor([0.5]), b).item() > 0  # the window is closed, |x| <= 1/2
# limits: b -> 0 is the unit box (core rectangular surrogate of width 1), b large is nearly the step
torch.testing.assert_close(dspike_grad(xs, 1e-4)[xs.abs() < 0.499], rectangular_grad(xs, 1.0)[xs.abs() < 0.499],
                           rtol=1e-8, atol=1e-8)
# that box itself, at widths a other than 1: the derivative of its ramp primitive (autograd), 1/a strictly inside
# |x| < a/2 and 0 from the edges on (STBP's rectangular curve)
for a in (0.4, 1.0, 2.5):
    pts = torch.tensor([-0.6, -0.49, -0.2, 0.0, 0.3, 0.49, 0.7], dtype=torch.float64) * a
    xa = pts.clone().requires_grad_(True)
    (d_box,) = torch.autograd.grad(rectangular_primitive(xa, a).sum(), xa)
    torch.testing.assert_close(rectangular_grad(pts, a), d_box, rtol=1e-12, atol=0)  # catches: height or width wrong
    assert (rectangular_grad(torch.tensor([-0.5 * a, 0.5 * a], dtype=torch.float64), a) == 0).all()  # open window
far = xs[(xs.abs() > 0.1)]
assert (dspike_primitive(far, 80.0) - (far >= 0).double()).abs().max() < 1e-3

fig, ax = plt.subplots(1, 3, figsize=(13, 3))
for b in [0.01, 1.0, 3.3, 9.0]:
    ax[0].plot(xs, dspike_primitive(xs, b), label=f"b={b}")
    ax[1].plot(xs, dspike_grad(xs, b), label=f"b={b}")
ax[0].set_title("Dspike(x)"); ax[1].set_title("d Dspike / dx"); ax[0].legend(fontsize=8)

# %% [markdown]
# **Claim 2 (spike function).** `dspike_spike` fires where $x \ge 0$ and backpropagates $\mathrm{Dspike}'(x)$.

# %%  catches: the temperature not reaching the backward pass, a shifted step
xg = torch.tensor([-0.6, -0.3, -0.05, 0.0, 0.2, 0.45, 0.9], requires_grad=True)
out = dspike_spike(xg, 4.2)
assert out.requires_grad  # catches a spike function cut from the graph
assert out.tolist() == [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0]  # step with the >= convention
out.sum().backward()
torch.testing.assert_close(xg.grad, dspike_grad(xg.detach(), 4.2), rtol=1e-14, atol=0)
for bad in [0.0, -1.0]:
    try:
        dspike_spike(xg, bad)
    except ValueError as e:
        assert "b" in str(e)
    else:
        raise AssertionError(bad)
try:
    finite_difference_gradient(lambda w: w.sum(), torch.ones(2), epsilon=0.0)
except ValueError as e:
    assert "epsilon" in str(e)  # a zero step would divide by zero
else:
    raise AssertionError("epsilon=0 accepted")

# %% [markdown]
# **Claim 3 (finite difference gradient, toy scale).** The loss of an SNN is piecewise constant in the weights, so
# its gradient is zero almost everywhere: the finite difference gradient (FDG) with a tiny $\varepsilon$ vanishes.
# With a finite $\varepsilon$ the FDG is informative, a Dspike surrogate gradient points in a similar direction
# (cosine similarity well above 0), and how well it aligns depends on the temperature $b$ — the quantity the paper
# uses to choose $b$. The FDG routine itself is exact on a smooth function.

# %%  catches: FDG with the wrong step or sign, a one-sided difference, entries not perturbed one at a time
A = torch.tensor([[2.0, 0.3, -0.4], [0.3, 1.5, 0.2], [-0.4, 0.2, 3.1]])
quad = lambda w: 0.5 * w.flatten() @ A @ w.flatten() + w.flatten().sum() ** 3
w_s = torch.tensor([0.3, -0.7, 1.1])
exact = A @ w_s + 3 * w_s.sum() ** 2
torch.testing.assert_close(finite_difference_gradient(quad, w_s, epsilon=1e-5), exact, rtol=1e-8, atol=1e-8)
cubic = lambda w: (w ** 3).sum()
torch.testing.assert_close(finite_difference_gradient(cubic, w_s, epsilon=0.1), 3 * w_s ** 2 + 0.01, rtol=1e-12,
                           atol=1e-12)  # central difference of w^3 is 3w^2 + eps^2 exactly

gen = torch.Generator().manual_seed(0)
T, B, N0, N1 = 16, 32, 10, 6
x = (torch.rand(T, B, N0, generator=gen) < 0.3).double()  # input spikes [T, B, N0]
W0 = 0.3 * torch.randn(N1, N0, generator=gen) + 0.15
target = torch.rand(B, N1, generator=gen)


def loss(W, spike_fn=partial(dspike_spike, b=1.0)):
    s, _ = multi_step(lif_step, x @ W.T, tau=1.6, v_th=0.5, v_reset=None, spike_fn=spike_fn)  # [T, B, N1]
    return ((s.mean(0) - target) ** 2).mean()


assert (finite_difference_gradient(loss, W0, epsilon=1e-7) == 0).all()  # true gradient is zero a.e.
fdg = finite_difference_gradient(loss, W0, epsilon=0.1)
assert (fdg != 0).double().mean() > 0.9
cos = {}
for b in [0.3, 3.0, 12.0]:
    W = W0.clone().requires_grad_(True)
    loss(W, partial(dspike_spike, b=b)).backward()
    cos[b] = torch.nn.functional.cosine_similarity(W.grad.flatten(), fdg.flatten(), dim=0).item()
assert min(cos.values()) > 0.5  # surrogate and finite-difference directions agree
assert max(cos.values()) - min(cos.values()) > 0.1  # the temperature changes the alignment
ax[2].plot(list(cos), list(cos.values()), "o-"); ax[2].set_xscale("log")
ax[2].set_xlabel("temperature b"); ax[2].set_title(r"cos(SG, FDG$_{\varepsilon=0.1}$)")
plt.tight_layout(); plt.show()

# %% [markdown]
# Verified: the Dspike family hits its anchor points, has unit area and the stated peak, tends to the
# straight-through box and to the step at the two ends of the temperature range, and drives the backward pass of
# the spike function; the finite difference gradient is exact on smooth functions, vanishes on an SNN loss for tiny
# $\varepsilon$, and at $\varepsilon = 0.1$ agrees in direction with Dspike gradients to a degree that depends on $b$.
