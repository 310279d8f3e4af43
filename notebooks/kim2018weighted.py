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
# # Weighted spikes (Kim et al., Neurocomputing 2018)
# A spike at phase $k$ of a $K$-phase period weighs $2^{-k}$, so one period carries a $K$-bit binary fraction
# instead of one of $K+1$ spike counts.

# %%
import matplotlib.pyplot as plt
import torch
from torch import nn

from snnref.conversion.toolkit import SpikingNeuron, compute_thresholds, simulate_layers
from snnref.conversion.weighted_spikes import (convert_weighted, phase_weight, weighted_init_state,
                                               weighted_phase_encode, weighted_spike_step)
from snnref.neuron import multi_step

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)


def phase_neuron_loop(currents: list[float], theta: float, K: int) -> list[int]:
    """Spikes of the phase-coded neuron, written from the definition (the notebook's oracle)."""
    v, out = 0.0, []
    for t, z in enumerate(currents, start=1):
        thr = theta * 2.0 ** (-(1 + (t - 1) % K))
        v += z
        s = int(v >= thr)
        v -= thr * s
        out.append(s)
    return out


# %% [markdown]
# **Claim 1 (Eq. 6 and the paper's encoding example).** $\Pi(t) = 2^{-(1+\mathrm{mod}(t-1,K))}$; with $K = 8$ the
# inputs $192/256$, $1/256$, $128/256$ and $255/256$ are sent as the spike patterns $11000000$, $00000001$,
# $10000000$ and $11111111$. In general the spike at phase $k$ is the $k$-th bit of the binary fraction of $x$, the
# pattern repeats every period, and one period delivers $\lfloor 2^K x\rfloor/2^K$.

# %%
K = 8
torch.testing.assert_close(torch.tensor([phase_weight(t, K=K) for t in range(1, 17)]),
                           torch.tensor([2.0 ** -k for k in range(1, 9)] * 2), rtol=0, atol=0)  # catches mod off by one
table = {192: "11000000", 1: "00000001", 128: "10000000", 255: "11111111"}
x = torch.tensor([v / 256 for v in table])
spikes = weighted_phase_encode(x, K=K, T=16)  # [16, 4]
for j, pattern in enumerate(table.values()):
    bits = [int(c) for c in pattern] * 2
    torch.testing.assert_close(spikes[:, j], torch.tensor(bits) * torch.tensor([2.0 ** -k for k in range(1, 9)] * 2),
                               rtol=0, atol=0)  # catches reversed bit order, weight not applied

g = torch.Generator().manual_seed(0)
for K in (3, 5, 8):
    xs = torch.rand(300, generator=g)
    enc = weighted_phase_encode(xs, K=K, T=2 * K)
    for i in range(0, 300, 37):  # integer arithmetic as the independent oracle
        q = int(xs[i].item() * 2**K)
        bits = [(q >> (K - k)) & 1 for k in range(1, K + 1)]
        torch.testing.assert_close((enc[:K, i] > 0).long(), torch.tensor(bits), rtol=0, atol=0)
    torch.testing.assert_close(enc[:K].sum(0), torch.floor(xs * 2**K) / 2**K, rtol=0, atol=1e-15)
    torch.testing.assert_close(enc[K:], enc[:K], rtol=0, atol=0)  # periodic

# %% [markdown]
# **Claim 2 (phase-scaled threshold: a $K$-bit value in $K$ steps).** The neuron fires at step $t$ when its membrane
# reaches $\Pi(t)\theta$ and then subtracts $\Pi(t)\theta$, sending the weighted spike $\Pi(t)\theta$. A charge $z$
# received at the first phase is therefore sent within one period as the $K$-bit binary expansion of $z/\theta$,
# i.e. $\theta\lfloor 2^K z/\theta\rfloor/2^K$, whereas an IF neuron (threshold $\theta$) can send only $K+1$ values in
# $K$ steps. For any input the spikes match a loop written from the definition, and what is sent equals the charge
# received minus the final membrane potential.

# %%
theta, K = 1.3, 6
z = torch.rand(400, generator=g) * theta * 0.999
u = z / theta * 2**K
assert (u - u.round()).abs().min() > 1e-6  # no charge on a bit edge
x_seq = torch.zeros(K, 400)
x_seq[0] = z  # the whole charge at phase 1
sent, states = multi_step(weighted_spike_step, x_seq, weighted_init_state(z, theta, 0.0), v_th=theta, K=K)
torch.testing.assert_close(theta * sent.sum(0), theta * torch.floor(u) / 2**K, rtol=0, atol=1e-12)  # K-bit expansion
for i in range(0, 400, 53):
    q = int(u[i].item())
    torch.testing.assert_close((sent[:, i] > 0).long(), torch.tensor([(q >> (K - k)) & 1 for k in range(1, K + 1)]),
                               rtol=0, atol=0)  # catches a threshold not scaled by the phase
