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
# # Efficient coding with spikes (Koren & Panzeri, NeurIPS 2022)
# Membrane potentials are projected coding errors; a neuron fires only when its spike lowers the coding loss.

# %%
import math

import matplotlib.pyplot as plt
import torch

from snnref.neuro.efficient_coding import efficient_coding_potential, efficient_coding_step

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)  # tiny tensors: thread start-up would dominate the run time
gen = torch.Generator().manual_seed(2)
K, N, MU, TAU = 2, 24, 0.0013, 23.7
angles = torch.rand(N, generator=gen) * 2 * math.pi
norms = 0.08 + 0.04 * torch.rand(N, generator=gen)  # heterogeneous decoder norms -> heterogeneous thresholds
D = torch.stack([torch.cos(angles), torch.sin(angles)]) * norms  # [K, N]


def loss(x, r):
    """L = |x - D r|^2 + mu |r|^2, from the definition."""
    return ((x - r @ D.T) ** 2).sum(-1) + MU * (r**2).sum(-1)


# %% [markdown]
# **Claim 1.** With $V_i = D_i^\top(x - Dr) - \mu r_i$ and $T_i = \frac12(\lVert D_i\rVert^2 + \mu)$, a spike of neuron
# $i$ changes the loss by exactly $L(r + e_i) - L(r) = -2(V_i - T_i)$. The threshold and the spike rule both follow
# from the loss. The loss differences are computed by brute force for every neuron.

# %%
x = torch.randn(3, K, generator=gen) * 0.3
r = torch.rand(3, N, generator=gen) * 2
v = efficient_coding_potential(x, r, D=D, mu=MU)
T = 0.5 * ((D * D).sum(0) + MU)
dL = torch.stack([loss(x, r + torch.eye(N)[i]) - loss(x, r) for i in range(N)], -1)
# catches: mu*r term dropped, D vs D^T, missing projection on D_i
torch.testing.assert_close(dL, -2 * (v - T), rtol=1e-12, atol=1e-12)

# one step on a square problem (K = N = B = 3, so a sum or argmax over the wrong axis still runs): the spike and the
# new traces equal the greedy choice among "no spike" and "spike of neuron i", found by brute force on the loss
g3 = torch.Generator().manual_seed(12)
D3, mu3, tau3 = torch.randn(3, 3, generator=g3) * torch.tensor([0.3, 0.8, 1.3]), 0.021, 5.3
x3, r3 = torch.randn(3, 3, generator=g3), torch.rand(3, 3, generator=g3) * torch.tensor([[0.1], [0.4], [2.0]])
s3, r3_new = efficient_coding_step(x3, r3, D=D3, mu=mu3, tau=tau3)
n_spk = 0
for b in range(3):
    leak = [r3[b, i].item() * (1 - 1 / tau3) for i in range(3)]
    def loss3(rr):
        xhat = [sum(D3[k, i].item() * rr[i] for i in range(3)) for k in range(3)]
        return sum((x3[b, k].item() - xhat[k]) ** 2 for k in range(3)) + mu3 * sum(q * q for q in rr)
    opts = [leak] + [[leak[i] + (i == j) for i in range(3)] for j in range(3)]
    best = min(range(4), key=lambda o: loss3(opts[o]))
    # catches: inputs swapped, thresholds from row instead of column norms, argmax over the batch, wrong leak
    torch.testing.assert_close(r3_new[b], torch.tensor(opts[best]), rtol=0, atol=1e-12)
    assert s3[b].tolist() == [float(best == j + 1) for j in range(3)], (b, s3[b], best)
    n_spk += best > 0
assert 0 < n_spk < 3  # some rows spike, some do not

# %% [markdown]
# **Claim 2.** Each step is the greedy optimum. After the traces leak,
# $r \leftarrow (1 - 1/\tau)r$, the step's choice of spiking one neuron or none gives the smallest loss among all
# $N + 1$ options, checked by brute force at every step of a 600-step simulation. The readout $\hat x = Dr$ tracks a
# two-dimensional signal with a small error.

# %%
steps = 600
t = torch.arange(steps, dtype=torch.float64)
signal = torch.stack([0.45 * torch.sin(2 * math.pi * t / 310) + 0.1, 0.35 * torch.cos(2 * math.pi * t / 170)], -1)
r = torch.zeros(1, N)
raster, readout, n_checked = [], [], 0
for k in range(steps):
    xk = signal[k : k + 1]
    leaked = r * (1 - 1 / TAU)  # from the definition
    options = torch.cat([leaked, leaked + torch.eye(N)])  # no spike, or a spike of neuron i
    losses = loss(xk.expand(N + 1, K), options)
    s, r = efficient_coding_step(xk, r, D=D, mu=MU, tau=TAU)
    assert s.shape == r.shape == (1, N)  # catches a winner chosen along the wrong axis
    chosen = loss(xk, r)
    # catches: > instead of >=-style threshold errors, argmin for argmax, wrong leak factor, several spikes
    assert chosen.item() <= losses.min().item() + 1e-12, (k, chosen, losses.min())
    assert s.sum() <= 1
    raster.append(s[0])
    readout.append((r @ D.T)[0])
