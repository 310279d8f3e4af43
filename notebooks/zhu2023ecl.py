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
# # Enhanced counting loss for time-based training (Zhu et al., NeurIPS 2023)
# A loss on output spike counts is mapped to spike timings ($\partial L/\partial t_k = -\partial L/\partial n_i$ for each
# spike of neuron $i$); the enhanced counting loss $L_{\text{EC}} = \frac{1}{T}\sum_i (n_i - \hat n_i\ln n_i)$ gives every
# neuron the same overall timing gradient $-(n_i - \hat n_i)/T$, however few spikes carry it.

# %%
import math

import matplotlib.pyplot as plt
import torch

from snnref.training.ecl import clipped_counts, enhanced_counting_loss, mse_counting_loss, timing_grad

torch.set_default_dtype(torch.float64)
T, N_D, N_U = 12, 7.0, 1.0  # time steps, desired count of the label neuron, undesired count of the others

# %% [markdown]
# **Claim 1 (the losses and their derivatives).** $L_{\text{MSE}} = \frac{1}{2T}\sum_i(n_i - \hat n_i)^2$ and
# $L_{\text{EC}} = \frac{1}{T}\sum_{i: n_i>0}(n_i - \hat n_i\ln n_i)$ match their closed forms (a silent neuron and one
# with a single spike included); central finite differences in $n$ equal $(n - \hat n)/T$ and $(n - \hat n)/(T n)$;
# $L_{\text{EC}}$ is convex in $n$ with second derivative $\hat n/(T n^2)$ and smallest at $n = \hat n$. Autograd through
# both losses gives the same derivatives, and $0$ for a silent neuron ($n = 0$, no spike to move).

# %%  catches: a wrong loss constant, log(0) leaking in, ln applied to the target, a loss whose minimum is not at n_hat
nv = torch.tensor([[0.0, 1.0, 2.5, 6.0]])
tv = torch.tensor([[1.0, 1.0, 7.0, 1.0]])
mse_ref = sum((a - b) ** 2 for a, b in zip(nv.flatten().tolist(), tv.flatten().tolist())) / (2 * T)
ec_ref = sum(a - b * math.log(a) for a, b in zip(nv.flatten().tolist(), tv.flatten().tolist()) if a > 0) / T
assert math.isclose(mse_counting_loss(nv, tv, T=T).item(), mse_ref, rel_tol=1e-14)  # 1/(2T), squared error
assert math.isclose(enhanced_counting_loss(nv, tv, T=T).item(), ec_ref, rel_tol=1e-14)  # n - n_hat ln n, silent skipped
for loss, dl in [(mse_counting_loss, lambda n, t: (n - t) / T), (enhanced_counting_loss, lambda n, t: (n - t) / (T * n))]:
    for n0, t0 in [(2.5, 7.0), (4.0, 1.0), (0.6, 1.0)]:
        h = 1e-6
        fd = (loss(torch.tensor([n0 + h]), torch.tensor([t0]), T=T) - loss(torch.tensor([n0 - h]), torch.tensor([t0]), T=T)) / (2 * h)
        assert math.isclose(fd.item(), dl(n0, t0), rel_tol=1e-7), (loss.__name__, n0)  # derivative in n
for loss, dl in [(mse_counting_loss, lambda n, t: (n - t) / T), (enhanced_counting_loss, lambda n, t: (n - t) / (T * n) if n > 0 else 0.0)]:
    n_req = nv.clone().requires_grad_(True)
    val = loss(n=n_req, n_hat=tv, T=T)
    assert val.requires_grad  # catches a loss detached from the counts
    (dn,) = torch.autograd.grad(val, n_req, allow_unused=True)
    assert dn is not None  # catches a loss that does not depend on n
    ref = torch.tensor([[dl(a, b) for a, b in zip(nv.flatten().tolist(), tv.flatten().tolist())]])
    torch.testing.assert_close(dn, ref, rtol=1e-12, atol=1e-15)  # autograd = closed form, 0 for the silent neuron
