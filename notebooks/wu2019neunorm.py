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
# # NeuNorm: direct training, faster, larger, better (Wu et al., AAAI 2019)
# An auxiliary neuron per position integrates the average spike of all feature maps,
# $x^{t+1} = k_{\tau 2}x^t + \frac{v}{F}\sum_f o^{t+1}_f$, and the spikes passed on are $\hat o_f = o_f - a_f x$; the
# next layer is the explicitly iterative LIF $u^{t+1} = k_{\tau 1}u^t(1 - o^t) + W\hat o^{t+1}$.

# %%
import math

import matplotlib.pyplot as plt
import torch

from snnref.neuron import multi_step
from snnref.training.neunorm import NeuNorm, neunorm_aux_step, neunorm_step
from snnref.training.stbp import stbp_spike_fn, stbp_step

torch.set_default_dtype(torch.float64)
K2, V = 0.83, 0.37   # auxiliary decay k_tau2 and gain v (not 0.5 / 1: no coincidences)
K1, V_TH = 0.71, 0.62  # iterative LIF decay k_tau1 and threshold

# %% [markdown]
# **Claim 1 (auxiliary neuron, NeuNorm equation).** From $x^0 = 0$ the auxiliary neuron is the leaky sum
# $$x^{t}(i,j) = \sum_{s=1}^{t} k_{\tau 2}^{\,t-s}\,\frac{v}{F}\sum_{f=1}^{F} o^{s}_f(i,j),$$
# one per position and shared by all $F$ maps, and the normalized spikes are $\hat o^t_f = o^t_f - a_f x^t$.
# When every map fires at every step the sum is geometric: $x^t = v\,(1 - k_{\tau 2}^{\,t})/(1 - k_{\tau 2}) \to v/(1-k_{\tau 2})$.

# %%  catches: wrong leak (k vs 1-k), sum instead of mean over maps, mean over the wrong axis, state shifted in time
g = torch.Generator().manual_seed(11)
T, B, F, H, W = 9, 2, 3, 2, 2
o = (torch.rand(T, B, F, H, W, generator=g) < torch.tensor([0.2, 0.5, 0.8]).view(1, 1, F, 1, 1)).double()
a = 0.3 + torch.rand(F, H, W, generator=g)  # per map and position, all different
x_ref = torch.zeros(T, B, 1, H, W)
for b in range(B):
    for i in range(H):
        for j in range(W):
            for t in range(T):
                x_ref[t, b, 0, i, j] = sum(K2 ** (t - s) * V / F * sum(o[s, b, f, i, j].item() for f in range(F))
                                           for s in range(t + 1))
o_hat_step, xs = multi_step(neunorm_step, o, torch.zeros(B, 1, H, W), a=a, k_tau2=K2, v=V)
torch.testing.assert_close(torch.stack(xs), x_ref, rtol=1e-12, atol=1e-14)  # auxiliary state = leaky average
torch.testing.assert_close(o_hat_step, o - a * x_ref, rtol=1e-12, atol=1e-14)  # o_hat = o - a x (sign, a per map)
layer = NeuNorm((F, H, W), k_tau2=K2, v=V)
with torch.no_grad():
    layer.a.copy_(a)
torch.testing.assert_close(layer(o), o - a * x_ref, rtol=1e-12, atol=1e-14)  # module loops from x^0 = 0
assert float(NeuNorm((F, H, W), k_tau2=K2, v=V, a_init=0.0)(o).detach().sub(o).abs().max()) == 0.0  # a = 0: identity
assert math.isclose(NeuNorm((F,), k_tau2=K2, v=V, a_init=0.4).a.detach().sum().item(), 0.4 * F, rel_tol=1e-14)  # a_init fills the scale

# every map firing at every step: the geometric closed form and its limit
ones = torch.ones(60, 1, 4, 1)
xs_full = torch.stack(multi_step(neunorm_step, ones, torch.zeros(1, 1, 1), a=torch.zeros(4, 1), k_tau2=K2, v=V)[1])
closed = torch.tensor([V * (1 - K2 ** (t + 1)) / (1 - K2) for t in range(60)])
torch.testing.assert_close(xs_full.flatten(), closed, rtol=1e-12, atol=1e-14)  # wrong leak or gain
assert math.isclose(xs_full[-1].item(), V / (1 - K2), rel_tol=1e-4)  # steady state v / (1 - k_tau2)
# one step from a given state, exact numbers: 0.83 * 0.5 + 0.37 * (1 + 0 + 1 + 1) / 4
x1 = neunorm_aux_step(torch.tensor([[1.0, 0.0, 1.0, 1.0]]), torch.tensor([[0.5]]), k_tau2=K2, v=V)
assert math.isclose(x1.item(), K2 * 0.5 + V * 3 / 4, rel_tol=1e-14)  # leak applied to the old state, v/F scaling

