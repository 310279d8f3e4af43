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
# # GLIF: gated leaky integrate-and-fire neurons (Yao et al., NeurIPS 2022)
# Learnable gates $\alpha, \beta, \gamma \in [0, 1]$ blend exponential/linear leakage, constant/time-dependent
# conductance and hard/soft reset inside one neuron.

# %%
import math
from functools import partial

import matplotlib.pyplot as plt
import torch

from snnref.neuron import if_step, lif_step, multi_step
from snnref.surrogate import atan_grad, atan_spike
from snnref.training.glif import GLIF, glif_step

torch.set_default_dtype(torch.float64)
SPIKE = partial(atan_spike, alpha=3.0)
P = dict(alpha=0.37, beta=0.62, gamma=0.71, tau=0.3, v_l=0.04, v_r=0.45, v_th=0.55)  # none at 0.5
T = 12
g_seq = torch.tensor([0.21, 0.83, 0.47, 0.66, 0.35, 0.9, 0.28, 0.74, 0.52, 0.4, 0.88, 0.3])  # g_t, all different


def make_layer(spike_fn=SPIKE) -> GLIF:
    layer = GLIF(T=T, spike_fn=spike_fn, g=0.5, **P)
    with torch.no_grad():
        layer.raw_g.copy_(torch.log(g_seq / (1 - g_seq)))  # a different conductance at each step
    return layer


# %% [markdown]
# **Claim 1 (the GLIF update, official formulation).** With $f = 1 - \alpha(1 - \tau)$,
# $U_t = f\,U_{t-1}(1 - \gamma O_{t-1}) - (1 - \gamma)V_R\,O_{t-1} - (1 - \alpha)V_L + (1 - \beta(1 - g_t))X_t$ and
# $O_t = \Theta(U_t - V_{th})$, from $U_0 = O_0 = 0$ — checked against a per-neuron loop written here, with every
# gate strictly between 0 and 1 and a different $g_t$ at each step. The layer stores each parameter as a logit.

# %%  catches: wrong leak mix, reset applied with the current instead of the previous spike, hard/soft gates swapped
layer = make_layer()
for k, v in layer.params().items():
    assert math.isclose(v.item(), P[k], rel_tol=1e-12), k  # catches: wrong logit in the constructor
torch.testing.assert_close(torch.sigmoid(layer.raw_g), g_seq, rtol=1e-12, atol=0)  # catches: conductances not stored as logits
for bad in (0.0, 1.0):
    try:
        GLIF(T=3, gamma=bad)
    except ValueError as e:
        assert "gamma" in str(e)  # catches: an error message that does not name the parameter
    else:
        raise AssertionError("a gate outside (0, 1) was accepted")
d = GLIF(T=5, v_th=0.04).params()  # official defaults V_L = V_th / (2T), V_R = V_th
assert math.isclose(d["v_l"].item(), 0.04 / 10, rel_tol=1e-12) and math.isclose(d["v_r"].item(), 0.04, rel_tol=1e-12)  # catches: wrong default V_L = V_th/(2T) or V_R = V_th

g = torch.Generator().manual_seed(3)
x = 0.9 * torch.rand(T, 2, 6, generator=g) - 0.1
s_impl = layer(x)
_, states = multi_step(glif_step, list(zip(x, g_seq)), (torch.zeros(()), torch.zeros(())), spike_fn=SPIKE, **layer.params())
u_impl = torch.stack([st[0] for st in states])
f = 1 - P["alpha"] * (1 - P["tau"])
u_ref, s_ref = torch.zeros(T, 2, 6), torch.zeros(T, 2, 6)
for b in range(2):
    for n in range(6):
        u, o = 0.0, 0.0
        for t in range(T):
            u = (f * u * (1 - P["gamma"] * o) - (1 - P["gamma"]) * P["v_r"] * o - (1 - P["alpha"]) * P["v_l"]
                 + (1 - P["beta"] * (1 - g_seq[t].item())) * x[t, b, n].item())
            assert abs(u - P["v_th"]) > 1e-6  # no spike decided by rounding
            o = 1.0 if u >= P["v_th"] else 0.0
            u_ref[t, b, n], s_ref[t, b, n] = u, o
