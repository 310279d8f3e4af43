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
# # Multi-scale dynamic coding spiking actor (Zhang et al., AAAI 2022)
# Population coding of the state and a second-order dynamic neuron (DN) in the spiking actor of a TD3 agent.
#
# The paper's method section was not reachable; the DN update and its constants are the ones of the ILC-SAN code's
# re-implementation of MDC-SAN (see the note). Every claim below checks `snnref` against that restated update.

# %%
import math

import matplotlib.pyplot as plt
import torch

from snnref.models.mdc_san import DynamicNeuron, dn_step, population_encode
from snnref.surrogate import rectangular_spike

torch.manual_seed(0)
DT = torch.float64
# the restated constants, written out here independently of the module
TV, TU, TR, TS, VTH, LC = -0.172, 0.529, 0.021, 0.132, 0.5, 0.5

# %% [markdown]
# **Claim 1.** The DN update. With $c_t = \lambda_c c_{t-1} + X_t$, $\hat v = v_{t-1}(1-S_{t-1}) + \theta_r S_{t-1}$,
# $\hat u = u_{t-1} + \theta_s S_{t-1}$, $v_t = \hat v + (\hat v^2 - \hat v - \hat u + c_t)$,
# $u_t = \hat u + (\theta_v\hat v - \theta_u\hat u)$ and $S_t = \Theta(v_t - V_{th})$ from a zero state, the layer with
# its default constants reproduces a plain-Python loop over these equations, spikes and all three state variables,
# on inputs that make the neurons fire and reset several times.

# %%  catches: a wrong constant, a dropped term (v^2, -v, -u, c), reset to 0 instead of theta_r, no u bump, reset from the current instead of the previous spike, no current decay
T, N = 14, 6
x_seq = (0.05 + 0.4 * torch.rand(T, 1, N, dtype=DT))
spikes, states = DynamicNeuron()(x_seq)
n_spikes = 0
for n in range(N):
    c = v = u = s = 0.0
    for t in range(T):
        c = LC * c + x_seq[t, 0, n].item()
        vh = v * (1 - s) + TR * s
        uh = u + TS * s
        v = vh + (vh * vh - vh - uh + c)
        u = uh + (TV * vh - TU * uh)
        assert abs(v - VTH) > 1e-6  # margin: rounding cannot decide a spike
        s = 1.0 if v >= VTH else 0.0
        n_spikes += s
        ct, vt, ut, st = states[t]
        assert st[0, n].item() == s == spikes[t, 0, n].item()
        assert math.isclose(ct[0, n].item(), c, rel_tol=1e-12, abs_tol=1e-15)
        assert math.isclose(vt[0, n].item(), v, rel_tol=1e-12, abs_tol=1e-15)
        assert math.isclose(ut[0, n].item(), u, rel_tol=1e-12, abs_tol=1e-15)
print(f"{int(n_spikes)} spikes in {T * N} neuron-steps")
assert 10 <= n_spikes <= T * N - 10  # non-degenerate: both firing and silent steps

# %% [markdown]
# **Claim 2.** Sub-threshold fixed point and firing onset. For constant input $X$ the current settles at
# $I = X/(1-\lambda_c)$ and a silent DN has fixed points $u^* = (\theta_v/\theta_u)\,v^*$,
# $v^{*2} - k\,v^* + I = 0$ with $k = 1 + \theta_v/\theta_u$. They exist only for $I \le I^* = k^2/4$ (a saddle-node):
# below $I^*$ the DN settles at the smaller root $v^* = (k - \sqrt{k^2-4I})/2 < V_{th}$ and never fires; above it there is
# no rest state and the DN fires repetitively. Oracle: the closed form, not a simulation.

