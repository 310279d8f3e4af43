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
# # Sparse Spiking Gradient Descent (Perez-Nieves & Goodman, NeurIPS 2021)
# A surrogate gradient that is exactly zero outside a band around the threshold, so the backward pass only visits "active" neurons.

# %%
import functools
import math

import matplotlib.pyplot as plt
import torch

from snnref.neuron import lif_step, multi_step
from snnref.surrogate import fast_sigmoid_grad
from snnref.training.sparse_sg import active_mask, sparse_grad, sparse_primitive, sparse_spike

torch.manual_seed(0)
dtype = torch.float64
B_TH, BETA = 0.25, 7.0  # not the official 0.2 / 100 (any swap shows); 0.25 is exact in binary, so band edges are hit exactly

# %% [markdown]
# **Claim 1 (the truncated surrogate).** $g'(x) = (\beta|x|+1)^{-2}$ for $|x| < B_{th}$ and exactly 0 otherwise;
# inside the band it is the SuperSpike fast-sigmoid derivative up to the factor $\beta/2$ of snnref's
# `fast_sigmoid_grad`; it is the derivative of the primitive (finite differences); $g'(0) = 1$; the forward
# pass is the step.

# %%
x = torch.linspace(-0.8, 0.8, 1601, dtype=dtype)
params = (B_TH, BETA)
inside = x.abs() < B_TH
by_definition = torch.where(inside, 1 / (BETA * x.abs() + 1) ** 2, torch.zeros_like(x))
torch.testing.assert_close(sparse_grad(x, params), by_definition, rtol=1e-14, atol=0)  # catches: wrong beta placement, no truncation
torch.testing.assert_close(sparse_grad(x[inside], params), fast_sigmoid_grad(x[inside], alpha=BETA) * 2 / BETA,
                           rtol=1e-13, atol=0)  # catches: a different surrogate shape inside the band
assert sparse_grad(torch.tensor([0.0], dtype=dtype), params).item() == 1.0  # anchor: catches a common scale factor
edge = torch.tensor([-B_TH, B_TH], dtype=dtype)
assert (sparse_grad(edge, params) == 0).all()  # catches: <= instead of < (the band is open)
prim = sparse_primitive(x, params)
assert torch.is_tensor(prim) and prim.shape == x.shape  # catches: the sign(x)-term dropped (a constant 1/2 comes back)
pts = torch.tensor([-0.5, -0.1, 0.0, 0.15, 0.25], dtype=dtype)  # g(x) = 1/2 + sign(x) m/(beta m + 1), m = min(|x|, B_th)
by_hand = torch.tensor([0.5 - 0.25 / 2.75, 0.5 - 0.1 / 1.7, 0.5, 0.5 + 0.15 / 2.05, 0.5 + 0.25 / 2.75], dtype=dtype)
torch.testing.assert_close(sparse_primitive(pts, params), by_hand, rtol=1e-14, atol=0)  # catches: a wrong primitive offset or clamp
h = 1e-6
xi = x[inside & (x.abs() > 2 * h)]  # away from the kink at 0
fd = (sparse_primitive(xi + h, params) - sparse_primitive(xi - h, params)) / (2 * h)
torch.testing.assert_close(fd, sparse_grad(xi, params), rtol=1e-6, atol=1e-8)  # catches: primitive and grad out of step
xo = x[~inside]
torch.testing.assert_close(sparse_primitive(xo, params), 0.5 + torch.sign(xo) * B_TH / (BETA * B_TH + 1),
                           rtol=1e-14, atol=0)  # flat outside the band
xr = x.clone().requires_grad_(True)
s = sparse_spike(xr, b_th=B_TH, beta=BETA)
assert torch.equal(s, (x >= 0).to(dtype))  # catches: a forward that is not the step
assert s.requires_grad  # catches: the spike cut from the graph (a detach in sparse_spike)
s.sum().backward()
torch.testing.assert_close(xr.grad, by_definition, rtol=1e-14, atol=0)  # catches: b_th and beta swapped in the call
for bad in ({"b_th": 0.0}, {"beta": -1.0}):
    try:
        sparse_spike(x, **bad)
    except ValueError as e:
        assert next(iter(bad)) in str(e)  # catches: missing argument check
    else:
        raise AssertionError(bad)
torch.testing.assert_close(active_mask(x + 1.0, v_th=1.0, b_th=B_TH), inside, rtol=0, atol=0)  # catches: active set off the threshold
assert not active_mask(torch.tensor([1.0 + B_TH], dtype=dtype), v_th=1.0, b_th=B_TH).item()  # catches: <= in the mask

