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
# # IM-Loss: information maximization loss (Guo et al., NeurIPS 2022)
# A regularizer that pulls each layer's mean membrane potential onto the threshold, where a binary spike carries the
# most information, plus the tanh surrogate gradient of ESG.

# %%
import math

import matplotlib.pyplot as plt
import torch

from snnref.training.im_loss import esg_grad, esg_primitive, esg_spike, im_loss

torch.set_default_dtype(torch.float64)
V_TH = 0.6  # not 0.5, so a hard-coded firing level would show


def spike_entropy(p: float) -> float:
    """Entropy (nats) of a Bernoulli(p) spike, written here from the definition."""
    return -sum(q * math.log(q) for q in (p, 1 - p) if q > 0)


# %% [markdown]
# **Claim 1 (the loss and why it maximizes information).** $\mathcal{L}_{IM} = \frac{1}{L}\sum_l(\overline{U}^l -
# V_{th})^2$. For potentials spread symmetrically around their mean $\mu$ with spread $\sigma$ (Gaussian here), the
# firing probability is $p = 1 - \Phi((V_{th} - \mu)/\sigma)$ and the spike entropy
# $H(p) = -p\ln p - (1-p)\ln(1-p)$ peaks at $\ln 2$ exactly where $\mathcal{L}_{IM} = 0$, i.e. $\mu = V_{th}$, and
# falls as $\mathcal{L}_{IM}$ grows.

# %%  catches: a loss on the wrong target (0.5 or 0 instead of V_th), a sum instead of a mean over layers or neurons
g = torch.Generator().manual_seed(0)
z = torch.randn(4000, generator=g)
z = torch.cat([z, -z])  # exactly symmetric around 0
layers = [0.3 + 0.7 * z.reshape(8, 1000), 0.95 + 0.4 * torch.cat([z[:750], -z[:750]]), -0.2 + 1.1 * z.reshape(2, 2, 2000)]
means = [0.3, 0.95, -0.2]
expected = sum((m - V_TH) ** 2 for m in means) / 3
assert math.isclose(im_loss(layers, v_th=V_TH).item(), expected, rel_tol=1e-12)  # catches: wrong target, sum over layers
assert math.isclose(im_loss(layers[1:2], v_th=V_TH).item(), (0.95 - V_TH) ** 2, rel_tol=1e-12)  # catches: squared term dropped

sigma = 0.7
mus = torch.linspace(-0.6, 1.8, 49)
losses, ents, ents_mc = [], [], []
for mu in mus.tolist():
    u = mu + sigma * z
    losses.append(im_loss([u], v_th=V_TH).item())
    p = 0.5 * math.erfc((V_TH - mu) / (sigma * math.sqrt(2)))  # 1 - Phi((V_th - mu) / sigma)
    ents.append(spike_entropy(p))
    ents_mc.append(spike_entropy((u >= V_TH).double().mean().item()))  # firing of the samples themselves
i_best = min(range(len(mus)), key=lambda i: losses[i])
assert math.isclose(mus[i_best].item(), V_TH, abs_tol=1e-12) and losses[i_best] < 1e-24  # catches: a loss minimised away from the threshold
assert max(range(len(mus)), key=lambda i: ents[i]) == i_best and math.isclose(ents[i_best], math.log(2), rel_tol=1e-12)  # the loss minimum is the entropy maximum
assert math.isclose(ents_mc[i_best], math.log(2), rel_tol=1e-12)  # half of the symmetric samples fire
order = sorted(range(len(mus)), key=lambda i: losses[i])
assert all(ents[a] >= ents[b] - 1e-12 for a, b in zip(order, order[1:]))  # lower loss, higher entropy

fig, ax = plt.subplots(figsize=(7, 3))
ax.plot(mus, ents, label=r"spike entropy $H(p)$ (nats)")
ax.plot(mus, ents_mc, ".", ms=3, label="entropy of the samples' spikes")
ax.plot(mus, losses, label=r"$\mathcal{L}_{IM}$")
ax.axvline(V_TH, color="k", ls="--", lw=0.8)
ax.set_xlabel(r"mean potential $\mu$"); ax.set_ylim(0, 1.5); ax.legend(fontsize=8); plt.show()

# %% [markdown]
# **Claim 2 (gradients).** $\partial\mathcal{L}_{IM}/\partial U^l_i = \frac{2}{L N_l}(\overline{U}^l - V_{th})$ for a
# layer of $N_l$ potentials. The ESG spike is the step forward and
# $\varphi'(x) = \frac{K}{2}(1 - \tanh^2(Kx))$ backward, which equals the finite difference of
# $\varphi(x) = \frac{1}{2}\tanh(Kx) + \frac{1}{2}$ and is $K/2$ at the threshold.

# %%  catches: a detached loss, a wrong factor in the surrogate, a surrogate centred off the threshold
us = [torch.randn(3, 5, generator=g, requires_grad=True), torch.randn(7, generator=g, requires_grad=True)]
loss = im_loss(us, v_th=V_TH)
assert loss.requires_grad  # catches: a detached loss
grads = torch.autograd.grad(loss, us)
for u, gr in zip(us, grads):
    torch.testing.assert_close(gr, torch.full_like(u, 2 * (u.mean().item() - V_TH) / (2 * u.numel())), rtol=1e-12, atol=0)  # catches: missing factor 2, sum instead of mean

