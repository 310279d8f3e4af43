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
# # SuperSpike (Zenke & Ganguli, Neural Computation 2018)
# A three-factor rule: a filtered output error times a filtered product of a surrogate voltage derivative and the presynaptic potential.

# %%
import functools
import math

import matplotlib.pyplot as plt
import torch

from snnref.neuron import lif_step, multi_step
from snnref.surrogate import fast_sigmoid_spike
from snnref.training.superspike import causal_filter, sigma_prime, superspike_update, van_rossum_error

torch.manual_seed(0)
dtype = torch.float64
T, PRE, POST = 80, 15, 3
lam, v_th, beta = 0.85, 1.0, 3.0  # leak factor, threshold, surrogate steepness (not 1 or 2)
k = torch.arange(T, dtype=dtype)
alpha_kernel = torch.exp(-k / 8.0) - torch.exp(-k / 2.5)  # van Rossum double exponential (rise 2.5, decay 8 steps)

# %% [markdown]
# **Claim 1 (the building blocks).** The causal filter is $\sum_{s \le t} k[s]x[t-s]$ (checked against a double loop);
# $\sigma'(\vartheta) = \beta$ and $\int_{-L}^{L}\sigma'(U)\,dU = 2\left(1 - \frac{1}{1+\beta L}\right)$ (total area 2, the
# derivative of $\sigma = \beta(U-\vartheta)/(1+\beta|U-\vartheta|)$); the van Rossum error of one spike train is
# $e[t] = \sum_{s \le t}\alpha[s](\hat S - S)[t-s]$ (a loop again, with a kernel shorter than the train); the LIF leak
# of the core is $1 - 1/\tau$.

# %%
x = torch.randn(T, 4, dtype=dtype)
ker = torch.randn(11, dtype=dtype)
loop = torch.zeros_like(x)
for t in range(T):
    for s in range(min(t + 1, len(ker))):
        loop[t] += ker[s] * x[t - s]
torch.testing.assert_close(causal_filter(x, ker), loop, rtol=1e-12, atol=1e-12)  # catches: off-by-one lag, anti-causal filter
assert math.isclose(sigma_prime(torch.tensor(v_th, dtype=dtype), v_th=v_th, beta=beta).item(), beta)  # catches: missing beta
s_hat = (torch.rand(T, dtype=dtype) < 0.2).to(dtype)  # one target train [T]
s_out = (torch.rand(T, dtype=dtype) < 0.2).to(dtype)  # one output train [T]
e1 = van_rossum_error(s_hat, s_out, ker)
assert e1.shape == (T,)  # catches: kernel and signal swapped (the output would have the kernel's length)
e_loop = torch.zeros(T, dtype=dtype)
for t in range(T):
    for s in range(min(t + 1, len(ker))):
        e_loop[t] += ker[s] * (s_hat[t - s] - s_out[t - s])
assert (s_hat != s_out).any() and e_loop.abs().max() > 0.1  # not vacuous
torch.testing.assert_close(e1, e_loop, rtol=1e-12, atol=1e-12)  # catches: error sign (S - S_hat), target or output dropped
L = 40.0
grid = torch.linspace(v_th - L, v_th + L, 400_001, dtype=dtype)
area = torch.trapezoid(sigma_prime(grid, v_th=v_th, beta=beta), grid).item()
assert math.isclose(area, 2 * (1 - 1 / (1 + beta * L)), rel_tol=1e-5)  # catches: wrong shape or beta outside the square
tau = 1 / (1 - lam)
_, v1 = lif_step(torch.tensor(0.0, dtype=dtype), torch.tensor(0.9, dtype=dtype), tau=tau, v_th=v_th,
                 v_reset=None, decay_input=False)
assert math.isclose(v1.item(), 0.9 * lam, rel_tol=1e-12)  # core leak factor 1 - 1/tau

# %% [markdown]
# **Claim 2 (SuperSpike is the surrogate gradient of the van Rossum loss).** For LIF neurons
# $H_t = \lambda V_{t-1} + \sum_j w_{ij}x_j[t]$ with detached soft reset, $\partial H_t/\partial w_{ij}$ is the PSP
# $\sum_{k\le t}\lambda^{t-k}x_j[k]$ (built below by its recursion, not by the module), and the SuperSpike update with
# $U = H$ equals $-\partial L/\partial w$ for $L = \frac{1}{2}\sum_t\sum_i e_i[t]^2$, $e = \alpha\ast(\hat S - S)$. Autograd
# through the core uses `fast_sigmoid_grad` $= \sigma'/2$, hence the factor 2.

