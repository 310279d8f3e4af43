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
# # PLIF: learnable membrane time constants (Fang et al., ICCV 2021)
# The LIF neuron's leak $1/\tau = \sigma(a)$ becomes a trainable parameter, learned with the weights by
# surrogate-gradient backpropagation.

# %%
import math
from functools import partial

import matplotlib.pyplot as plt
import torch

from snnref.neuron import multi_step
from snnref.surrogate import atan_grad, atan_spike
from snnref.training.plif import PLIF, plif_step

torch.set_default_dtype(torch.float64)
V_TH, V_RESET, ALPHA = 0.8, -0.1, 3.0
SPIKE = partial(atan_spike, alpha=ALPHA)

# %% [markdown]
# **Claim 1 (the PLIF update).** With $k = \sigma(a)$: $H_t = V_{t-1} + k(X_t - (V_{t-1} - V_{reset}))$,
# $S_t = \Theta(H_t - V_{th})$, $V_t = H_t(1 - S_t) + V_{reset}S_t$ — checked against a loop written here, for a
# layer initialized at $\tau_0$ (so $\sigma(a) = 1/\tau_0$, i.e. $a = -\ln(\tau_0 - 1)$).

# %%  catches: leak sigma(a) vs 1 - sigma(a), wrong initialization of a, reset to 0 instead of V_reset
g = torch.Generator().manual_seed(1)
T = 40
x = 1.6 * torch.rand(T, 2, 5, generator=g)
layer = PLIF(init_tau=2.6, v_th=V_TH, v_reset=V_RESET, spike_fn=SPIKE)
assert math.isclose(layer.tau.item(), 2.6, rel_tol=1e-14) and math.isclose(torch.sigmoid(layer.a).item(), 1 / 2.6, rel_tol=1e-14)
s_impl = layer(x)
k = 1 / 2.6
v = [[0.0] * 5 for _ in range(2)]  # V_0 = 0
s_ref = torch.zeros(T, 2, 5)
for t in range(T):
    for b in range(2):
        for n in range(5):
            h = v[b][n] + k * (x[t, b, n].item() - (v[b][n] - V_RESET))
            assert abs(h - V_TH) > 1e-9
            s = 1.0 if h >= V_TH else 0.0
            v[b][n] = V_RESET if s else h
            s_ref[t, b, n] = s
assert 20 < s_ref.sum() < 0.8 * s_ref.numel()
torch.testing.assert_close(s_impl, s_ref, rtol=0, atol=0)

# %% [markdown]
# **Claim 2 (gradient with respect to the time constant).** Backpropagation through time gives $\partial L/\partial a$
# by the recursion
# $\frac{dH_t}{da} = k'(a)\,(X_t - V_{t-1} + V_{reset}) + (1 - k)\frac{dV_{t-1}}{da}$,
# $\frac{dS_t}{da} = g'(H_t - V_{th})\frac{dH_t}{da}$,
# $\frac{dV_t}{da} = (1 - S_t)\frac{dH_t}{da} + (V_{reset} - H_t)\frac{dS_t}{da}$, with $k'(a) = k(1-k)$ and $g'$ the
# derivative of the paper's ATan primitive $g(x) = \frac{1}{\pi}\arctan(\frac{\pi}{2}\alpha x) + \frac{1}{2}$ (checked
# first: the spike function's backward equals $g'$, $g'(0) = \alpha/2$); computed here by hand and compared with
# autograd through the layer. Also $\tau = 1/\sigma(a)$ has $d\tau/da = 1 - \tau$.

# %%  catches: a detached leak, gradient not reaching a through the reset, wrong sigmoid derivative
def g_paper(z):
    """The paper's ATan primitive g(x) = arctan(pi/2 alpha x)/pi + 1/2, written here from its formula."""
    return torch.atan(0.5 * math.pi * ALPHA * z) / math.pi + 0.5


def g_prime(z):
    """g'(z) by autograd of the primitive above (independent of snnref's atan_grad)."""
    z = z.detach().clone().requires_grad_(True)
    (d,) = torch.autograd.grad(g_paper(z).sum(), z)
    return d