fig, ax = plt.subplots(1, 2, figsize=(10, 3))
ax[0].plot(x_ref[:, 0, 0, 0, 0], "k-", lw=3, alpha=0.3, label="leaky sum (brute force)")
ax[0].plot(torch.stack(xs)[:, 0, 0, 0, 0], "C0.--", label="neunorm_step")
ax[0].plot(o.mean(2)[:, 0, 0, 0] * V, "C1x", label=r"$\frac{v}{F}\sum_f o_f$")
ax[0].set_xlabel("t"); ax[0].set_ylabel("$x^t$"); ax[0].legend(fontsize=8)

# %% [markdown]
# **Claim 2 (gradients through NeuNorm).** For $L = \sum_{t} c^t \cdot \hat o^t$ the derivatives follow from the two
# equations above by hand:
# $$\frac{\partial L}{\partial a_f} = -\sum_t c^t_f\,x^t, \qquad
# \frac{\partial L}{\partial o^s_f} = c^s_f - \frac{v}{F}\sum_{t \ge s} k_{\tau 2}^{\,t-s}\sum_{f'} a_{f'}\,c^t_{f'},$$
# the second term being the lateral path through the shared auxiliary neuron (inhibition of every map by all maps,
# carried forward in time). Autograd through `NeuNorm` must equal both.

# %%  catches: a detached auxiliary state, the lateral path dropped, wrong decay in the backward-in-time sum
c = torch.randn(T, B, F, H, W, generator=g)
o_req = o.clone().requires_grad_(True)
layer.a.grad = None
out = layer(o_req)
assert out.requires_grad  # catches an output detached from a and o
(c * out).sum().backward()
dA = -(c * x_ref).sum(dim=(0, 1))
torch.testing.assert_close(layer.a.grad, dA, rtol=1e-12, atol=1e-13)  # dL/da = -sum c x
ac = (a * c).sum(dim=2, keepdim=True)  # sum_f' a_f' c^t_f'  [T, B, 1, H, W]
dO = torch.zeros_like(o)
for s in range(T):
    lateral = sum(K2 ** (t - s) * ac[t] for t in range(s, T))
    dO[s] = c[s] - V / F * lateral
torch.testing.assert_close(o_req.grad, dO, rtol=1e-12, atol=1e-13)  # lateral inhibition path, in time
assert (o_req.grad - c).abs().max() > 0.05  # the lateral term is not negligible here

# %% [markdown]
# **Claim 3 (NeuNorm between two spiking layers).** The paper's membrane update of the next layer,
# $$u^{t+1,n+1}_k = k_{\tau 1}u^{t,n+1}_k(1 - o^{t,n+1}_k) + \sum_{f,p} W_{k,(f,p)}\left(o^{t+1,n}_{f}(p) - a_f(p)\,x^{t+1,n}(p)\right),
# \quad o^{t+1,n+1}_k = [u^{t+1,n+1}_k \ge V_{th}],$$
# written here as plain loops over neurons, gives exactly the spikes and potentials of `NeuNorm` followed by a linear
# map and the iterative LIF (`stbp_step`, decay $k_{\tau 1}$, reset to 0). With $a > 0$ and excitatory weights the
# dense presynaptic patterns drive the next layer less than without NeuNorm (the normalization the paper is after).

# %%  catches: wrong LIF decay mapping, no reset / wrong reset value, NeuNorm applied after instead of before W
Fm, P, K = 4, 3, 5
o_in = (torch.rand(14, 1, Fm, P, generator=g) < 0.55).double()  # [T, B=1, F, P]
a3 = 0.2 + 0.6 * torch.rand(Fm, P, generator=g)
Wt = 0.25 * torch.rand(K, Fm * P, generator=g) + 0.02  # excitatory
nn3 = NeuNorm((Fm, P), k_tau2=K2, v=V)
with torch.no_grad():
    nn3.a.copy_(a3)
    drive = nn3(o_in).flatten(2) @ Wt.T  # [T, 1, K]
