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
# # Temporal Effective Batch Normalization (Duan et al., NeurIPS 2022)
# Batch statistics pooled over all time steps, then a learnable scale $p_t$ per time step.

# %%
import math

import matplotlib.pyplot as plt
import torch

from snnref.neuron import lif_step, multi_step
from snnref.training.tebn import TEBN, tebn

torch.manual_seed(0)
dtype = torch.float64
T, B, C, H, W = 4, 5, 3, 2, 2
# inputs whose distribution drifts over time: per-step normalisation would hide the drift, TEBN keeps it
x = torch.randn(T, B, C, H, W, dtype=dtype) * torch.tensor([0.5, 1.0, 1.5, 2.5], dtype=dtype).reshape(T, 1, 1, 1, 1) \
    + torch.arange(T, dtype=dtype).reshape(T, 1, 1, 1, 1)
p = torch.tensor([0.6, 1.3, 0.9, 1.7], dtype=dtype)
gamma = torch.tensor([1.2, 0.7, 1.9], dtype=dtype)
beta = torch.tensor([0.1, -0.4, 0.3], dtype=dtype)
eps = 1e-5

# %% [markdown]
# **Claim 1 (the operation).** $\mathrm{TEBN}(x_t) = p_t(\gamma\frac{x_t-\mu}{\sqrt{\sigma^2+\epsilon}} + \beta)$ with $\mu$, $\sigma^2$ per channel
# over batch, time and space (computed below by explicit loops). With $p = 1$, $\gamma = 1$, $\beta = 0$ each channel has
# mean 0 and variance 1 over all time steps together, but the per-step means keep the temporal drift.

# %%
def tebn_loop(x_, p_, gamma_, beta_, eps_):
    """TEBN from the definition: per-channel statistics over all (t, b, i, j), then p_t (gamma x_hat + beta)."""
    T_, B_, C_, H_, W_ = x_.shape
    out = torch.empty_like(x_)
    for c in range(C_):
        vals = [x_[t, b, c, i, j].item() for t in range(T_) for b in range(B_) for i in range(H_) for j in range(W_)]
        mu = sum(vals) / len(vals)
        var = sum((v - mu) ** 2 for v in vals) / len(vals)  # biased, as in batch norm training
        for t in range(T_):
            out[t, :, c] = p_[t] * (gamma_[c] * (x_[t, :, c] - mu) / math.sqrt(var + eps_) + beta_[c])
    return out


# first with T = B = C = H = W = 3: any mix-up of the time, batch, channel or space axes keeps a valid shape here,
# so it shows up as a wrong value instead of a crash
xq = torch.randn(3, 3, 3, 3, 3, dtype=dtype) + torch.arange(3, dtype=dtype).reshape(3, 1, 1, 1, 1)
torch.testing.assert_close(tebn(xq, p=p[:3], gamma=gamma, beta=beta, eps=eps), tebn_loop(xq, p[:3], gamma, beta, eps),
                           rtol=1e-12, atol=1e-12)  # catches: stats pooled over the wrong axes, p on the wrong axis
y = tebn(x, p=p, gamma=gamma, beta=beta, eps=eps)
torch.testing.assert_close(y, tebn_loop(x, p, gamma, beta, eps), rtol=1e-12, atol=1e-12)  # catches: per-step stats
z = tebn(x, p=torch.ones(T, dtype=dtype), gamma=torch.ones(C, dtype=dtype), beta=torch.zeros(C, dtype=dtype), eps=1e-14)
torch.testing.assert_close(z.mean(dim=(0, 1, 3, 4)), torch.zeros(C, dtype=dtype), rtol=0, atol=1e-12)
torch.testing.assert_close(z.var(dim=(0, 1, 3, 4), unbiased=False), torch.ones(C, dtype=dtype), rtol=1e-10, atol=0)
step_means = z.mean(dim=(1, 2, 3, 4))
assert (step_means.diff() > 0.2).all()  # the drift across time survives normalisation (per-step BN would give 0)

# %% [markdown]
# **Claim 2 (inference is a per-step affine map).** In eval mode with running statistics $\hat\mu$, $\hat\sigma^2$,
# $\mathrm{TEBN}(x_t) = a_t x_t + b_t$ with $a_t = p_t\gamma/\sqrt{\hat\sigma^2+\epsilon}$ and $b_t = p_t(\beta - \gamma\hat\mu/\sqrt{\hat\sigma^2+\epsilon})$,
# i.e. it folds into the preceding layer with one weight copy per time step. The running statistics follow the usual
# momentum update with the unbiased variance.