# %%
x_in = (torch.rand(T, PRE, dtype=dtype) < 0.15).to(dtype)
target = torch.zeros(T, POST, dtype=dtype)
target[[20, 45, 70], [0, 1, 2]] = 1.0
target[[30, 60], [0, 2]] = 1.0
W0 = 0.3 * torch.rand(POST, PRE, dtype=dtype)
spike_fn = functools.partial(fast_sigmoid_spike, alpha=beta)


def run(W: torch.Tensor):
    S, states = multi_step(lif_step, x_in @ W.T, tau=tau, v_th=v_th, v_reset=None, decay_input=False,
                           spike_fn=spike_fn, detach_reset=True)
    H = torch.stack(states) + v_th * S  # undo the soft reset: the potential the spike was decided on
    return S, H


W = W0.clone().requires_grad_(True)
S, H = run(W)
err = van_rossum_error(target, S, alpha_kernel)
assert S.requires_grad and err.requires_grad  # catches a charge, spike or filter cut from the graph
(0.5 * (err ** 2).sum()).backward()
psp = torch.zeros(T, PRE, dtype=dtype)
acc = torch.zeros(PRE, dtype=dtype)
for t in range(T):
    acc = lam * acc + x_in[t]
    psp[t] = acc
dw = superspike_update(H.detach(), psp, err.detach(), kernel=alpha_kernel, v_th=v_th, beta=beta)
assert S.sum() > 3 and (dw.abs() > 0).all()  # the neurons fire and every weight gets a signal
torch.testing.assert_close(dw, -2 * W.grad, rtol=1e-9, atol=1e-12)  # catches: missing alpha filter on the eligibility, wrong PSP, sign

# %% [markdown]
# **Claim 3 (learning, toy scale).** Following $\Delta w = r\,\cdot$ (SuperSpike update) drives the output spikes to the
# target times: the van Rossum loss falls to under half its initial value in 40 updates.

# %%
Wt = W0.clone()
r = 0.02
losses = []
for it in range(40):
    S, H = run(Wt)
    err = van_rossum_error(target, S, alpha_kernel)
    losses.append(0.5 * (err ** 2).sum().item())
    Wt = Wt + r * superspike_update(H, psp, err, kernel=alpha_kernel, v_th=v_th, beta=beta)
print(f"van Rossum loss {losses[0]:.3f} -> {losses[-1]:.3f}")
assert losses[-1] < 0.5 * losses[0]  # catches: an update with the wrong sign (the loss would grow)

# %%
fig, ax = plt.subplots(1, 2, figsize=(9, 3))
ax[0].plot(losses); ax[0].set_xlabel("update"); ax[0].set_ylabel("van Rossum loss")
u = torch.linspace(-2, 4, 400, dtype=dtype)
ax[1].plot(u, sigma_prime(u, v_th=v_th, beta=beta)); ax[1].set_xlabel("U"); ax[1].set_ylabel(r"$\sigma'(U)$")
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
g_full = torch.autograd.grad(multi_step(lif_step, x_g, tau=2.7, v_th=0.6, v_reset=None)[0].sum(), x_g)[0]
g_det = torch.autograd.grad(multi_step(lif_step, x_g, tau=2.7, v_th=0.6, v_reset=None, detach_reset=True)[0].sum(), x_g)[0]
assert not torch.allclose(g_full, g_det)  # catches: detach_reset ignored by the core reset
g_full = torch.autograd.grad(multi_step(lif_step, x_g, tau=2.7, v_th=0.6, v_reset=-0.2)[0].sum(), x_g)[0]
g_det = torch.autograd.grad(multi_step(lif_step, x_g, tau=2.7, v_th=0.6, v_reset=-0.2, detach_reset=True)[0].sum(), x_g)[0]
assert not torch.allclose(g_full, g_det)  # same for the hard reset (catches a hard reset cut from the graph)
assert multi_step(lif_step, x_g, tau=2.7, v_th=0.6, decay_input=False)[0].requires_grad  # catches: a charge cut from the graph

# %% [markdown]
# Verified: the causal filter and the surrogate $\sigma'$ against closed forms; the SuperSpike update equals minus
# twice the autograd gradient through the core LIF neuron (exactly the van Rossum surrogate gradient); and it
# learns target spike times at toy scale.
