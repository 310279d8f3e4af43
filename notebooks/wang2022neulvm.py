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
# # Mesoscopic modeling of hidden spiking neurons (Wang, Schmutz et al., NeurIPS 2022)
# A pool of hidden escape-noise neurons reduced to its population activity, and the likelihood of an observed
# neuron given that activity: the two ingredients of the neuLVM latent variable model.

# %%
import math

import matplotlib.pyplot as plt
import torch

from snnref.neuro.neulvm import escape_probability, observed_log_likelihood, population_step

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)  # small tensors: thread start-up would dominate the run time
K, T, N = 60, 200, 20000                      # age bins, steps, microscopic neurons
eta = -3.0 * torch.exp(-torch.arange(K) / 4.3)  # relative refractoriness, recovers over ~4 steps
P = dict(c=0.05, theta=1.0, delta_u=0.3, dt=1.0)  # escape rate c e^{(u - theta)/delta_u} per ms, dt = 1 ms
J, TAU = 5.0, 7.3                              # recurrent coupling, input time constant (steps); not round
x = 0.8 + 0.5 * torch.sin(2 * math.pi * torch.arange(T) / 50.0)  # external drive



def mean_field(x, J):
    """Run the implementation from 'all neurons long since their last spike' (last age bin)."""
    q, h = torch.zeros(1, K), torch.zeros(1)
    q[0, -1] = 1.0
    out, mass = [], []
    for x_t in x:
        a, (q, h) = population_step(x_t.reshape(1), (q, h), eta=eta, J=J, tau=TAU, **P)
        out.append(a)
        mass.append(q.sum())
    return torch.cat(out), torch.stack(mass)


# %% [markdown]
# **Claim 1.** One step of the refractory-density equation,
# $h_t = h_{t-1} + \frac{1}{\tau}(x_t + J q_t(0) - h_{t-1})$, $\bar A_t = \sum_a q_t(a) P_t(a)$, $q_{t+1}(0) = \bar A_t$,
# $q_{t+1}(a+1) = q_t(a)(1 - P_t(a))$ with the last bin keeping its survivors, equals a plain loop over batch
# elements and ages written here, for a single population and for a batch of shape $[3, K]$ with $K = 5$ ages
# (square, so summing over the wrong axis gives wrong values rather than a shape error).

# %%
def step_ref(x, q, h, eta_k):
    """The refractory-density step from its definition, one batch element and one age at a time."""
    k = q.shape[-1]
    qf, hf, xf = q.reshape(-1, k).tolist(), h.reshape(-1).tolist(), x.reshape(-1).tolist()
    A, Q, Hn = [], [], []
    for b in range(len(hf)):
        hn = hf[b] + (xf[b] + J * qf[b][0] - hf[b]) / TAU
        p = [1 - math.exp(-P["dt"] * P["c"] * math.exp((hn + eta_k[a].item() - P["theta"]) / P["delta_u"]))
             for a in range(k)]
        A.append(sum(qf[b][a] * p[a] for a in range(k)))
        Q.append([A[-1]] + [qf[b][a] * (1 - p[a]) for a in range(k - 2)]
                 + [qf[b][k - 2] * (1 - p[k - 2]) + qf[b][k - 1] * (1 - p[k - 1])])
        Hn.append(hn)
    return torch.tensor(A).reshape(h.shape), torch.tensor(Q).reshape(q.shape), torch.tensor(Hn).reshape(h.shape)


eta5 = eta[:5]
gq = torch.Generator().manual_seed(3)
for shape in ((1,), (3, 5)):
    qs = torch.softmax(torch.randn(*shape, 5, generator=gq), -1)
    hs, xs = torch.rand(shape, generator=gq) * 1.2, 0.3 + torch.rand(shape, generator=gq)
    a_s, (q_s, h_s) = population_step(xs, (qs, hs), eta=eta5, J=J, tau=TAU, **P)
    a_r, q_r, h_r = step_ref(xs, qs, hs, eta5)
    # catches: A summed over a batch axis instead of the ages, the oldest bin cut or summed over the wrong axis
    torch.testing.assert_close(a_s, a_r, rtol=1e-12, atol=0)
    torch.testing.assert_close(q_s, q_r, rtol=1e-12, atol=0)
    torch.testing.assert_close(h_s, h_r, rtol=1e-13, atol=0)

# %% [markdown]
# **Claim 2.** The mesoscopic description is exact in expectation: the population activity $\bar A_t$ given by
# the refractory-density equation equals the fraction of $N$ microscopic neurons that fire, each simulated here
# from the definition (own age $a_i$, potential $h_t + \eta(a_i)$, spike with probability
# $1 - e^{-\Delta t\,c\,e^{(u - \vartheta)/\Delta_u}}$), up to finite-size noise of standard deviation
# $\sqrt{\bar A(1-\bar A)/N}$. The age density keeps total mass 1, and for constant input the stationary activity
# is the renewal-theory rate $A_\infty = 1/\langle\mathrm{ISI}\rangle$ with
# $\langle\mathrm{ISI}\rangle = \sum_{k\ge0}\prod_{j<k}(1 - P(j))$.

