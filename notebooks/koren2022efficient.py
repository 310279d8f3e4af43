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
# Verified: the potential–threshold pair is exactly the loss change of a spike; every step of a simulation picks the
# loss-minimising option among spiking or not, and the population readout tracks a 2-D signal; a spike's effect on
# its own and other potentials matches the closed form (self-adaptation $2T_i$, lateral $-D_j^\top D_i$).