# %%
layer = TEBN(C, T=T, momentum=0.25).to(dtype)
assert torch.equal(layer.p.detach(), torch.ones(T, dtype=dtype))  # catches: p not initialised to 1
assert torch.equal(layer.gamma.detach(), torch.ones(C, dtype=dtype)) and torch.equal(layer.beta.detach(), torch.zeros(C, dtype=dtype))  # identity affine at init
with torch.no_grad():
    layer.p.copy_(p); layer.gamma.copy_(gamma); layer.beta.copy_(beta)
layer.train()
layer(x)
n = T * B * H * W
xc = x.movedim(2, 0).reshape(C, -1)
torch.testing.assert_close(layer.running_mean, 0.25 * xc.mean(1), rtol=1e-12, atol=1e-12)  # catches: stats per time step
torch.testing.assert_close(layer.running_var, 0.75 + 0.25 * xc.var(1, unbiased=True), rtol=1e-12, atol=1e-12)
layer.eval()
x2 = torch.randn(T, B, C, H, W, dtype=dtype)
inv = 1 / torch.sqrt(layer.running_var + layer.eps)
a = p.reshape(T, 1, 1, 1, 1) * (gamma * inv).reshape(1, 1, C, 1, 1)
b = p.reshape(T, 1, 1, 1, 1) * (beta - gamma * layer.running_mean * inv).reshape(1, 1, C, 1, 1)
torch.testing.assert_close(layer(x2), a * x2 + b, rtol=1e-12, atol=1e-12)  # catches: batch statistics used in eval
for bad in (0, 2.5):
    try:
        TEBN(C, T=bad)
    except ValueError as e:
        assert "T" in str(e)  # catches: missing check on T
    else:
        raise AssertionError(bad)

# %% [markdown]
# **Claim 3 (learning the time-step scales).** Feeding TEBN into a core LIF layer, autograd's $\partial L/\partial p_t$
# equals $\sum \frac{\partial L}{\partial y_t}(\gamma\hat x_t + \beta)$, the normalised input of step $t$ weighted by the
# gradient arriving at that step.

# %%
layer.train()
layer.zero_grad()
y = layer(x)
assert y.requires_grad  # catches TEBN's output cut from the graph (p, gamma, beta would not train)
s, _ = multi_step(lif_step, y, tau=2.5, v_th=0.8)
assert s.requires_grad  # catches spikes cut from the graph (no surrogate gradient)
cw = torch.randn_like(s)
y.retain_grad()
(cw * s).sum().backward()
with torch.no_grad():
    xhat = tebn(x, p=torch.ones(T, dtype=dtype), gamma=gamma, beta=beta, eps=layer.eps)
    grad_p = (y.grad * xhat).sum(dim=(1, 2, 3, 4))
torch.testing.assert_close(layer.p.grad, grad_p, rtol=1e-10, atol=1e-12)  # catches: p detached or applied before the affine
assert 0.05 < s.mean().item() < 0.95

# %%
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(range(T), step_means, "o-", label=r"per-step mean of $\hat x_t$")
ax.plot(range(T), (tebn(x, p=p, gamma=torch.ones(C, dtype=dtype), beta=torch.zeros(C, dtype=dtype))
                   .std(dim=(1, 2, 3, 4))), "s-", label=r"per-step std with $p_t$")
ax.set_xlabel("t"); ax.legend()
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
g_hard = torch.autograd.grad(multi_step(lif_step, x_g, tau=2.7, v_th=0.6, v_reset=-0.2)[0].sum(), x_g)[0]
g_hard_det = torch.autograd.grad(multi_step(lif_step, x_g, tau=2.7, v_th=0.6, v_reset=-0.2, detach_reset=True)[0].sum(),
                                 x_g)[0]
assert not torch.allclose(g_hard, g_hard_det)  # catches: a hard reset cut from the graph (no gradient through time)
assert multi_step(lif_step, x_g, tau=2.7, v_th=0.6, decay_input=False)[0].requires_grad  # catches: a charge cut from the graph

# %% [markdown]
# Verified: TEBN against loop-computed statistics pooled over time, the eval-mode per-step affine form and the
# running-statistics update, and the gradient of the per-step scales through a core LIF layer.