# the surrogate itself: atan_spike's backward is g' (anchored by g'(0) = alpha/2), and atan_grad is g' with
# the right slope as well (its own derivative equals g'')
zs = torch.linspace(-2, 2, 81)
zr = zs.clone().requires_grad_(True)
o = SPIKE(zr)
assert o.requires_grad  # catches a spike function cut from the graph
o.sum().backward()
torch.testing.assert_close(zr.grad, g_prime(zs), rtol=1e-12, atol=1e-14)  # wrong width/height of the surrogate
assert math.isclose(g_prime(torch.zeros(1)).item(), ALPHA / 2, rel_tol=1e-14)  # anchor: g'(0) = alpha/2
zr = zs.clone().requires_grad_(True)
(d1,) = torch.autograd.grad(g_paper(zr).sum(), zr, create_graph=True)
(d2,) = torch.autograd.grad(d1.sum(), zr)
zr = zs.clone().requires_grad_(True)
gp = atan_grad(zr, ALPHA)
assert gp.requires_grad  # catches atan_grad computed outside the graph
(d2_impl,) = torch.autograd.grad(gp.sum(), zr)
torch.testing.assert_close(d2_impl, d2, rtol=1e-12, atol=1e-14)  # g'' matches: the curve's shape, not just values

c = torch.randn(T, 2, 5, generator=g)  # loss weights, L = sum_t c_t S_t
layer = PLIF(init_tau=3.4, v_th=V_TH, v_reset=V_RESET, spike_fn=SPIKE)
out = layer(x)
assert out.requires_grad  # catches a charge, spike or layer output detached from the graph
(out * c).sum().backward()
kk = 1 / 3.4
dk = kk * (1 - kk)
V = torch.zeros(2, 5); dV = torch.zeros(2, 5); dL = 0.0
for t in range(T):
    H = V + kk * (x[t] - (V - V_RESET))
    dH = dk * (x[t] - V + V_RESET) + (1 - kk) * dV
    S = (H >= V_TH).double()
    dS = g_prime(H - V_TH) * dH  # surrogate derivative from the paper's primitive, not from snnref
    dL += (c[t] * dS).sum().item()
    V, dV = H * (1 - S) + V_RESET * S, (1 - S) * dH + (V_RESET - H) * dS
assert abs(dL) > 1e-2
assert math.isclose(layer.a.grad.item(), dL, rel_tol=1e-10)

# tau = 1/sigma(a) is itself a differentiable function of a (e.g. for a penalty on tau) with d tau/da = 1 - tau
layer = PLIF(init_tau=3.4, v_th=V_TH, v_reset=V_RESET, spike_fn=SPIKE)
tau_a = layer.tau
assert tau_a.requires_grad  # catches a tau property cut from the graph
tau_a.backward()
assert math.isclose(layer.a.grad.item(), 1 - 3.4, rel_tol=1e-12)  # catches a wrong tau(a) map

# %% [markdown]
# **Claim 3 (the time constant is learnable, toy scale).** Sub-threshold potentials generated with $\tau^* = 3.3$
# are fitted by gradient descent on $a$ alone, starting from $\tau = 1.5$; the learned $\tau$ recovers $\tau^*$, and
# $\tau$ stays above 1 throughout because $\tau = 1/\sigma(a)$.

# %%  catches: a that receives no gradient, a parameterization that lets tau fall below 1
x_fit = torch.rand(30, 8, 1, generator=g)
tau_star = 3.3
target, vv = [], torch.zeros(8, 1)
for t in range(30):
    vv = vv + (x_fit[t] - vv) / tau_star  # sub-threshold LIF, V_reset = 0
    target.append(vv)
target = torch.stack(target)
layer = PLIF(init_tau=1.5, v_th=math.inf, v_reset=0.0, spike_fn=SPIKE)
opt = torch.optim.Adam(layer.parameters(), lr=0.1)
taus = []
for it in range(150):
    opt.zero_grad()
    _, states = multi_step(plif_step, x_fit, a=layer.a, v_th=math.inf, v_reset=0.0, spike_fn=SPIKE)
    loss = ((torch.stack(states) - target) ** 2).mean()
    loss.backward()
    opt.step()
    taus.append(layer.tau.item())
assert min(taus) > 1.0
assert math.isclose(taus[-1], tau_star, rel_tol=1e-3), taus[-1]

try:
    PLIF(init_tau=1.0, v_th=V_TH, v_reset=0.0, spike_fn=SPIKE)
except ValueError as e:
    assert "init_tau" in str(e)
else:
    raise AssertionError("init_tau=1 accepted")

fig, ax = plt.subplots(figsize=(7, 3))
ax.plot(taus, label=r"learned $\tau = 1/\sigma(a)$")
ax.axhline(tau_star, color="k", ls="--", lw=0.8, label=r"$\tau^*$")
ax.set_xlabel("Adam step"); ax.legend(fontsize=8); plt.show()

# %% [markdown]
# Verified: the PLIF layer follows its update equation with $1/\tau = \sigma(a)$ and a hard reset to $V_{reset}$,
# autograd's $\partial L/\partial a$ equals the hand-written BPTT recursion through leak, surrogate and reset, and
# gradient descent on $a$ recovers a target time constant while keeping $\tau > 1$.
