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
# # Surrogate Gradient Learning in SNNs (Neftci, Mostafa & Zenke, IEEE SPM 2019)
# The tutorial's discrete-time current-based LIF network is an RNN; BPTT with a surrogate derivative trains it.

# %%
import functools
import math

import matplotlib.pyplot as plt
import torch

from snnref.surrogate import fast_sigmoid_spike
from snnref.training.sg_tutorial import cuba_lif_run, cuba_lif_step

torch.manual_seed(0)
dtype = torch.float64
alpha, beta = 0.8, 0.9  # synaptic and membrane decay factors, distinct so a swap shows
T, B, N_IN, N_OUT = 40, 3, 12, 5

# %% [markdown]
# **Claim 1 (subthreshold dynamics).** With $I[n+1] = \alpha I[n] + c$, $U[n+1] = \beta U[n] + I[n]$ from rest and no
# spikes, $U[n] = \frac{c}{1-\alpha}\left[\frac{1-\beta^n}{1-\beta} - \frac{\beta^n-\alpha^n}{\beta-\alpha}\right]$,
# and the synaptic current itself is the low-pass filtered input, $I[n] = c\,\frac{1-\alpha^n}{1-\alpha}$.

# %%
c = 0.3
_, U = cuba_lif_run(torch.full((T, 1, 1), c, dtype=dtype), alpha=alpha, beta=beta, v_th=1e9)
n = torch.arange(T, dtype=dtype)
closed = c / (1 - alpha) * ((1 - beta**n) / (1 - beta) - (beta**n - alpha**n) / (beta - alpha))
torch.testing.assert_close(U[:, 0, 0], closed, rtol=1e-12, atol=1e-14)  # catches: alpha/beta swapped, input added to U directly
# the state the step carries: I[n+1] = alpha I[n] + c (a sign error in both charges would cancel in U, not in I)
state = (torch.zeros(1, 1, dtype=dtype), torch.zeros(1, 1, dtype=dtype))
for k in range(1, 16):
    _, state = cuba_lif_step(torch.full((1, 1), c, dtype=dtype), state, alpha=alpha, beta=beta, v_th=1e9)
    assert math.isclose(state[0].item(), c * (1 - alpha**k) / (1 - alpha), rel_tol=1e-12)  # catches: wrong sign/leak of I
    assert math.isclose(state[1].item(), closed[k].item(), rel_tol=1e-12)  # U[n+1] carried in the state
for bad in ({"alpha": 1.0, "beta": 0.5}, {"alpha": 0.5, "beta": -0.1}):
    try:
        cuba_lif_run(torch.zeros(2, 1, 1), **bad)
    except ValueError as e:
        assert "alpha" in str(e)  # catches: missing argument check
    else:
        raise AssertionError(bad)

# %% [markdown]
# **Claim 2 (spiking and reset by subtraction).** With threshold $\vartheta$, $S[n] = \Theta(U[n]-\vartheta)$ and
# $U[n+1] = \beta U[n] + I[n] - \vartheta S[n]$: the module equals a brute-force loop over these equations.

# %%
v_th = 0.7
x_in = (torch.rand(T, B, N_IN, dtype=dtype) < 0.3).to(dtype)
W = (0.06 * torch.rand(N_OUT, N_IN, dtype=dtype)).requires_grad_(True)
spike_fn = functools.partial(fast_sigmoid_spike, alpha=6.0)
S, U = cuba_lif_run(x_in @ W.T, alpha=alpha, beta=beta, v_th=v_th, spike_fn=spike_fn)
with torch.no_grad():
    i = torch.zeros(B, N_OUT, dtype=dtype)
    u = torch.zeros(B, N_OUT, dtype=dtype)
    for t in range(T):
        s = (u >= v_th).to(dtype)
        assert torch.equal(S[t], s) and torch.allclose(U[t], u, rtol=0, atol=1e-12)  # catches: firing on U[n+1], no reset
        i, u = alpha * i + x_in[t] @ W.T, beta * u + i - v_th * s
print("firing rate", S.mean().item())
assert 0.05 < S.mean().item() < 0.6  # the neurons fire, but not always

# %% [markdown]
# **Claim 3 (BPTT with a surrogate).** For $L = \sum_n c[n]\cdot S[n]$ and surrogate $g(x) = \frac{a/2}{(1+a|x|)^2}$, the
# adjoints obey $\lambda_U[n] = g(U[n]-\vartheta)\,(c[n] - \vartheta\,\rho\,\lambda_U[n+1]) + \beta\lambda_U[n+1]$ and
# $\lambda_I[n] = \lambda_U[n+1] + \alpha\lambda_I[n+1]$, with $\rho = 1$ (reset in the graph) or 0 (detached), and
# $\partial L/\partial W = \sum_n \lambda_I[n+1]^\top x[n]$. This hand-written backward pass matches autograd.

# %%
cw = torch.randn(T, B, N_OUT, dtype=dtype)


def surrogate(x):
    return 3.0 / (1 + 6.0 * x.abs()) ** 2  # a/2 / (1 + a|x|)^2 with a = 6


for rho, detach in ((1.0, False), (0.0, True)):
    W.grad = None
    S, U = cuba_lif_run(x_in @ W.T, alpha=alpha, beta=beta, v_th=v_th, spike_fn=spike_fn, detach_reset=detach)
    assert S.requires_grad  # catches a charge, reset or spike function cut from the graph (no BPTT at all)
    (cw * S).sum().backward()
    with torch.no_grad():
        lam_u = torch.zeros(T + 1, B, N_OUT, dtype=dtype)
        lam_i = torch.zeros(T + 1, B, N_OUT, dtype=dtype)
        for t in range(T - 1, -1, -1):
            lam_u[t] = surrogate(U[t] - v_th) * (cw[t] - v_th * rho * lam_u[t + 1]) + beta * lam_u[t + 1]
            lam_i[t] = lam_u[t + 1] + alpha * lam_i[t + 1]
        dW = torch.einsum("tbo,tbi->oi", lam_i[1:], x_in)
    torch.testing.assert_close(W.grad, dW, rtol=1e-10, atol=1e-12)  # catches: reset path dropped/kept wrongly, wrong leak in the adjoint
    if detach:
        grad_detached = W.grad.clone()
    else:
        grad_full = W.grad.clone()
assert not torch.allclose(grad_full, grad_detached)  # the reset path matters here

# %%
fig, ax = plt.subplots(figsize=(7, 3))
ax.plot(U[:, 0, 0].detach(), label="U (neuron 0)")
ax.plot(v_th * S[:, 0, 0].detach(), "|", markersize=14, label="spikes")
ax.axhline(v_th, ls="--", c="gray")
ax.set_xlabel("n"); ax.legend()
plt.show()

# %% [markdown]
# Verified: the subthreshold closed form of the current-based LIF; spiking with reset by subtraction against a
# loop over the tutorial's equations; and BPTT through the unrolled network against a hand-written adjoint
# recursion, with and without the reset in the graph.