assert 10 < s_ref.sum() < 0.7 * s_ref.numel()  # the reset path is exercised
torch.testing.assert_close(s_impl, s_ref, rtol=0, atol=0)  # catches: any error that changes a spike
torch.testing.assert_close(u_impl, u_ref, rtol=1e-12, atol=1e-12)  # catches: errors too small to flip a spike

# %% [markdown]
# **Claim 2 (closed form and the corners of the gate cube).** (a) Below threshold with constant input $c$ and
# conductance $g$: $U_t = \bigl((1 - \beta(1-g))c - (1-\alpha)V_L\bigr)\frac{1 - f^t}{1 - f}$.
# (b) At $(\alpha, \beta, \gamma) = (1, 0, 1)$ GLIF is the plain LIF neuron with leak $\tau$ (decay factor, not the
# time constant) and hard reset to 0; (c) at $(0, 1, 0)$ it is an IF neuron with input $g_tX_t - V_L$ and soft reset
# by $V_R$. The corners are compared with the core's `lif_step` and `if_step`.

# %%  catches: leak factor alpha*tau instead of 1 - alpha(1 - tau), linear leak not gated, conductance gate inverted
c, gc = 0.23, 0.37
seq = [(torch.tensor(c), torch.tensor(gc))] * 25
_, st = multi_step(glif_step, seq, (torch.zeros(()), torch.zeros(())), spike_fn=SPIKE,
                   **{k: torch.tensor(v) for k, v in P.items() if k != "v_th"}, v_th=torch.tensor(math.inf))
drive = (1 - P["beta"] * (1 - gc)) * c - (1 - P["alpha"]) * P["v_l"]
for t in range(1, 26):
    assert math.isclose(st[t - 1][0].item(), drive * (1 - f**t) / (1 - f), rel_tol=1e-12)  # catches: wrong decay f, ungated linear leak, inverted conductance gate

xs = 1.2 * torch.rand(T, 3, 5, generator=g)
one, zero = torch.tensor(1.0), torch.tensor(0.0)
gate = {k: torch.tensor(v) for k, v in P.items()}
# (b) LIF corner: H_t = tau V_{t-1} + X_t  <=>  core LIF with decay_input=False and 1 - 1/tau_c = tau
s_g, st_g = multi_step(glif_step, list(zip(xs, g_seq)), (zero, zero), spike_fn=SPIKE,
                       **{**gate, "alpha": one, "beta": zero, "gamma": one})
s_l, st_l = multi_step(lif_step, xs, tau=1 / (1 - P["tau"]), v_th=P["v_th"], v_reset=0.0, decay_input=False, spike_fn=SPIKE)
torch.testing.assert_close(s_g, s_l, rtol=0, atol=0)  # catches: leak factor that is not tau at alpha = 1
torch.testing.assert_close(torch.stack([u * (1 - o) for u, o in st_g]), torch.stack(st_l), rtol=1e-12, atol=1e-12)  # catches: hard reset that keeps part of the potential
# (c) IF corner with V_R = V_th: soft reset by the threshold, input g_t X_t - V_L
s_g, st_g = multi_step(glif_step, list(zip(xs, g_seq)), (zero, zero), spike_fn=SPIKE,
                       **{**gate, "alpha": zero, "beta": one, "gamma": zero, "v_r": gate["v_th"]})
s_i, st_i = multi_step(if_step, g_seq[:, None, None] * xs - P["v_l"], v_th=P["v_th"], v_reset=None, spike_fn=SPIKE)
assert s_i.sum() > 5  # the IF corner actually fires
torch.testing.assert_close(s_g, s_i, rtol=0, atol=0)  # catches: linear leak or conductance not applied at the corner
torch.testing.assert_close(torch.stack([u - P["v_th"] * o for u, o in st_g]), torch.stack(st_i), rtol=1e-12, atol=1e-12)  # catches: soft reset by the wrong amount