# %%
A_bar, mass = mean_field(x, J)
g = torch.Generator().manual_seed(0)
age, h, frac, A_mc, H, S = torch.full((N,), K - 1), torch.zeros(()), torch.zeros(()), [], [], []
for x_t in x:  # microscopic network; the recurrent input uses the empirical fraction that fired
    h = h + (x_t + J * frac - h) / TAU
    p = 1 - torch.exp(-P["dt"] * P["c"] * torch.exp((h + eta[age] - P["theta"]) / P["delta_u"]))
    s = torch.rand(N, generator=g) < p
    frac = s.double().mean()
    age = torch.where(s, 0, (age + 1).clamp(max=K - 1))
    A_mc.append(frac)
    H.append(h)
    S.append(s.double())
A_mc, H, S = torch.stack(A_mc), torch.stack(H), torch.stack(S)  # [T], [T], [T, N]
z = (A_mc - A_bar) / torch.sqrt(A_bar * (1 - A_bar) / N)
print("max |z| over", T, "steps:", z.abs().max().item(), " activity range:", A_bar.min().item(), A_bar.max().item())
# catches: survivors not multiplied by (1 - P), refractory kernel indexed by the wrong age, wrong escape rate,
# recurrent drive J*A missing or taken from the wrong age bin, wrong input time constant
assert z.abs().max() < 5.0, z.abs().max()
assert A_bar.max() > 0.05 and A_bar.min() < 0.01  # non-degenerate: the drive modulates the activity strongly
torch.testing.assert_close(mass, torch.ones(T), rtol=0, atol=1e-12)  # catches: oldest bin dropping its survivors

for h0 in (0.9, 1.35):  # stationary activity against renewal theory (J = 0, constant input)
    A_inf, _ = mean_field(torch.full((400,), h0), 0.0)
    p_age = 1 - torch.exp(-P["c"] * torch.exp((h0 + eta - P["theta"]) / P["delta_u"]))  # h -> x at stationarity
    # survival S(k) = prod_{j<k} (1 - P(j)); beyond the last age bin the tail is geometric: sum = S(K-1) / P(K-1)
    surv = torch.cat([torch.ones(1), torch.cumprod(1 - p_age, 0)])[:K]
    mean_isi = (surv[:-1].sum() + surv[-1] / p_age[-1]).item()
    assert math.isclose(A_inf[-1].item(), 1 / mean_isi, rel_tol=1e-9), (A_inf[-1], 1 / mean_isi)  # catches a wrong
    # age shift (spiking neurons re-entering at age 1 instead of 0) and a non-saturating last bin

# %% [markdown]
# One step written out by hand, including the recurrent drive $J\,A_{t-1} = J\,q_t(0)$ and the LIF charge
# $h_t = h_{t-1} + (x_t + J A_{t-1} - h_{t-1})/\tau$ taken from the core.

# %%
q0 = torch.softmax(torch.linspace(0.3, -1.1, K), 0).reshape(1, K)
h0, x0 = torch.tensor([0.41]), torch.tensor([1.17])
a1, (q1, h1) = population_step(x0, (q0, h0), eta=eta, J=J, tau=TAU, **P)
h_ref = 0.41 + (1.17 + J * q0[0, 0].item() - 0.41) / TAU
p_ref = [1 - math.exp(-P["dt"] * P["c"] * math.exp((h_ref + eta[a].item() - P["theta"]) / P["delta_u"]))
         for a in range(K)]
assert math.isclose(h1.item(), h_ref, rel_tol=1e-13)  # catches: sign of J, leak towards x instead of h
assert math.isclose(a1.item(), sum(q0[0, a].item() * p_ref[a] for a in range(K)), rel_tol=1e-12)
assert math.isclose(q1[0, 0].item(), a1.item(), rel_tol=1e-15)  # catches: firers not re-entering at age 0
assert math.isclose(q1[0, 5].item(), q0[0, 4].item() * (1 - p_ref[4]), rel_tol=1e-12)  # catches: no age shift
assert math.isclose(q1[0, -1].item(), q0[0, -2].item() * (1 - p_ref[-2]) + q0[0, -1].item() * (1 - p_ref[-1]),
                    rel_tol=1e-12)
# a batch with two axes [2, 3] equals the same neurons stepped one at a time (ages are the last axis)
qb = torch.softmax(torch.randn(2, 3, K, generator=torch.Generator().manual_seed(1)), -1)
hb, xb = torch.linspace(-0.3, 0.9, 6).reshape(2, 3), torch.linspace(1.4, 0.2, 6).reshape(2, 3)
ab, (qb1, hb1) = population_step(xb, (qb, hb), eta=eta, J=J, tau=TAU, **P)
for i in range(2):
    for j in range(3):
        a_ij, (q_ij, _) = population_step(xb[i, j].reshape(1), (qb[i, j].reshape(1, K), hb[i, j].reshape(1)),
                                          eta=eta, J=J, tau=TAU, **P)
        torch.testing.assert_close(ab[i, j].reshape(1), a_ij, rtol=1e-14, atol=0)
        torch.testing.assert_close(qb1[i, j].reshape(1, K), q_ij, rtol=1e-14, atol=0)  # catches a fixed axis