raster, readout = torch.stack(raster), torch.stack(readout)
err = (readout[100:] - signal[100:]).norm(dim=-1).pow(2).mean().sqrt()
print(f"spikes: {int(raster.sum())}, rms readout error: {err:.4f}")
assert raster.sum() > 50  # the network actually spikes
assert err < 0.15 * signal[100:].norm(dim=-1).pow(2).mean().sqrt()  # precise population code

# %% [markdown]
# **Claim 3.** Spike-triggered adaptation comes from the cost. A neuron's own spike lowers its potential by exactly
# $\lVert D_i\rVert^2 + \mu = 2T_i$, so it goes from $T_i$ to $-T_i$. Neuron $j$'s potential changes by
# $-D_j^\top D_i$, the lateral interaction. With $\mu = 0$ and no leak the spike is also exactly the
# loss-decreasing one.

# %%
x = torch.tensor([[0.31, -0.22]])
r0 = torch.rand(1, N, generator=gen)
i = 5
v0 = efficient_coding_potential(x, r0, D=D, mu=MU)
v1 = efficient_coding_potential(x, r0 + torch.eye(N)[i], D=D, mu=MU)
expected = -(D.T @ D[:, i]) - MU * torch.eye(N)[i]
torch.testing.assert_close(v1 - v0, expected.unsqueeze(0), rtol=1e-12, atol=1e-14)  # catches a wrong mu or D term
torch.testing.assert_close((v0 - v1)[0, i], 2 * T[i], rtol=1e-12, atol=0)
try:
    efficient_coding_step(x, r0, D=D, mu=-0.1, tau=TAU)
    raise AssertionError("mu < 0 accepted")
except ValueError as e:
    assert "mu" in str(e)

fig, ax = plt.subplots(1, 2, figsize=(10, 3.2))
ax[0].plot(signal[:, 0], "k", lw=1, label="x_1")
ax[0].plot(readout[:, 0], "r", lw=0.8, label="readout")
ax[0].plot(signal[:, 1], "gray", lw=1, label="x_2")
ax[0].plot(readout[:, 1], "m", lw=0.8)
ax[0].legend(fontsize=7)
ax[0].set(xlabel="step")
ts, ns = torch.nonzero(raster, as_tuple=True)
ax[1].plot(ts, ns, "k|", ms=4)
ax[1].set(xlabel="step", ylabel="neuron")
plt.tight_layout()
plt.show()

# %% [markdown]
# **Claim 4.** The spike is differentiable through the surrogate. With only the winner $w$ able to spike,
# $u = V_w - T_w$ and the ATan surrogate $g'(u) = (a/2)/(1 + (\frac{\pi}{2}a u)^2)$ ($a = 2$):
# $\partial s_w/\partial x = g'(u)\,D_w$, and through the leak of the traces
# $\partial \sum_j r'_j/\partial r_i = (1 - 1/\tau)\,[\,1 - g'(u)\,(D_w^\top D_i + \mu\,\delta_{iw})\,]$ (autograd).

# %%
xg = torch.tensor([[0.23, -0.41]], requires_grad=True)
rg = (torch.rand(1, N, generator=gen) * 0.5).requires_grad_(True)
sg, rg_new = efficient_coding_step(xg, rg, D=D, mu=MU, tau=TAU)
assert sg.requires_grad and rg_new.requires_grad  # catches a .detach() on the potential, the spike or the surrogate
leaked = rg.detach() * (1 - 1 / TAU)
u_all = efficient_coding_potential(xg.detach(), leaked, D=D, mu=MU)[0] - T
w = int(u_all.argmax())
u = u_all[w].item()
gp = 1 / (1 + (math.pi * u) ** 2)
(dx,) = torch.autograd.grad(sg.sum(), xg, retain_graph=True)
(dr,) = torch.autograd.grad(rg_new.sum(), rg, allow_unused=True)
assert dr is not None  # catches a detached leak of the traces
# catches: a detached potential (no gradient), D^T instead of D, a surrogate of another scale
torch.testing.assert_close(dx[0], gp * D[:, w], rtol=1e-12, atol=1e-15)
# catches: a detached leak, the mu term or the lateral term -D_w^T D_i missing from the gradient
torch.testing.assert_close(dr[0], (1 - 1 / TAU) * (1 - gp * (D[:, w] @ D + MU * torch.eye(N)[w])),
                           rtol=1e-12, atol=1e-15)
assert abs(u) < 2 and gp > 0.05, u  # the surrogate is far from zero here

# %% [markdown]
# Verified: the potential–threshold pair is exactly the loss change of a spike; every step of a simulation picks the
# loss-minimising option among spiking or not, and the population readout tracks a 2-D signal; a spike's effect on
# its own and other potentials matches the closed form (self-adaptation $2T_i$, lateral $-D_j^\top D_i$); the surrogate
# gradients of a step match their closed forms.