grid = torch.linspace(0.2, 20, 400)
L_grid = torch.stack([enhanced_counting_loss(torch.tensor([x]), torch.tensor([N_D]), T=T) for x in grid])
assert (L_grid >= enhanced_counting_loss(torch.tensor([N_D]), torch.tensor([N_D]), T=T) - 1e-15).all()  # min at n_hat
for x in [1.5, 4.0, 9.0]:
    h = 1e-4
    f = [enhanced_counting_loss(torch.tensor([x + d]), torch.tensor([N_D]), T=T).item() for d in (-h, 0.0, h)]
    assert math.isclose((f[0] - 2 * f[1] + f[2]) / h**2, N_D / (T * x * x), rel_tol=1e-5)  # convex, n_hat / (T n^2)

# %% [markdown]
# **Claim 2 (per-spike timing gradients).** With the counts clipped one-sidedly towards their targets
# ($n_i \leftarrow \min(n_i, n_d)$ for the label neuron, $n_i \leftarrow \max(n_i, n_u)$ for the others), each spike of
# neuron $i$ receives
# $$\frac{\partial L_{\text{MSE}}}{\partial t_k} = -\frac{n_i - \hat n_i}{T}, \qquad
#   \frac{\partial L_{\text{EC}}}{\partial t_k} = -\frac{n_i - \hat n_i}{T\,n_i},$$
# and time steps without a spike receive nothing. The right sides are computed here with plain loops (the second is
# the backward pass of the official code's `loss_count_plus`, without its label-reweighting heuristic).

# %%  catches: a wrong clipping side, 1/T or 1/n missing, gradient at silent steps, the sign of the mapping
g = torch.Generator().manual_seed(2)
counts = torch.tensor([[9, 0, 3, 1, 5], [2, 4, 0, 12, 1], [7, 2, 6, 0, 3], [3, 0, 5, 2, 8]])  # [B, C]
labels = [0, 3, 2, 1]  # sample 3: the label neuron is silent
# a second batch of B = T samples with random counts (a sum over the wrong axis cannot go unnoticed)
counts = torch.cat([counts, torch.randint(0, T + 1, (T, 5), generator=g)])
labels = labels + torch.randint(0, 5, (T,), generator=g).tolist()
B, C = counts.shape
o = torch.zeros(T, B, C)
for b in range(B):
    for c in range(C):
        o[torch.randperm(T, generator=g)[: counts[b, c]], b, c] = 1.0
n_hat = torch.full((B, C), N_U)
n_hat[range(B), labels] = N_D

ref_n = torch.zeros(B, C)
ref_mse, ref_ec = torch.zeros(T, B, C), torch.zeros(T, B, C)
for b in range(B):
    for c in range(C):
        n = sum(o[t, b, c].item() for t in range(T))
        target = N_D if c == labels[b] else N_U
        n = min(n, N_D) if c == labels[b] else max(n, N_U)
        ref_n[b, c] = n
        for t in range(T):
            if o[t, b, c] == 1:
                ref_mse[t, b, c] = -(n - target) / T
                ref_ec[t, b, c] = -(n - target) / T / n  # n > 0 here: the neuron spiked
torch.testing.assert_close(clipped_counts(o, n_hat, n_d=N_D, n_u=N_U), ref_n, rtol=0, atol=0)  # clipping sides
g_mse = timing_grad(o, n_hat, loss=mse_counting_loss, n_d=N_D, n_u=N_U)
g_ec = timing_grad(o, n_hat, loss=enhanced_counting_loss, n_d=N_D, n_u=N_U)
torch.testing.assert_close(g_mse, ref_mse, rtol=1e-12, atol=1e-14)  # MSE counting loss, per spike
torch.testing.assert_close(g_ec, ref_ec, rtol=1e-12, atol=1e-14)  # enhanced counting loss, per spike
assert (g_ec[o == 0] == 0).all()  # only existing spikes move
# the cases are all present: label above n_d (no gradient), label below n_d (advance), others above n_u (delay)
assert g_ec[:, 0, 0].abs().sum() == 0 and (g_ec[:, 1, 3] == 0).all() and (g_ec[:, 2, 2].sum() > 0)
assert (g_ec[:, 0, 2].sum() < 0) and (g_ec[:, 1, 1].sum() < 0)
assert (g_ec[:, 3, 1] == 0).all() and not g_ec.isnan().any()  # a silent label neuron: nothing to move, no NaN
# clipping stops the count's gradient where the count is clipped (a neuron past its target passes none to its spikes)
o_req = o.clone().requires_grad_(True)
n_c = clipped_counts(o_req, n_hat, n_d=N_D, n_u=N_U)
assert n_c.requires_grad  # catches detached counts
n_c.sum().backward()
unclipped = (ref_n == counts.double()).double()
torch.testing.assert_close(o_req.grad, unclipped.expand(T, B, C), rtol=0, atol=0)  # d n / d o = 1 unless clipped