assert theta * sent.sum(0).unique().numel() > 40  # many distinct levels; an IF neuron has only K + 1 = 7
assert states[-1][1] == K
v0, t0 = weighted_init_state(z, theta, 0.5)
assert (v0 == 0.5 * theta).all() and t0 == 0  # catches v0_frac ignored or the phase counter starting at 1

currents = torch.randn(3 * K, 50, generator=g) * 0.5 + 0.15  # arbitrary, also negative, input
layer = SpikingNeuron(v_th=theta, v_reset=None, step=weighted_spike_step, step_params={"K": K},
                      init_state=weighted_init_state)
out = layer(currents)  # [3K, 50]: theta * Pi(t) * S_t
loop = torch.tensor([phase_neuron_loop(currents[:, i].tolist(), theta, K) for i in range(50)]).T
w = torch.tensor([phase_weight(t, K=K) for t in range(1, 3 * K + 1)]).unsqueeze(1)
torch.testing.assert_close(out, theta * w * loop, rtol=0, atol=1e-12)  # catches '>' vs '>=', hard reset, no weight
_, st = multi_step(weighted_spike_step, currents, weighted_init_state(currents[0], theta, 0.0), v_th=theta, K=K)
torch.testing.assert_close(out.sum(0), currents.sum(0) - st[-1][0], rtol=0, atol=1e-12)  # sent = received - V_T
assert loop.sum() > 100
for bad in (lambda: weighted_spike_step(z, (z, 0), v_reset=0.0), lambda: weighted_phase_encode(z + 1, K=3, T=3),
            lambda: weighted_phase_encode(z, K=0, T=3), lambda: convert_weighted(nn.Sequential(nn.ReLU()), [1.0], K=0)):
    try:
        bad()
    except ValueError:
        continue
    raise AssertionError("invalid weighted-spike setting accepted")

# %% [markdown]
# **Claim 3 (conversion, toy scale).** A trained ReLU network is converted with phase-coded neurons (thresholds =
# layer maxima) and fed weighted-phase-encoded input. Summed over one period, a layer's output approximates its ANN
# activation on the $K$-bit input: after $n$ periods the first hidden layer's per-period output is within
# $\theta/n$ of $\mathrm{clip}(a, 0, \theta(1-2^{-K}))$, and the network reaches the ANN's accuracy within two periods.

# %%
K = 8
centers = torch.rand(4, 16, generator=g)
labels = torch.randint(0, 4, (150,), generator=g)
data = (centers[labels] + 0.25 * torch.randn(150, 16, generator=g)).clamp(0, 0.999)
torch.manual_seed(0)
ann = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 4))
opt = torch.optim.Adam(ann.parameters(), lr=1e-2)
for _ in range(100):
    opt.zero_grad()
    nn.functional.cross_entropy(ann(data), labels).backward()
    opt.step()
ann.requires_grad_(False)
th = compute_thresholds(ann, data, method="max")
a1 = ann[:2](torch.floor(data * 2**K) / 2**K).clamp(max=th[0] * (1 - 2**-K))
ann_acc = (ann(data).argmax(1) == labels).double().mean().item()
errs, accs = [], []
for n in (1, 2, 4, 8):
    outs = simulate_layers(convert_weighted(ann, th, K=K), weighted_phase_encode(data, K=K, T=K * n))
    err = (outs[1].sum(0) / n - a1).abs().max().item()
    assert err <= th[0] / n + 1e-12  # catches biases not spread over the phases, input weights lost
    errs.append(err)
    accs.append((outs[-1].mean(0).argmax(1) == labels).double().mean().item())
assert errs[-1] < errs[0] / 4  # the per-period error shrinks like 1/n
assert accs[1] >= ann_acc - 0.01  # two periods (16 steps) already match the ANN

fig, ax = plt.subplots(1, 2, figsize=(10, 3.5))
i = 3
K2 = sent.shape[0]
ax[0].step(range(1, K2 + 1), sent[:, i] * theta, where="mid", label="weighted spike sent")
ax[0].step(range(1, K2 + 1), [phase_weight(t, K=K2) * theta for t in range(1, K2 + 1)], where="mid", ls=":",
           label=r"threshold $\Pi(t)\theta$")
ax[0].set_xlabel("phase t"); ax[0].legend(); ax[0].set_title(f"z = {z[i]:.3f}, K = {K2}")
ax[1].loglog([1, 2, 4, 8], errs, marker="o", label="max |per-period output - a|")
ax[1].loglog([1, 2, 4, 8], [th[0] / n for n in (1, 2, 4, 8)], "k:", label=r"$\theta/n$")
ax[1].set_xlabel("periods n"); ax[1].legend()
plt.show()

# %% [markdown]
# Verified: the phase function and the paper's encoding example, the binary expansion of arbitrary inputs against
# integer arithmetic, a phase-coded neuron sending a $K$-bit value in one period, its spikes against a loop written
# from the definition and its charge conservation, and on a toy network the $\theta/n$ convergence of the first
# layer and the ANN's accuracy within two periods.
