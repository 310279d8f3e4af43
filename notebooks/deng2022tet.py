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
# # Temporal Efficient Training (Deng et al., ICLR 2022)
# Apply the loss to each time step's output rather than to the average output; the gradient is re-weighted per step.

# %%
import math

import matplotlib.pyplot as plt
import torch

from snnref.neuron import lif_step, multi_step
from snnref.training.tet import sdt_loss, tet_loss

torch.manual_seed(0)
dtype = torch.float64
T, B, K = 5, 3, 4  # B < T: a loop over the wrong axis would cover too few steps instead of crashing
lam, phi = 0.15, 0.6  # not the defaults (1e-3, 1.0)
O = (1.5 * torch.randn(T, B, K, dtype=dtype)).requires_grad_(True)
y = torch.randint(0, K, (B,))

# %% [markdown]
# **Claim 1 (the loss).** $\mathcal{L} = (1-\lambda)\frac{1}{T}\sum_t\mathrm{CE}(O(t),y) + \lambda\frac{1}{T}\sum_t \mathrm{MSE}(O(t),\phi)$ and
# $\mathcal{L}_{SDT} = \mathrm{CE}(\bar O, y)$, recomputed by loops over time, samples and classes. Since cross-entropy is
# convex in the logits, Jensen's inequality gives $\mathcal{L}_{TET} \ge \mathcal{L}_{SDT}$.

# %%
def ce_loop(z, y):
    total = 0.0
    for b in range(z.shape[0]):
        row = z[b].tolist()
        m = max(row)
        total += m + math.log(sum(math.exp(v - m) for v in row)) - row[y[b]]
    return total / z.shape[0]


with torch.no_grad():
    l_tet = sum(ce_loop(O[t], y) for t in range(T)) / T
    l_mse = sum(((O[t] - phi) ** 2).mean().item() for t in range(T)) / T
    l_sdt = ce_loop(O.mean(0), y)
assert math.isclose(tet_loss(O, y, lam=lam, phi=phi).item(), (1 - lam) * l_tet + lam * l_mse, rel_tol=1e-12)  # catches: wrong weights or target phi
assert math.isclose(sdt_loss(O, y).item(), l_sdt, rel_tol=1e-12)
assert math.isclose(tet_loss(O, y, lam=0.0).item(), l_tet, rel_tol=1e-12)
assert l_tet > l_sdt  # Jensen: averaging logits before the CE can only lower the loss
assert math.isclose(tet_loss(O, y).item(), (1 - 1e-3) * l_tet + 1e-3 * ((O - 1.0) ** 2).mean().item(), rel_tol=1e-12)  # defaults

# %% [markdown]
# **Claim 2 (gradient re-weighting).** $\partial\mathcal{L}_{SDT}/\partial O(t) = \frac{1}{TB}(\mathrm{softmax}(\bar O) - e_y)$, the same for every
# $t$, while $\partial\mathcal{L}/\partial O(t) = \frac{1-\lambda}{TB}(\mathrm{softmax}(O(t)) - e_y) + \frac{2\lambda}{TBK}(O(t) - \phi)$ differs
# between time steps: a step whose output is far from the label gets a larger push.

# %%
e_y = torch.nn.functional.one_hot(y, K).to(dtype)
L_sdt, L_tet = sdt_loss(O, y), tet_loss(O, y, lam=lam, phi=phi)
assert L_sdt.requires_grad and L_tet.requires_grad  # catches: a loss cut from the graph (no gradient at all)
(g_sdt,) = torch.autograd.grad(L_sdt, O)
(g_tet,) = torch.autograd.grad(L_tet, O)
with torch.no_grad():
    exp_sdt = ((torch.softmax(O.mean(0), dim=1) - e_y) / (T * B)).expand(T, B, K)
    exp_tet = (1 - lam) / (T * B) * (torch.softmax(O, dim=2) - e_y) + 2 * lam / (T * B * K) * (O - phi)
torch.testing.assert_close(g_sdt, exp_sdt, rtol=1e-10, atol=1e-13)
torch.testing.assert_close(g_tet, exp_tet, rtol=1e-10, atol=1e-13)  # catches: CE applied to the mean, MSE scaled wrongly
assert torch.allclose(g_sdt[0], g_sdt[-1]) and not torch.allclose(g_tet[0], g_tet[-1])

# %% [markdown]
# **Claim 3 (toy training with a core LIF readout).** Logits are the membrane potentials of a non-firing LIF readout
# driven through weights $W$. Gradient descent on $\mathcal{L}$ (TET) from the same start lowers the loss and raises the
# accuracy of every single time step, which is what the per-step loss asks for.

