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
# # Temporal information dynamics in SNNs (Kim et al., AAAI 2023)
# Measure, for each number of time steps $t$, the Fisher information of the weights when the prediction uses only the
# first $t$ steps; after training it concentrates in the early steps.

# %%
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from snnref.models.temporal_fisher import cumulative_mean, temporal_fisher_trace
from snnref.neuron import lif_step, multi_step

torch.manual_seed(0)
torch.set_num_threads(1)  # tiny tensors: threading only adds overhead
dt = torch.float64

# %% [markdown]
# **Claim 1 (the estimator, in closed form).** The prediction after $t$ steps is $\bar z_t = \frac1t\sum_{\tau\le t}z_\tau$.
# For a linear readout $z_\tau = W r_\tau$ of fixed spike features, the cross-entropy gradient of a batch is
# $\nabla_W = \frac{1}{B}(P_t - Y)^\top \bar r_t$ ($P_t$ the softmax of $\bar z_t$, $Y$ one-hot), so
# $I_t = \frac{1}{N_b}\sum_b \lVert \nabla_W^{(b)} \rVert_F^2$ is known in closed form; `temporal_fisher_trace` must match it.

# %%  catches: running sum instead of mean, Fisher of the full-T prediction for every t, squared norm of the wrong thing
T, B, D, K = 5, 12, 7, 3
r_seq = (torch.rand(3, T, B, D, dtype=dt) < 0.4).to(dt)  # 3 mini-batches of spike features [T, B, D]
ys = torch.randint(0, K, (3, B))
W = torch.randn(K, D, dtype=dt, requires_grad=True)

# a single step: the prediction is the output itself; a square [T, B = T, K] input: each step divided by its own t
z1 = torch.randn(1, 4, 3, dtype=dt, requires_grad=True)
c1 = cumulative_mean(z1)
assert c1.shape == z1.shape and c1.requires_grad  # catches a wrong arange length or view, a detached mean
torch.testing.assert_close(c1, z1, rtol=0, atol=0)
z4 = torch.randn(4, 4, 3, dtype=dt)
c4 = cumulative_mean(z4)
assert c4.shape == z4.shape
for t in range(4):
    torch.testing.assert_close(c4[t], sum(z4[k] for k in range(t + 1)) / (t + 1), rtol=1e-14, atol=1e-15)
brute = torch.stack([torch.stack([r_seq[b, : t + 1].mean(0) for t in range(T)]) for b in range(3)])
torch.testing.assert_close(cumulative_mean(r_seq[0]), brute[0], rtol=0, atol=1e-15)

expected = torch.zeros(T, dtype=dt)
for b in range(3):
    for t in range(T):
        r_bar = brute[b, t]  # [B, D]
        p = torch.softmax(r_bar @ W.detach().T, dim=1)
        grad = (p - F.one_hot(ys[b], K).to(dt)).T @ r_bar / B
        expected[t] += (grad**2).sum() / 3
got = temporal_fisher_trace(lambda r: r @ W.T, [W], [(r_seq[b], ys[b]) for b in range(3)])
assert torch.is_tensor(got) and got.shape == (T,)  # catches batches never accumulated (a scalar comes back)
torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-15)
try:
    temporal_fisher_trace(lambda r: r @ W.T, [W], [])
    raise AssertionError("empty batches must be rejected")
except ValueError:
    pass

# %% [markdown]
# **Claim 2 (temporal information concentration, toy scale).** Train a two-layer SNN (core LIF, surrogate gradient,
# $T = 6$) on a synthetic 3-class task. At initialisation the share of Fisher information at the first step,
# $I_1/\sum_t I_t$, is below the uniform $1/T$ (information grows with $t$); after training it is above $1/T$ and the
# first step holds the largest share: the information moved to the early time steps, as the paper observes.

# %%  catches: an estimator that ignores the time index
D2, Hd, K2, T2 = 20, 32, 3, 6
g = torch.Generator().manual_seed(0)
centers = torch.randn(K2, D2, dtype=dt, generator=g)
y_tr = torch.randint(0, K2, (512,), generator=g)
x_tr = centers[y_tr] + 0.8 * torch.randn(512, D2, dtype=dt, generator=g)
W1 = (torch.randn(Hd, D2, dtype=dt, generator=g) * 0.3).requires_grad_(True)
W2 = (torch.randn(K2, Hd, dtype=dt, generator=g) * 0.3).requires_grad_(True)


def snn(x: torch.Tensor) -> torch.Tensor:  # [B, D] -> output sequence [T, B, K]
    spikes, _ = multi_step(lif_step, (x @ W1.T)[None].expand(T2, -1, -1), tau=2.0, v_th=1.0)
    return spikes @ W2.T


batches = [(x_tr[i:i + 32], y_tr[i:i + 32]) for i in range(0, 256, 32)]
# the core LIF inside snn() (tau = 2, V_th = 1, hard reset to 0) against a loop written from the definition
h_in = (x_tr[:5] @ W1.T).detach()
v, s_ref = torch.zeros_like(h_in), []
for _ in range(T2):
    v = v + (h_in - v) / 2.0
    s_t = (v >= 1.0).to(dt)
    v = v * (1 - s_t)
    s_ref.append(s_t)
out = snn(x_tr[:5])
# catches: a leak without the -V term, a reset that does not zero the potential, a shifted threshold
torch.testing.assert_close(out.detach(), torch.stack(s_ref) @ W2.detach().T, rtol=1e-12, atol=1e-12)
assert 0.05 < torch.stack(s_ref).mean() < 0.95  # the neurons fire and reset
(g1,) = torch.autograd.grad(out.sum(), W1, allow_unused=True)
assert g1 is not None and g1.abs().sum() > 0  # catches a detached charge: no surrogate gradient reaches W1
I_init = temporal_fisher_trace(snn, [W1, W2], batches)
opt = torch.optim.Adam([W1, W2], lr=0.03)
for _ in range(60):
    loss = F.cross_entropy(snn(x_tr).mean(0), y_tr)
    opt.zero_grad()
    loss.backward()
    opt.step()
I_trained = temporal_fisher_trace(snn, [W1, W2], batches)
share_init, share_trained = I_init / I_init.sum(), I_trained / I_trained.sum()
print("share at init   ", [round(v, 3) for v in share_init.tolist()])
print("share after training", [round(v, 3) for v in share_trained.tolist()])
assert loss.item() < 0.05  # trained
assert share_init[0] < 1 / T2 < share_trained[0]  # information moved to the first step
assert int(share_trained.argmax()) == 0

# %%
plt.figure(figsize=(5, 3.3))
plt.plot(range(1, T2 + 1), share_init, "o-", label="initialisation")
plt.plot(range(1, T2 + 1), share_trained, "s-", label="after training")
plt.axhline(1 / T2, ls=":", color="k", label="uniform")
plt.xlabel("time step $t$"); plt.ylabel("$I_t / \\sum_t I_t$"); plt.legend(); plt.tight_layout()
plt.show()

# %% [markdown]
# Verified: the per-time-step Fisher trace equals its closed form for a linear readout (cumulative-mean prediction,
# squared mini-batch gradients), and on a toy SNN the share of Fisher information at the first time step rises from
# below to above uniform during training.