# %%  catches: a sign error in the u equation (theta_v v - theta_u u), the v^2 or -v term, the current decay
k = 1 + TV / TU
I_star = k * k / 4
dn = DynamicNeuron()
for frac in (0.3, 0.6, 0.9):
    I = frac * I_star
    x_const = torch.full((400, 1, 1), I * (1 - LC), dtype=DT)
    s_sub, st_sub = dn(x_const)
    v_star = (k - math.sqrt(k * k - 4 * I)) / 2
    assert s_sub.sum() == 0  # below the onset: silent
    assert math.isclose(st_sub[-1][1].item(), v_star, rel_tol=1e-9)  # v -> smaller root
    assert math.isclose(st_sub[-1][2].item(), TV / TU * v_star, rel_tol=1e-9)  # u -> (theta_v/theta_u) v*
    assert math.isclose(st_sub[-1][0].item(), I, rel_tol=1e-12)  # c -> X/(1-lambda_c)
for frac in (1.1, 1.5):
    x_const = torch.full((400, 1, 1), frac * I_star * (1 - LC), dtype=DT)
    s_sup, _ = dn(x_const)
    assert s_sup[200:].sum() >= 3  # above the onset: repetitive firing
print(f"k = {k:.4f}, onset I* = {I_star:.5f}")

# %% [markdown]
# **Claim 3.** The backward pass. The spike uses the rectangular surrogate of ILC-SAN,
# $\partial S_t/\partial v_t = [\,|v_t - V_{th}| < \tfrac12\,]$, so $\partial S_1/\partial X_1 = 1$ inside the window and
# $0$ outside (and on its edge). One step later the reset and the $u$ bump carry the surrogate too:
# $\partial v_2/\partial X_1 = 2\hat v\,\big[(1-S_1) + (\theta_r - v_1)g'\big] - \theta_s g' + \lambda_c$ with $X_2 = 0$,
# $g' = \partial S_1/\partial v_1$. Oracle: these hand-derived derivatives against autograd. The forward step fires
# where $v = V_{th}$ exactly (this package's $\ge$ convention; the ILC-SAN code uses $>$).

# %%  catches: a wrong surrogate window or width, a detached reset or u bump, a wrong current decay in the gradient
p = dict(theta_v=TV, theta_u=TU, theta_r=TR, theta_s=TS, v_th=VTH, c_decay=LC, spike_fn=rectangular_spike)
for x1, g_expect in ((0.001, 1.0), (0.3, 1.0), (0.7, 1.0), (0.999, 1.0), (1.0, 0.0), (0.0, 0.0), (1.2, 0.0)):
    x = torch.tensor([x1], dtype=DT, requires_grad=True)
    z = torch.zeros(1, dtype=DT)
    s1, (c1, v1, u1, _) = dn_step(x, (z, z, z, z), **p)
    assert v1.item() == x1  # from rest, v_1 = X_1 exactly
    (g,) = torch.autograd.grad(s1.sum(), x, retain_graph=True)
    assert g.item() == g_expect
    s2, (_, v2, _, _) = dn_step(torch.zeros(1, dtype=DT), (c1, v1, u1, s1), **p)
    (gv,) = torch.autograd.grad(v2.sum(), x)
    sv, vv = s1.item(), v1.item()
    vh = vv * (1 - sv) + TR * sv
    oracle = 2 * vh * ((1 - sv) + (TR - vv) * g_expect) - TS * g_expect + LC
    assert math.isclose(gv.item(), oracle, rel_tol=1e-12, abs_tol=1e-15)
s_half, _ = dn_step(torch.tensor([0.5], dtype=DT), (z, z, z, z), **p)
assert s_half.item() == 1.0  # v = V_th fires (>=)

# %% [markdown]
# **Claim 4.** Population coding. $A_{ij} = \exp(-(s_i-\mu_{ij})^2/(2\sigma_{ij}^2))$ is 1 at the centre, $e^{-1/2}$ one
# width away, equals a loop over dimensions and neurons, and its gradient with respect to the learnable centres is
# $\partial A_{ij}/\partial\mu_{ij} = A_{ij}(s_i-\mu_{ij})/\sigma_{ij}^2$. The layout follows ILC-SAN: $P=10$ centres
# evenly spaced over $[-3, 3]$, width $\sqrt{0.15}$.