# %% [markdown]
# **Claim 2 (both parts stay differentiable).** Autograd through the primitive $g$ gives $g'$ (`sparse_grad`), and
# autograd through $g'$ gives the closed form $g''(x) = -2\beta\,\mathrm{sign}(x)(\beta|x|+1)^{-3}$ inside the band,
# 0 outside; double backward through `sparse_spike` gives the same $g''$.

# %%
xs2 = torch.tensor([-0.6, -0.2, -0.07, 0.03, 0.11, 0.24, 0.3, 0.9], dtype=dtype)  # off 0 and off the band edges
in2 = xs2.abs() < B_TH
g2_closed = torch.where(in2, -2 * BETA * torch.sign(xs2) / (BETA * xs2.abs() + 1) ** 3, torch.zeros_like(xs2))
xa = xs2.clone().requires_grad_(True)
pa = sparse_primitive(xa, params)
assert pa.requires_grad  # catches: the primitive detached from the graph
torch.testing.assert_close(torch.autograd.grad(pa.sum(), xa)[0], sparse_grad(xs2, params),
                           rtol=1e-13, atol=0)  # catches: primitive whose autograd derivative is not g'
ga = sparse_grad(xa, params)
assert ga.requires_grad  # catches: g' detached from the graph (no curvature for double backward)
torch.testing.assert_close(torch.autograd.grad(ga.sum(), xa)[0], g2_closed, rtol=1e-13, atol=0)  # catches: wrong g''
sa = sparse_spike(xa, b_th=B_TH, beta=BETA)
assert sa.requires_grad  # catches: a detached spike
g1, = torch.autograd.grad(sa.sum(), xa, create_graph=True)
torch.testing.assert_close(g1, sparse_grad(xs2, params), rtol=1e-14, atol=0)  # catches: backward not g'
assert g1.requires_grad  # catches: a backward that cuts the graph
torch.testing.assert_close(torch.autograd.grad(g1.sum(), xa)[0], g2_closed, rtol=1e-13, atol=0)  # catches: double backward wrong

# %% [markdown]
# **Claim 3 (the sparse weight-gradient rule).** For a LIF layer $V_t = \lambda V_{t-1} + W^\top x_t - S_{t-1}$
# (detached reset) and a loss $L = \sum c \odot S$, autograd gives
# $\nabla W_{ij} = \sum_{(b,t,j)\ \text{active}} \bar x_{b,t,i}\, c_{b,t,j}\, g'(H_{b,t,j} - V_{th})$ with the input trace
# $\bar x_t = \lambda \bar x_{t-1} + x_t$: only active entries contribute. The right side is computed below by a
# loop over the active set.

# %%
T, B, I, J = 30, 4, 20, 12
lam = 0.8  # leak factor lambda = 1 - 1/tau
tau = 1 / (1 - lam)
x_in = (torch.rand(T, B, I, dtype=dtype) < 0.3).to(dtype)
W = (0.35 * torch.randn(I, J, dtype=dtype)).requires_grad_(True)
c = torch.randn(T, B, J, dtype=dtype)
spike_fn = functools.partial(sparse_spike, b_th=B_TH, beta=BETA)
cur = x_in @ W  # [T, B, J]
S, states = multi_step(lif_step, cur, tau=tau, v_th=1.0, v_reset=None, decay_input=False,
                       spike_fn=spike_fn, detach_reset=True)
assert S.requires_grad  # catches: the charge or the spike cut from the graph
(S * c).sum().backward()

with torch.no_grad():
    v_prev = torch.zeros(B, J, dtype=dtype)
    trace = torch.zeros(B, I, dtype=dtype)
    dW = torch.zeros(I, J, dtype=dtype)
    n_active = 0
    for t in range(T):
        H = lam * v_prev + cur[t]  # potential before the reset at step t
        trace = lam * trace + x_in[t]
        for b, j in active_mask(H, v_th=1.0, b_th=B_TH).nonzero().tolist():
            n_active += 1
            dW[:, j] += trace[b] * c[t, b, j] / (BETA * abs(H[b, j].item() - 1.0) + 1) ** 2
        v_prev = states[t]
frac = n_active / (T * B * J)
print(f"active fraction {frac:.3f}, spikes per neuron-step {S.mean().item():.3f}")
assert 0.02 < frac < 0.5 and S.sum() > 0  # sparse but not empty: the test is not degenerate
torch.testing.assert_close(W.grad, dW, rtol=1e-10, atol=1e-12)  # catches: gradient through inactive neurons, wrong leak in the trace