# %% [markdown]
# **Claim 3 (overall gradient per neuron).** Summed over the spikes of one neuron, the enhanced counting loss gives
# $\sum_k \partial L_{\text{EC}}/\partial t_k = -(n_i - \hat n_i)/T$, independent of how many spikes there are, while the
# mean-square counting loss gives $-n_i(n_i - \hat n_i)/T$: equal at one spike, $n_i$ times larger beyond, so the
# delaying push of over-active non-label neurons grows quadratically with their activity and can swamp the advancing
# push of the label neuron (the paper argues that a loss should leave adequate positive overall gradient).

# %%  catches: a per-spike gradient not divided by n (then the sum scales with n), wrong T
ns = list(range(1, T + 1))
tot_ec, tot_mse = [], []
for k in ns:
    ok = torch.zeros(T, 1, 2)
    ok[:k, 0, 0] = 1.0  # label neuron with k spikes
    ok[: T - k, 0, 1] = 1.0  # another neuron with T - k spikes
    nh = torch.tensor([[N_D, N_U]])
    ge = timing_grad(ok, nh, loss=enhanced_counting_loss, n_d=N_D, n_u=N_U).sum(0)[0]
    gm = timing_grad(ok, nh, loss=mse_counting_loss, n_d=N_D, n_u=N_U).sum(0)[0]
    n_lab, n_oth = min(k, N_D), max(T - k, N_U)
    assert math.isclose(ge[0].item(), -(n_lab - N_D) / T, abs_tol=1e-14)  # label: -(n - n_d)/T for any n
    assert math.isclose(gm[0].item(), -k * (n_lab - N_D) / T, abs_tol=1e-14)  # MSE: scales with the spike count
    if T - k > 0:
        assert math.isclose(ge[1].item(), -(n_oth - N_U) / T, abs_tol=1e-14)  # other neuron, same rule
    tot_ec.append(ge[0].item()); tot_mse.append(gm[0].item())
assert math.isclose(tot_ec[0], (N_D - 1) / T, rel_tol=1e-12) and math.isclose(tot_mse[0], tot_ec[0], rel_tol=1e-12)  # one spike: equal
assert all(m > e for m, e in zip(tot_mse[1:6], tot_ec[1:6]))  # below n_d the MSE total is n times the EC one

fig, ax = plt.subplots(1, 2, figsize=(10, 3))
ax[0].plot(ns, tot_ec, "o-", label="enhanced counting")
ax[0].plot(ns, tot_mse, "s-", label="mean-square counting")
ax[0].axvline(N_D, color="gray", lw=0.8)
ax[0].set_xlabel("spikes of the label neuron $n$"); ax[0].set_ylabel(r"$\sum_k \partial L/\partial t_k$"); ax[0].legend(fontsize=8)
ax[1].plot(grid, L_grid, label=r"$L_{EC}(n)$, $\hat n = 7$")
ax[1].set_xlabel("$n$"); ax[1].legend(fontsize=8)
plt.tight_layout(); plt.show()

# %% [markdown]
# Verified: per-spike timing gradients of the mean-square and enhanced counting losses equal the closed forms computed
# by loops (including the one-sided clipping and silence at non-spike steps), both losses match their closed forms
# and finite-difference derivatives, $L_{\text{EC}}$ is convex with its minimum at the target count, and its overall
# gradient per neuron is $-(n - \hat n)/T$ independent of the spike count, unlike the mean-square counting loss.