torch.testing.assert_close(escape_probability(torch.tensor(0.6), **P),
                           torch.tensor(1 - math.exp(-0.05 * math.exp(-0.4 / 0.3))), rtol=1e-13, atol=0)
assert escape_probability(torch.tensor(0.6), **{**P, "dt": 0.5}) < escape_probability(torch.tensor(0.6), **P)

fig, ax = plt.subplots(1, 2, figsize=(10, 3.3))
ax[0].plot(A_mc, lw=0.8, label=f"{N} simulated neurons")
ax[0].plot(A_bar, "k", lw=1.2, label=r"mesoscopic $\bar A_t$")
ax[0].set(xlabel="step (ms)", ylabel="activity (fraction / step)")
ax[0].legend()

# %% [markdown]
# **Claim 3.** Given the population activity, an observed neuron's spike train has the likelihood (the observed-spike
# part of the paper's Eq. (4b), which the M-step maximises)
# $\log p(s\mid A) = \sum_t s_t\log P_t(a_t) + (1-s_t)\log(1-P_t(a_t))$ with its own age $a_t$: the
# implementation matches a per-neuron, per-step loop written from this definition, its autograd gradient matches
# finite differences, and, as neuLVM uses it to recover connectivity from a few observed neurons, maximising it
# over the coupling $J$ (with $h_t$ rebuilt from the recorded $A_t$) recovers the true $J$ at toy scale.

# %%
obs = S[:, :4]  # four of the simulated neurons are "observed"
ll = observed_log_likelihood(obs, H.unsqueeze(1).expand(T, 4), eta=eta, **P)
for i in range(4):
    a, ref = K - 1, 0.0
    for t in range(T):
        p = 1 - math.exp(-P["c"] * math.exp((H[t].item() + eta[a].item() - P["theta"]) / P["delta_u"]))
        ref += math.log(p) if obs[t, i] > 0 else math.log(1 - p)
        a = 0 if obs[t, i] > 0 else min(a + 1, K - 1)
    # catches: age not reset by the neuron's own spike, log(1-P) for spikes, age starting at 0
    assert math.isclose(ll[i].item(), ref, rel_tol=1e-12), (ll[i], ref)
assert obs.sum(0).min() >= 3  # each observed train has several spikes, so the refractory path is exercised


def h_of(J_val, A_rec):
    """Input potential rebuilt from the recorded activity (definition, not the implementation)."""
    h, out, prev = torch.zeros(()), [], torch.zeros(())
    for t in range(T):
        h = h + (x[t] + J_val * prev - h) / TAU
        out.append(h)
        prev = A_rec[t]
    return torch.stack(out)


torch.testing.assert_close(h_of(J, A_mc), H, rtol=0, atol=1e-12)
obs = S[:, :200]
J_t = torch.tensor(4.2, requires_grad=True)
ll_J = observed_log_likelihood(obs, h_of(J_t, A_mc).unsqueeze(1).expand(T, 200), eta=eta, **P).sum()
assert ll_J.requires_grad  # catches a .detach() of P or of the summed likelihood
(grad,) = torch.autograd.grad(ll_J, J_t)
eps = 1e-5
f = lambda j: observed_log_likelihood(obs, h_of(torch.tensor(j), A_mc).unsqueeze(1).expand(T, 200),
                      eta=eta, **P).sum().item()
fd = (f(4.2 + eps) - f(4.2 - eps)) / (2 * eps)
assert math.isclose(grad.item(), fd, rel_tol=1e-6), (grad, fd)  # catches a .detach() on the potential
J_grid = torch.linspace(3.0, 7.0, 17)
L = torch.tensor([f(j.item()) for j in J_grid])
J_hat = J_grid[L.argmax()].item()
print("J_hat =", J_hat, " (true", J, ")")
assert abs(J_hat - J) <= 0.5, J_hat  # catches: likelihood insensitive to, or biased in, the coupling
assert L.argmax() not in (0, len(J_grid) - 1)  # an interior maximum, not an edge of the grid
ax[1].plot(J_grid, L - L.max())
ax[1].axvline(J, color="k", ls="--", label="true J")
ax[1].set(xlabel="coupling J", ylabel="log-likelihood (200 observed neurons)")
ax[1].legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# Verified: the mesoscopic refractory-density equation reproduces the mean activity of 20,000 simulated
# escape-noise neurons within finite-size noise, conserves mass, and matches the renewal rate $1/\langle ISI\rangle$;
# one step matches the hand-written update; the observed-neuron likelihood matches a brute-force loop, its gradient
# matches finite differences, and maximising it over $J$ recovers the true coupling.