# %%  catches: a missing 1/2, sigma instead of sigma^2, a wrong flatten order, centres not learnable
Nd, P = 3, 10
mu = torch.linspace(-3, 3, P, dtype=DT).repeat(Nd, 1).requires_grad_(True)
sigma = torch.full((Nd, P), math.sqrt(0.15), dtype=DT) * torch.tensor([[1.0], [1.3], [0.7]], dtype=DT)
obs = torch.tensor([[-2.1, 0.4, 1.7], [0.0, -0.9, 2.6]], dtype=DT)
A = population_encode(obs, mu=mu, sigma=sigma)
assert A.shape == (2, Nd * P)
for b in range(2):
    for i in range(Nd):
        for j in range(P):
            a = math.exp(-((obs[b, i].item() - mu[i, j].item()) ** 2) / (2 * sigma[i, j].item() ** 2))
            assert math.isclose(A[b, i * P + j].item(), a, rel_tol=1e-12, abs_tol=1e-300)
at_centre = population_encode(mu[:, 3:4].detach().T, mu=mu.detach(), sigma=sigma)
assert math.isclose(at_centre.view(Nd, P)[0, 3].item(), 1.0, rel_tol=1e-15)
one_width = population_encode((mu[:, 3] + sigma[:, 3]).detach().unsqueeze(0), mu=mu.detach(), sigma=sigma)
torch.testing.assert_close(one_width.view(Nd, P)[:, 3], torch.full((Nd,), math.exp(-0.5), dtype=DT), rtol=1e-12, atol=0)
assert A.requires_grad  # catches: the code detached from the learnable centres
(gmu,) = torch.autograd.grad(A[0].sum(), mu)
torch.testing.assert_close(gmu, A[0].view(Nd, P) * (obs[0].unsqueeze(1) - mu) / sigma**2, rtol=1e-12, atol=1e-15)

# constructor validation names the parameter
for bad in (dict(v_th=0.0), dict(c_decay=1.0), dict(c_decay=-0.1)):
    try:
        DynamicNeuron(**bad)
        raise AssertionError(f"{bad} accepted")  # catches: missing or loosened validation
    except ValueError as e:
        assert next(iter(bad)) in str(e)
DynamicNeuron(c_decay=0.0)  # no current memory is allowed

# %%
fig, ax = plt.subplots(1, 3, figsize=(13, 3.4))
for frac, col in ((0.9, "C0"), (1.3, "C3")):
    sp, st = dn(torch.full((60, 1, 1), frac * I_star * (1 - LC), dtype=DT))
    ax[0].plot([s_[1].item() for s_ in st], col, label=f"I = {frac} I*")
    ax[1].plot([s_[1].item() for s_ in st], [s_[2].item() for s_ in st], col, lw=0.8)
ax[0].axhline(VTH, color="k", ls=":", lw=0.8); ax[0].set_xlabel("step"); ax[0].set_ylabel("v"); ax[0].legend()
ax[0].set_title("DN membrane below / above onset")
vv = torch.linspace(-0.2, 0.8, 200, dtype=DT)
ax[1].plot(vv, TV / TU * vv, "k--", lw=0.8, label="u nullcline")
ax[1].set_xlabel("v"); ax[1].set_ylabel("u"); ax[1].set_title("phase plane"); ax[1].legend()
ss = torch.linspace(-3.5, 3.5, 300, dtype=DT).unsqueeze(1)
tuning = population_encode(ss, mu=mu.detach()[:1], sigma=sigma[:1])
ax[2].plot(ss.squeeze(), tuning); ax[2].set_xlabel("state s"); ax[2].set_title("population receptive fields")
plt.tight_layout(); plt.show()

# %% [markdown]
# Verified (against the ILC-SAN restatement of MDC-SAN): the DN update equals a loop over its equations with resets,
# a silent DN settles at the closed-form fixed point and starts firing at the saddle-node onset $I^* = k^2/4$, the
# surrogate gradient and the reset path match hand-derived derivatives, and the Gaussian population code and its
# centre gradient match their closed forms.