spk, us = multi_step(stbp_step, drive, tau=K1, v_th=V_TH, spike_fn=stbp_spike_fn("h1", 0.9))

u_ref, o_ref = torch.zeros(14, K), torch.zeros(14, K)
xa = [0.0] * P
for t in range(14):
    xa = [K2 * xa[p] + V / Fm * sum(o_in[t, 0, f, p].item() for f in range(Fm)) for p in range(P)]
    for k in range(K):
        inp = sum(Wt[k, f * P + p].item() * (o_in[t, 0, f, p].item() - a3[f, p].item() * xa[p])
                  for f in range(Fm) for p in range(P))
        prev = K1 * u_ref[t - 1, k].item() * (1 - o_ref[t - 1, k].item()) if t else 0.0
        u_ref[t, k] = prev + inp
        assert abs(u_ref[t, k].item() - V_TH) > 1e-6  # margin: no spike decided by rounding
        o_ref[t, k] = float(u_ref[t, k].item() >= V_TH)
assert 5 <= o_ref.sum() <= 0.8 * o_ref.numel()  # the layer fires, but not at every step
torch.testing.assert_close(spk[:, 0], o_ref, rtol=0, atol=0)  # spikes of the paper's update
torch.testing.assert_close(torch.stack(us)[:, 0], u_ref * (1 - o_ref), rtol=1e-12, atol=1e-12)  # decay k_tau1, reset 0
# exact firing convention and reset with representable numbers: u = V_th fires and resets to 0
o_eq, v_eq = stbp_step(torch.tensor([0.375]), torch.tensor([0.5]), tau=0.75, v_th=0.75, spike_fn=stbp_spike_fn("h1", 0.5))
assert o_eq.item() == 1.0 and v_eq.item() == 0.0  # '>' instead of '>=', or a soft reset

# selectivity: firing of the next layer vs density of the presynaptic spikes, with and without NeuNorm
dens = torch.linspace(0.05, 0.95, 10)
rates = {0.0: [], 0.5: []}
for a0 in rates:
    lay = NeuNorm((Fm, P), k_tau2=K2, v=V, a_init=a0)
    for d in dens:
        o_d = (torch.rand(40, 64, Fm, P, generator=torch.Generator().manual_seed(5)) < d).double()
        with torch.no_grad():
            s_d, _ = multi_step(stbp_step, lay(o_d).flatten(2) @ Wt.T, tau=K1, v_th=V_TH, spike_fn=stbp_spike_fn("h1", 0.9))
        rates[a0].append(s_d.mean().item())
r0, r5 = torch.tensor(rates[0.0]), torch.tensor(rates[0.5])
assert (r5[3:] < r0[3:] - 0.02).all()  # NeuNorm inhibits: catches a sign flip of a x
assert r0[-1] > 0.45 and r5[-1] < r0[-1] - 0.1  # dense input saturates far less with NeuNorm
ax[1].plot(dens, r0, "o-", label="no NeuNorm ($a=0$)")
ax[1].plot(dens, r5, "s-", label="NeuNorm ($a=0.5$)")
ax[1].set_xlabel("presynaptic spike density"); ax[1].set_ylabel("postsynaptic firing rate"); ax[1].legend(fontsize=8)
plt.tight_layout(); plt.show()

# %% [markdown]
# **Checks on the layer's arguments.** `NeuNorm` rejects a decay outside $[0, 1)$ and a non-positive gain.

# %%  catches: loosened argument validation
for kw in [dict(k_tau2=1.0, v=0.3), dict(k_tau2=-0.1, v=0.3), dict(k_tau2=0.5, v=0.0)]:
    try:
        NeuNorm((2,), **kw)
    except ValueError as e:
        assert ("k_tau2" in str(e)) == (kw["v"] > 0)
    else:
        raise AssertionError(kw)
assert NeuNorm((2,), k_tau2=0.0, v=0.3).k_tau2 == 0.0  # k_tau2 = 0 (no memory) is allowed

# %% [markdown]
# Verified: the auxiliary neuron is the leaky average of all feature maps (brute force and the geometric closed form),
# the normalized spikes are $o - a x$ per map, autograd through NeuNorm equals the hand-derived gradients including
# the lateral path through time, and NeuNorm followed by the iterative LIF reproduces the paper's membrane update
# exactly, inhibiting the next layer more the denser the presynaptic activity.
