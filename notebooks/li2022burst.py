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
# # Burst spikes for conversion (Li & Zeng, IJCAI 2022)
# An IF neuron can release at most one spike per step, so charge piles up on its membrane ("residual
# information"). A burst neuron releases up to $\Gamma$ spikes at once, passing that charge on without delay.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from snnref.conversion.burst import burst_fire, burst_step, convert_burst
from snnref.conversion.toolkit import SpikingNeuron, compute_thresholds, constant_input, convert, snn_output
from snnref.neuron import if_step, multi_step
from snnref.surrogate import heaviside

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)


def burst_loop(z: list[float], theta: float, gamma: int) -> tuple[int, float]:
    """Spike count and final potential of the authors' burst neuron, written from its definition."""
    v, n = 0.0, 0
    for x in z:
        v += x
        s = min(max(int(v // theta), 0), gamma)
        v -= s * theta
        n += s
    return n, v


g = torch.Generator().manual_seed(7)
theta = 1.3

# %% [markdown]
# **Claim 1 (Sec. 4, the burst neuron).** With $S_t = \mathrm{clip}(\lfloor H_t/\theta\rfloor, 0, \Gamma)$ and
# reset by subtraction, a constant input $z \ge 0$ gives $N_T = \mathrm{clip}(\lfloor Tz/\theta\rfloor, 0, \Gamma T)$
# spikes: the IF neuron's count, but saturating at $\Gamma$ spikes per step instead of one. $\Gamma = 1$ is exactly the
# IF neuron.

# %%
z = torch.rand(200, generator=g) * 4.4 * theta - 0.2 * theta  # below 0 up to beyond 4 theta
T = 9
u = T * z / theta
assert (u - u.round()).abs().min() > 1e-9
for gamma in (1, 2, 3):
    out = SpikingNeuron(v_th=theta, step=burst_step, step_params={"gamma": gamma})(constant_input(z, T))
    n = out.sum(0) / theta
    loop = torch.tensor([burst_loop([v] * T, theta, gamma)[0] for v in z.tolist()], dtype=torch.float64)
    torch.testing.assert_close(n, loop, rtol=0, atol=1e-9)  # catches round for floor, clip at gamma - 1, hard reset
    torch.testing.assert_close(n, torch.clamp(torch.floor(u), 0, gamma * T), rtol=0, atol=1e-9)
    assert out.max() / theta == gamma  # the cap is reached
if_layer = SpikingNeuron(v_th=theta)
assert if_layer.params.get("spike_fn") is heaviside  # catches the IF layer built without the plain step
if_out = if_layer(constant_input(z, T))  # the core IF step
edge = torch.tensor([[theta, theta - 1e-9, 2 * theta]])  # H - theta = 0 exactly, just below, well above
torch.testing.assert_close(if_layer(edge), torch.tensor([[theta, 0.0, theta]]), rtol=0, atol=0)  # '>' vs '>='
burst1 = SpikingNeuron(v_th=theta, step=burst_step, step_params={"gamma": 1})(constant_input(z, T))
assert torch.equal(if_out, burst1)  # gamma = 1 is the IF neuron, step by step

h = torch.tensor([-0.5, 0.0, 1.29, 1.3, 2.7, 3.9, 9.0])
torch.testing.assert_close(burst_fire(h, v_th=1.3, gamma=3), torch.tensor([0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 3.0]))

# %% [markdown]
# **Claim 2 (Sec. 3-4, residual information).** When input arrives unevenly, an IF neuron that received more than one
# threshold of charge in a step keeps the surplus on its membrane; a burst neuron releases it at once. As long as no
# step brings more than $\Gamma$ thresholds above the residual, the burst neuron's final potential stays in
# $[0, \theta)$, so its count is the ideal $\lfloor \sum_t z_t/\theta \rfloor$, while the IF neuron's is not.

# %%
zs = torch.rand(12, 300, generator=g) * 3.6 * theta * (torch.rand(12, 300, generator=g) < 0.25)  # sparse volleys
spikes, states = multi_step(burst_step, zs, v_th=theta, gamma=4)
v_end = states[-1]
total = zs.sum(0)
assert bool(((v_end >= 0) & (v_end < theta)).all())  # no residual information left
torch.testing.assert_close(spikes.sum(0), torch.floor(total / theta), rtol=0, atol=1e-9)
for i in range(0, 300, 37):
    n, v = burst_loop(zs[:, i].tolist(), theta, 4)
    assert n == spikes[:, i].sum().item() and abs(v - v_end[i].item()) < 1e-9
if_count = SpikingNeuron(v_th=theta)(zs).sum(0) / theta
assert (torch.floor(total / theta) - if_count).max() >= 2  # the IF neuron lags by whole spikes
assert bool((if_count <= spikes.sum(0) + 1e-9).all())  # never ahead of the burst neuron

try:
    burst_step(zs[0], torch.zeros(300), v_th=theta, v_reset=0.0, gamma=2)
except ValueError:
    pass
else:
    raise AssertionError("hard reset accepted for burst neurons")

# %% [markdown]
# **Claim 3 (Tables 1-2, toy scale).** Because a burst neuron is not capped at one spike per step, lower thresholds
# (here the 90th percentile of the activations) no longer clip: the converted network's error keeps falling like
# $1/T$ instead of stalling at the clipping error of the IF network, so it reaches a given accuracy in far fewer steps.

# %%
centers = torch.randn(4, 8, generator=g)
labels = torch.randint(0, 4, (600,), generator=g)
data = centers[labels] + torch.randn(600, 8, generator=g)
torch.manual_seed(0)
ann = nn.Sequential(nn.Linear(8, 48), nn.ReLU(), nn.Linear(48, 48), nn.ReLU(), nn.Linear(48, 4))
opt = torch.optim.Adam(ann.parameters(), lr=5e-3)
for _ in range(120):
    opt.zero_grad()
    nn.functional.cross_entropy(ann(data[:400]), labels[:400]).backward()
    opt.step()
ann.requires_grad_(False)
test = data[400:]
y = ann(test)
lam = compute_thresholds(ann, data[:400], method="percentile", p=90.0)
h1 = torch.relu(ann[0](data[:400]))
acts = [h1, torch.relu(ann[2](h1))]  # the two hidden layers, computed by hand
torch.testing.assert_close(torch.tensor(lam), torch.tensor([float(np.percentile(a.numpy(), 90)) for a in acts]),
                           rtol=1e-12, atol=0)  # catches a wrong percentile scale (p/100)
snn5 = convert_burst(ann, lam, gamma=5)
assert [m.v_th for m in snn5 if isinstance(m, SpikingNeuron)] == lam  # catches thresholds given to the wrong layer
for x_one in (test[:1], test):  # batch 1 and a full batch: a linear module acts on each step independently
    first = snn5[0](constant_input(x_one, 3))
    assert first.shape == (3, len(x_one), 48)  # catches time and batch axes merged or split wrongly
    torch.testing.assert_close(first, ann[0](x_one).expand(3, -1, -1), rtol=1e-12, atol=1e-12)


def rate_error(snn: nn.Sequential, t: int) -> float:
    out = snn_output(snn, test, T=t)
    assert out.shape == y.shape  # catches the read-out taken from the wrong layer
    return (out - y).abs().mean().item()


Ts = [4, 8, 16, 32, 64]
err = {gm: [rate_error(convert_burst(ann, lam, gamma=gm), t) for t in Ts] for gm in (1, 5)}
err_if = [rate_error(convert(ann, lam), t) for t in Ts]
torch.testing.assert_close(torch.tensor(err[1]), torch.tensor(err_if), rtol=0, atol=1e-12)  # gamma = 1 is IF
assert err[5][-1] < err[1][-1] / 4  # no clipping plateau
assert err[5][-1] < err[5][1] / 4 and err[1][-1] > err[1][1] / 2  # burst error keeps falling, IF error stalls
for bad in (0, 2.5):
    try:
        convert_burst(ann, lam, gamma=bad)
    except ValueError:
        continue
    raise AssertionError("invalid gamma accepted")

fig, ax = plt.subplots(1, 2, figsize=(10, 3.5))
i = int(torch.argmax((torch.floor(total / theta) - if_count)))
ax[0].step(range(1, 13), torch.stack(states)[:, i], where="post", label=r"burst, $\Gamma=4$")
_, if_states = multi_step(if_step, zs[:, i:i + 1], v_th=theta, v_reset=None)
ax[0].step(range(1, 13), torch.stack(if_states)[:, 0], where="post", label="IF")
ax[0].axhline(theta, color="k", ls=":")
ax[0].set_xlabel("t"); ax[0].set_ylabel("membrane after reset"); ax[0].legend()
ax[1].loglog(Ts, err[1], marker="o", label=r"IF ($\Gamma=1$)")
ax[1].loglog(Ts, err[5], marker="o", label=r"burst ($\Gamma=5$)")
ax[1].set_xlabel("T"); ax[1].set_ylabel("mean |SNN - ANN|, 90th-pct. thresholds"); ax[1].legend()
plt.show()

# %% [markdown]
# Verified: the burst neuron's spike counts against a loop written from the authors' definition and the closed form
# $\mathrm{clip}(\lfloor Tz/\theta\rfloor, 0, \Gamma T)$, its identity with the core IF step at $\Gamma = 1$, the
# absence of residual charge under uneven input, and the removal of the clipping plateau in a converted network.