# %%
T2, N_IN = 6, 20
labels = torch.randint(0, 4, (64,))
prototypes = torch.randn(4, N_IN, dtype=dtype)
x = torch.randn(T2, 64, N_IN, dtype=dtype) + 0.8 * prototypes[labels]  # every step carries (noisy) class evidence
W = torch.zeros(N_IN, 4, dtype=dtype, requires_grad=True)


def readout(W):
    _, v = multi_step(lif_step, x @ W, tau=1.8, v_th=1e9)  # potentials only: the readout never fires
    return torch.stack(v)  # [T, B, K]


acc0 = [(readout(W)[t].argmax(1) == labels).double().mean().item() for t in range(T2)]
losses = []
for it in range(40):
    loss = tet_loss(readout(W), labels, lam=0.01, phi=0.0)
    losses.append(loss.item())
    (g,) = torch.autograd.grad(loss, W)
    with torch.no_grad():
        W -= 0.5 * g
acc = [(readout(W)[t].argmax(1) == labels).double().mean().item() for t in range(T2)]
print("per-step accuracy before", [round(a, 2) for a in acc0], "after", [round(a, 2) for a in acc])
assert losses[-1] < 0.7 * losses[0] and min(acc) > 0.6  # every time step learned, not only their average

# %%
fig, ax = plt.subplots(1, 2, figsize=(9, 3))
ax[0].plot(losses); ax[0].set_xlabel("step"); ax[0].set_ylabel("TET loss")
ax[1].bar(range(T), g_tet.detach().abs().sum(dim=(1, 2)), label="TET")
ax[1].plot(range(T), g_sdt.detach().abs().sum(dim=(1, 2)), "k--", label="SDT")
ax[1].set_xlabel("t"); ax[1].set_ylabel(r"$\sum|\partial L/\partial O(t)|$"); ax[1].legend()
plt.show()

# %% [markdown]
# **Core check.** The core `lif_step`, looped by `multi_step`, equals a brute-force LIF loop written from its
# definition (charge with and without input decay, firing at $H \ge V_{th}$, soft and hard reset), and
# `detach_reset` changes the gradient but not the spikes.

# %%
def lif_loop(xs, tau_, vth_, v_reset_, decay_input_):
    v_ = torch.zeros_like(xs[0])
    rest = 0.0 if v_reset_ is None else v_reset_
    out_s, out_v = [], []
    for xt in xs:
        h_ = v_ + (xt - (v_ - rest)) / tau_ if decay_input_ else v_ - (v_ - rest) / tau_ + xt
        s_ = (h_ >= vth_).to(xs.dtype)
        v_ = h_ - vth_ * s_ if v_reset_ is None else h_ * (1 - s_) + v_reset_ * s_
        out_s.append(s_)
        out_v.append(v_)
    return torch.stack(out_s), torch.stack(out_v)


gen = torch.Generator().manual_seed(1)
x_core = 0.9 * torch.rand(12, 50, generator=gen, dtype=torch.float64)
for v_reset_c in (None, -0.2):
    for decay_c in (True, False):
        xs_c = x_core * (1.8 if decay_c else 1.0)  # input decay divides the drive by tau: scale it so neurons fire
        s_ref, v_ref = lif_loop(xs_c, 2.7, 0.6, v_reset_c, decay_c)
        s_core, v_core = multi_step(lif_step, xs_c, tau=2.7, v_th=0.6, v_reset=v_reset_c, decay_input=decay_c)
        assert torch.equal(s_core, s_ref) and 0 < s_ref.mean().item() < 1  # catches: core charge/fire/reset bugs
        torch.testing.assert_close(torch.stack(v_core), v_ref, rtol=1e-12, atol=1e-12)  # catches: wrong reset value
x_g = x_core.clone().requires_grad_(True)
g_full = torch.autograd.grad(multi_step(lif_step, x_g, tau=2.7, v_th=0.6, v_reset=None)[0].sum(), x_g)[0]
g_det = torch.autograd.grad(multi_step(lif_step, x_g, tau=2.7, v_th=0.6, v_reset=None, detach_reset=True)[0].sum(), x_g)[0]
assert not torch.allclose(g_full, g_det)  # catches: detach_reset ignored by the core reset
assert multi_step(lif_step, x_g, tau=2.7, v_th=0.6, decay_input=False)[0].requires_grad  # catches: a charge cut from the graph

# %% [markdown]
# Verified: the TET and SDT losses against loops, Jensen's inequality between them, the per-step gradients in closed
# form (identical across steps for SDT, re-weighted for TET), and per-step learning on a toy LIF readout.
