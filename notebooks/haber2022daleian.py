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
# # Daleian neural networks (Haber & Schneidman, NeurIPS 2022)
# Recurrent networks of stochastic binary neurons whose outgoing synapses share one sign, their stationary
# response to a stimulus, and learning by tuning only single-neuron gains and thresholds.

# %%
import itertools
import math

import matplotlib.pyplot as plt
import torch

from snnref.neuro.daleian import (all_patterns, dale_weights, js_divergence, neuronal_rescale,
                                  stationary_distribution, transition_matrix)

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)  # tiny matrices: thread start-up would dominate the run time
N = 5
g = torch.Generator().manual_seed(3)
signs = torch.tensor([1.0, -1.0, 1.0, 1.0, -1.0])  # three excitatory, two inhibitory neurons
W0 = dale_weights(torch.randn(N, N, generator=g) * 1.3 / math.sqrt(N), signs=signs)
s0 = torch.randn(N, generator=g) * 0.8 - 0.4  # stimulus
sig = lambda z: 1 / (1 + math.exp(-z))


# %% [markdown]
# **Claim 1.** The model: given pattern $x$, neuron $j$ fires next with probability $\sigma(\sum_i x_i W_{ij} + s_j)$
# independently of the others, so $P(x'\mid x) = \prod_j \sigma(\cdot)^{x'_j}(1-\sigma(\cdot))^{1-x'_j}$, which is the
# softmax form $\exp(x^\top W x' + s^\top x')/Z(x)$ of the paper's code. The network's response is the stationary
# distribution $\pi P = \pi$; here it is checked against power iteration and against 4,000 chains simulated
# neuron by neuron from the definition.

# %%
P = transition_matrix(W0, s0)
pats = all_patterns(N)
assert P.shape == (2**N, 2**N) and pats.shape == (2**N, N)  # catches a transition matrix with a missing term
for a, b in [(0, 31), (7, 12), (19, 19), (30, 5)]:  # brute-force product of Bernoullis from the definition
    x, y = pats[a], pats[b]
    ref = 1.0
    for j in range(N):
        pj = sig(sum(x[i].item() * W0[i, j].item() for i in range(N)) + s0[j].item())
        ref *= pj if y[j] > 0 else 1 - pj
    # catches: W transposed (post/pre swapped), stimulus on the wrong side, normalised over the wrong axis
    assert math.isclose(P[a, b].item(), ref, rel_tol=1e-12), (a, b, P[a, b], ref)
assert list(pats[0]) == [0.0] * N and list(pats[-1]) == [1.0] * N and list(pats[1]) == [0, 0, 0, 0, 1.0]

pi = stationary_distribution(W0, s0)
torch.testing.assert_close(pi @ P, pi, rtol=0, atol=1e-14)  # catches: solving P pi = pi instead of pi P = pi
torch.testing.assert_close(pi.sum(), torch.tensor(1.0), rtol=0, atol=1e-14)  # catches a missing normalisation
torch.testing.assert_close(torch.linalg.matrix_power(P, 400)[0], pi, rtol=0, atol=1e-12)  # power iteration

chains = torch.zeros(4000, N)
for _ in range(60):  # every chain forgets its start within a few steps
    chains = (torch.rand(4000, N, generator=g) < torch.sigmoid(chains @ W0 + s0)).double()
idx = (chains * 2 ** torch.arange(N - 1, -1, -1)).sum(1).long()  # pattern index in lexicographic order
emp = torch.bincount(idx, minlength=2**N) / 4000
print("max |empirical - pi| =", (emp - pi).abs().max().item(), " largest pi =", pi.max().item())
assert ((emp - pi).abs() <= 5 * torch.sqrt(pi * (1 - pi) / 4000) + 1e-3).all()  # catches a wrong model of spiking
assert pi.max() < 0.5 and (pi > 0.005).sum() > 8  # non-degenerate: the response is spread over many patterns

# %% [markdown]
# **Claim 2.** The Daleian constraint: in $W_{ij} = \epsilon_i\lvert w_{ij}\rvert$ every neuron's outgoing weights
# (row $i$) share its sign and there are no self-connections. A generic non-Daleian matrix is not of this form
# for any of the $2^N$ sign assignments (the Daleian sign patterns number $2^N$, against $2^{N(N-1)}$ for arbitrary
# networks: the paper's "exponentially smaller" family). The single-neuron reparametrisation
# $\mathrm{diag}(\lvert\delta^{in}\rvert)\,W\,\mathrm{diag}(\lvert\delta^{out}\rvert)$ keeps every sign for any
# $\delta$, including negative ones, so a Daleian network stays Daleian after every learning step.

# %%
for i in range(N):
    row = torch.cat([W0[i, :i], W0[i, i + 1:]])
    assert (torch.sign(row) == signs[i]).all(), (i, row)  # catches: signs applied per column (postsynaptic)
assert (torch.diag(W0) == 0).all()  # catches: self-connections kept
W_nd = torch.randn(N, N, generator=g).fill_diagonal_(0.0)
hits = sum(bool(torch.equal(dale_weights(W_nd, signs=torch.tensor(e)), W_nd))
           for e in itertools.product([1.0, -1.0], repeat=N))