# %% [markdown]
# **Claim 3 (the gates are learned by BPTT).** For $L = \sum_t c_t\,O_t$ and $\alpha = \sigma(a)$, the surrogate
# gradient satisfies the forward-mode recursion
# $\frac{dU_t}{d\alpha} = -(1-\tau)U_{t-1}(1-\gamma O_{t-1}) + f\,(1-\gamma O_{t-1})\frac{dU_{t-1}}{d\alpha}
# - \bigl(\gamma f U_{t-1} + (1-\gamma)V_R\bigr)\frac{dO_{t-1}}{d\alpha} + V_L$,
# $\frac{dO_t}{d\alpha} = g'(U_t - V_{th})\frac{dU_t}{d\alpha}$, $\frac{\partial L}{\partial a} = \alpha(1-\alpha)
# \sum_t c_t \frac{dO_t}{d\alpha}$; the same for $\gamma = \sigma(b)$ with
# $\frac{dU_t}{d\gamma} = f(1-\gamma O_{t-1})\frac{dU_{t-1}}{d\gamma} - f U_{t-1}O_{t-1} + V_R O_{t-1}
# - (\gamma f U_{t-1} + (1-\gamma)V_R)\frac{dO_{t-1}}{d\gamma}$. Autograd through the layer must agree.

# %%  catches: a detached gate, a reset path that carries no gradient, a wrong sigmoid parameterization
layer = make_layer()
cw = torch.randn(T, 2, 6, generator=g)
out = layer(x)
assert out.requires_grad  # catches: spikes detached from the graph
(out * cw).sum().backward()
a_, gm, tau, vl, vr, vth = (P[k] for k in ("alpha", "gamma", "tau", "v_l", "v_r", "v_th"))
U, O = torch.zeros(2, 6), torch.zeros(2, 6)
dUa, dOa, dUg, dOg = (torch.zeros(2, 6) for _ in range(4))
La = Lg = 0.0
for t in range(T):
    keep = 1 - gm * O
    sub = gm * f * U + (1 - gm) * vr
    nU = f * U * keep - (1 - gm) * vr * O - (1 - a_) * vl + (1 - P["beta"] * (1 - g_seq[t])) * x[t]
    ndUa = -(1 - tau) * U * keep + f * keep * dUa - sub * dOa + vl
    ndUg = f * keep * dUg - f * U * O + vr * O - sub * dOg
    U, dUa, dUg = nU, ndUa, ndUg
    sg = atan_grad(U - vth, 3.0)
    O, dOa, dOg = (U >= vth).double(), sg * dUa, sg * dUg
    La += (cw[t] * dOa).sum().item()
    Lg += (cw[t] * dOg).sum().item()
assert abs(La) > 1e-2 and abs(Lg) > 1e-2  # the gradients are not trivially zero
assert math.isclose(layer.raw["alpha"].grad.item(), a_ * (1 - a_) * La, rel_tol=1e-9)  # catches: detached leak gate, wrong leak derivative
assert math.isclose(layer.raw["gamma"].grad.item(), gm * (1 - gm) * Lg, rel_tol=1e-9)  # catches: detached reset gate, reset path without gradient
assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in layer.parameters())  # every parameter learns

# %%  figure: one neuron under three gate settings
xf = 0.5 + 0.3 * torch.sin(torch.arange(T) / 2.0)
fig, ax = plt.subplots(figsize=(7, 3))
for name, gates in {"LIF corner (1,0,1)": (one, zero, one), "IF corner (0,1,0)": (zero, one, zero),
                    "mixed": (gate["alpha"], gate["beta"], gate["gamma"])}.items():
    _, st = multi_step(glif_step, list(zip(xf, g_seq)), (zero, zero), spike_fn=SPIKE,
                       **{**gate, "alpha": gates[0], "beta": gates[1], "gamma": gates[2]})
    ax.plot([u.item() for u, _ in st], marker=".", label=name)
ax.axhline(P["v_th"], color="k", ls="--", lw=0.8, label=r"$V_{th}$")
ax.set_xlabel("t"); ax.set_ylabel(r"$U_t$"); ax.legend(fontsize=8); plt.show()

# %% [markdown]
# Verified: the GLIF layer and `glif_step` follow the gated update (leak, conductance and reset gates, reset by the
# previous spike) against a brute-force loop; the sub-threshold closed form holds; the $(1,0,1)$ and $(0,1,0)$ corners
# reproduce the core LIF and IF neurons; and autograd's gradients for the leak and reset gates equal hand-written
# BPTT recursions through the surrogate.