# %% [markdown]
# **Claim 4 (paper, Fig. 1B, toy scale).** The sparse $\nabla W$ stays close to the dense one (the same surrogate
# without truncation): cosine similarity above 0.9 here, while the active set is a fraction of all entries.

# %%
def weight_grad(b_th: float) -> torch.Tensor:
    Wd = W.detach().clone().requires_grad_(True)
    fn = functools.partial(sparse_spike, b_th=b_th, beta=BETA)
    Sd, _ = multi_step(lif_step, x_in @ Wd, tau=tau, v_th=1.0, v_reset=None, decay_input=False,
                       spike_fn=fn, detach_reset=True)
    assert Sd.requires_grad  # catches: the layer cut from the graph
    (Sd * c).sum().backward()
    return Wd.grad


g_dense = weight_grad(math.inf)
cos = torch.nn.functional.cosine_similarity(g_dense.flatten(), W.grad.flatten(), dim=0).item()
print(f"cosine(sparse, dense) = {cos:.3f}")
assert cos > 0.9  # catches: a sparse rule that drops most of the gradient
assert not torch.equal(g_dense, W.grad)  # the truncation did remove something

# %%
fig, ax = plt.subplots(1, 2, figsize=(9, 3))
ax[0].plot(x, sparse_grad(x, params), label="sparse surrogate")
ax[0].plot(x, 1 / (BETA * x.abs() + 1) ** 2, "--", label="dense")
ax[0].set_xlabel(r"$V - V_{th}$"); ax[0].legend()
ax[1].scatter(g_dense.flatten(), W.grad.flatten(), s=6)
ax[1].set_xlabel(r"dense $\nabla W$"); ax[1].set_ylabel(r"sparse $\nabla W$")
plt.show()

# %% [markdown]
# **Core check.** The core `lif_step`, looped by `multi_step`, equals a brute-force LIF loop written from its
# definition (charge with and without input decay, firing at $H \ge V_{th}$, soft and hard reset), and
# `detach_reset` changes the gradient but not the spikes.

# %%
def lif_loop(xs, tau_, vth_, v_reset_, decay_input_):
    v_ = torch.zeros_like(xs[0])
    rest = 0.0 if v_reset_ is None else v_reset_
    out_s, out_v = [], []
    for xt in xs:
        h_ = v_ + (xt - (v_ - rest)) / tau_ if decay_input_ else v_ - (v_ - rest) / tau_ + xt
        s_ = (h_ >= vth_).to(xs.dtype)
        v_ = h_ - vth_ * s_ if v_reset_ is None else h_ * (1 - s_) + v_reset_ * s_
        out_s.append(s_)
        out_v.append(v_)
    return torch.stack(out_s), torch.stack(out_v)


gen = torch.Generator().manual_seed(1)
x_core = 0.9 * torch.rand(12, 50, generator=gen, dtype=torch.float64)
for v_reset_c in (None, -0.2):
    for decay_c in (True, False):
        xs_c = x_core * (1.8 if decay_c else 1.0)  # input decay divides the drive by tau: scale it so neurons fire
        s_ref, v_ref = lif_loop(xs_c, 2.7, 0.6, v_reset_c, decay_c)
        s_core, v_core = multi_step(lif_step, xs_c, tau=2.7, v_th=0.6, v_reset=v_reset_c, decay_input=decay_c)
        assert torch.equal(s_core, s_ref) and 0 < s_ref.mean().item() < 1  # catches: core charge/fire/reset bugs
        torch.testing.assert_close(torch.stack(v_core), v_ref, rtol=1e-12, atol=1e-12)  # catches: wrong reset value
x_g = x_core.clone().requires_grad_(True)
s_full = multi_step(lif_step, x_g, tau=2.7, v_th=0.6, v_reset=None)[0]
s_det = multi_step(lif_step, x_g, tau=2.7, v_th=0.6, v_reset=None, detach_reset=True)[0]
assert s_full.requires_grad and s_det.requires_grad  # catches: a charge cut from the graph (decay_input=True)
g_full = torch.autograd.grad(s_full.sum(), x_g)[0]
g_det = torch.autograd.grad(s_det.sum(), x_g)[0]
assert not torch.allclose(g_full, g_det)  # catches: detach_reset ignored by the core reset
assert multi_step(lif_step, x_g, tau=2.7, v_th=0.6, decay_input=False)[0].requires_grad  # catches: a charge cut from the graph

# %% [markdown]
# Verified: the truncated surrogate, its primitive, its second derivative and the spike function; the weight gradient of a LIF layer
# equals the sparse rule summed over active neurons only; and it stays close to the dense gradient.