assert hits == 0  # a non-Daleian network cannot be represented
assert 2**N < 2 ** (N * (N - 1))
d_in, d_out = torch.tensor([0.7, -1.9, 1.3, -0.2, 2.4]), torch.tensor([-1.1, 0.4, 0.8, 1.6, -0.6])
W1 = neuronal_rescale(W0, delta_in=d_in, delta_out=d_out)
# synaptic learning through the Dale parametrisation: dW_ij/dw_ij = eps_i sign(w_ij) off the diagonal, 0 on it
w_free = torch.randn(N, N, generator=g).requires_grad_(True)
W_free = dale_weights(w_free, signs=signs)
assert W_free.requires_grad  # catches a .detach() in the parametrisation (synaptic learning would be impossible)
(g_w,) = torch.autograd.grad((W_free * W_nd).sum(), w_free)
expect = (signs[:, None] * torch.sign(w_free.detach()) * W_nd).fill_diagonal_(0.0)
torch.testing.assert_close(g_w, expect, rtol=1e-15, atol=0)  # catches a .detach() in the parametrisation
torch.testing.assert_close(W1, torch.diag(d_in.abs()) @ W0 @ torch.diag(d_out.abs()), rtol=1e-15, atol=0)
assert (torch.sign(W1) == torch.sign(W0)).all()  # catches: delta used without abs (a negative gain flips signs)

# %% [markdown]
# **Claim 3.** Learning by tuning single-neuron features (the paper's learning result, at toy scale): a target
# response produced by a Daleian network whose neurons have other gains and thresholds is learnt from $W_0$ by
# gradient descent on the Jensen-Shannon divergence over only $3N$ parameters
# ($\delta^{in}, \delta^{out}, \delta^{th}$), with the Dale signs intact after every step. The autograd gradient
# of the divergence matches finite differences, and $D_{JS}$ itself matches its definition.

# %%
p_a, p_b = torch.softmax(torch.randn(2**N, generator=g), 0), pi
m = (p_a + p_b) / 2
ref = 0.5 * sum(p_a[k] * math.log2(p_a[k] / m[k]) + p_b[k] * math.log2(p_b[k] / m[k]) for k in range(2**N))
assert math.isclose(js_divergence(p_a, p_b).item(), ref.item(), rel_tol=1e-12)  # catches: nats, missing 1/2
assert js_divergence(p_a, p_a).item() == 0.0 and 0 < ref < 1

t_in, t_out, t_th = torch.tensor([1.5, 0.6, 1.2, 0.8, 1.7]), torch.tensor([0.7, 1.4, 0.9, 1.3, 1.1]), \
    torch.tensor([0.5, -0.6, 0.3, -0.2, 0.4])
target = stationary_distribution(neuronal_rescale(W0, delta_in=t_in, delta_out=t_out), s0 + t_th)


def loss(params):
    d_in, d_out, d_th = params
    return js_divergence(stationary_distribution(neuronal_rescale(W0, delta_in=d_in, delta_out=d_out), s0 + d_th),
                         target)


params = [torch.ones(N), torch.ones(N), torch.zeros(N)]
probe = [torch.tensor([1.1, 0.9, 1.2, 0.8, 1.05]), torch.ones(N), torch.zeros(N)]
probe = [p.clone().requires_grad_(True) for p in probe]
value = loss(probe)
assert value.requires_grad  # catches a .detach() on the transition matrix, the stationary solve or the divergence
grads = torch.autograd.grad(value, probe, allow_unused=True)
# catches: a .detach() on the rescaling (delta_in, delta_out would get no gradient)
assert all(gr is not None and gr.abs().sum() > 0 for gr in grads), grads
eps = 1e-6
for k, j in [(0, 1), (1, 3), (2, 0)]:
    hi = [p.detach().clone() for p in probe]
    lo = [p.detach().clone() for p in probe]
    hi[k][j] += eps
    lo[k][j] -= eps
    fd = (loss(hi) - loss(lo)).item() / (2 * eps)
    assert math.isclose(grads[k][j].item(), fd, rel_tol=1e-5, abs_tol=1e-10), (k, j, grads[k][j], fd)  # catches
    # a .detach() or a gradient blocked by the sign function

params = [p.clone().requires_grad_(True) for p in params]
opt = torch.optim.Adam(params, lr=0.05)
history = []
for step in range(300):
    opt.zero_grad()
    value = loss(params)
    value.backward()
    opt.step()
    history.append(value.item())
    W_now = neuronal_rescale(dale_weights(W0, signs=signs), delta_in=params[0].detach(), delta_out=params[1].detach())
    assert (torch.sign(W_now) == torch.sign(W0)).all()  # Dale's principle holds after every update
print(f"D_JS: start {history[0]:.2e} bits, after 300 steps {history[-1]:.2e} bits")
assert history[0] > 0.01 and history[-1] < 1e-3 * history[0]  # catches: a wrong gradient path (learning stalls)

fig, ax = plt.subplots(1, 2, figsize=(10, 3.3))
ax[0].bar(range(2**N), pi, label=r"stationary $\pi$")
ax[0].plot(range(2**N), emp, "k.", label="4,000 simulated chains")
ax[0].set(xlabel="pattern index", ylabel="probability")
ax[0].legend()
ax[1].semilogy(history)
ax[1].set(xlabel="Adam step", ylabel=r"$D_{JS}$ to target (bits)", title="learning 3N single-neuron parameters")
plt.tight_layout()
plt.show()

# %% [markdown]
# Verified: the transition matrix equals the product of independent sigmoid neurons; the stationary response
# satisfies $\pi P = \pi$ and matches power iteration and simulated chains; the Dale parametrisation puts one sign
# on each neuron's outgoing weights, cannot represent a generic non-Daleian network, and keeps every sign under
# single-neuron rescaling; $D_{JS}$ matches its definition, its gradient matches finite differences, and tuning only
# $3N$ neuronal parameters drives it down by three orders of magnitude while the network stays Daleian.