K = 3.7
# the primitive's closed form and limits, then its derivative
assert math.isclose(float(esg_primitive(torch.tensor(0.4), K)), 0.5 * math.tanh(K * 0.4) + 0.5, rel_tol=1e-12)  # catches: K missing inside tanh, wrong offset
assert math.isclose(float(esg_primitive(torch.tensor(-50.0), K)), 0.0, abs_tol=1e-12)  # limits 0 and 1
assert math.isclose(float(esg_grad(torch.tensor(0.0), K)), K / 2, rel_tol=1e-12)  # anchors the scale
assert float(esg_spike(torch.tensor(0.0), K)) == 1.0 and float(esg_spike(torch.tensor(-1e-12), K)) == 0.0  # fires at x >= 0
x = torch.linspace(-1.5, 1.5, 301).requires_grad_()
out = esg_spike(x, K)
assert out.requires_grad  # catches: a spike detached from the graph
torch.testing.assert_close(out, (x >= 0).double(), rtol=0, atol=0)  # step forward
(gx,) = torch.autograd.grad(out.sum(), x)
h = 1e-6
fd = (esg_primitive(x.detach() + h, K) - esg_primitive(x.detach() - h, K)) / (2 * h)
torch.testing.assert_close(gx, fd, rtol=1e-7, atol=1e-9)  # backward = derivative of the primitive
prim, dprim = esg_primitive(x, K), esg_grad(x, K)
assert prim.requires_grad and dprim.requires_grad  # primitive and its gradient stay differentiable
(gp,) = torch.autograd.grad(prim.sum(), x)
torch.testing.assert_close(gp, esg_grad(x.detach(), K), rtol=1e-12, atol=1e-14)  # catches: primitive and gradient drifting apart
(gg,) = torch.autograd.grad(dprim.sum(), x)
fd2 = (esg_grad(x.detach() + h, K) - esg_grad(x.detach() - h, K)) / (2 * h)
torch.testing.assert_close(gg, fd2, rtol=1e-6, atol=1e-7)  # catches: a gradient that is not differentiable

# %% [markdown]
# **Claim 3 (toy scale: the loss raises the information of the spikes).** A layer of 64 neurons whose potentials
# $U = Wx + b$ start far below threshold (firing rate near 0) is trained on $\mathcal{L}_{IM}$ alone, through spikes
# with the ESG surrogate feeding a second layer whose potentials also enter the loss. Both layers end with mean
# potential on $V_{th}$, firing rates near $\frac{1}{2}$ and spike entropy near $\ln 2$.

# %%  catches: a loss whose minimum is not at the threshold, a surrogate that blocks the gradient to layer 1
x_in = torch.randn(128, 8, generator=g)
W1 = torch.nn.Parameter(0.3 * torch.randn(8, 64, generator=g))
b1 = torch.nn.Parameter(torch.full((64,), -1.5))
W2 = torch.nn.Parameter(0.1 * torch.randn(64, 32, generator=g))
b2 = torch.nn.Parameter(torch.full((32,), -1.0))
opt = torch.optim.Adam([W1, b1, W2, b2], lr=0.05)
hist = []
for it in range(150):
    u1 = x_in @ W1 + b1
    s1 = esg_spike(u1 - V_TH, K)
    u2 = s1 @ W2 + b2
    loss = im_loss([u1, u2], v_th=V_TH)
    opt.zero_grad(); loss.backward(); opt.step()
    rate = (u1 >= V_TH).double().mean().item()
    hist.append((loss.item(), spike_entropy(rate)))
    if it == 0:
        assert W1.grad.abs().sum() > 0  # layer 2's term reaches layer 1 through the surrogate
assert hist[0][1] < 0.35 and hist[-1][0] < 1e-5  # starts near silence, ends at the loss minimum
assert abs(u1.mean().item() - V_TH) < 5e-3 and abs(u2.mean().item() - V_TH) < 5e-3  # catches: a target other than V_th
assert hist[-1][1] > 0.98 * math.log(2) and abs((u2 >= V_TH).double().mean().item() - 0.5) < 0.15  # catches: a loss that does not raise spike entropy

fig, ax = plt.subplots(figsize=(7, 3))
ax.plot([hl for hl, _ in hist], label=r"$\mathcal{L}_{IM}$")
ax.plot([he for _, he in hist], label="spike entropy of layer 1 (nats)")
ax.axhline(math.log(2), color="k", ls="--", lw=0.8, label=r"$\ln 2$")
ax.set_xlabel("SGD step"); ax.set_yscale("log"); ax.legend(fontsize=8); plt.show()

# %% [markdown]
# Verified: $\mathcal{L}_{IM}$ is the mean over layers of the squared gap between mean potential and threshold, its
# minimum coincides with the maximum spike entropy $\ln 2$ for symmetric potentials, its gradient is the closed form,
# the ESG spike is the step forward with the tanh surrogate backward, and training on the loss alone drives two layers'
# spikes from silence to near-maximal entropy.
