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
# # Lottery tickets in SNNs and the Early-Time ticket (Kim et al., ECCV 2022)
# Iterative magnitude pruning with rewinding finds sparse "winning tickets" in SNNs; searching for them with fewer
# time steps (the Early-Time ticket) finds nearly the same connectivity at a fraction of the cost.

# %%
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from snnref.models.lottery_ticket import magnitude_prune_mask, rewind
from snnref.neuron import lif_step, multi_step

torch.manual_seed(0)
torch.set_num_threads(1)  # tiny tensors: threading only adds overhead
dt = torch.float64

# %% [markdown]
# **Claim 1 (the IMP step).** One pruning round removes the fraction $p$ of the *surviving* weights with the smallest
# magnitude: the new mask is nested in the old one, its density after $k$ rounds is $(1-p)^k$, every removed weight is
# no larger than every kept one, and rewinding gives $\theta_0 \odot m$. Checked against a brute-force sort.

# %%  catches: pruning among all weights instead of survivors, keeping the smallest, wrong count
w = torch.randn(6, 10, dtype=dt)
m = torch.ones_like(w)
for k in range(1, 4):
    new = magnitude_prune_mask(w, m, p=0.4)
    alive = sorted(w[m.bool()].abs().tolist())
    n_remove = round(0.4 * len(alive))
    assert int(new.sum()) == len(alive) - n_remove  # the count of surviving weights
    assert bool((new <= m).all())  # nested masks: a pruned weight never comes back
    assert w[new.bool()].abs().min() >= alive[n_remove - 1]  # kept >= every removed surviving weight
    assert sorted(w[(m - new).bool()].abs().tolist()) == alive[:n_remove]  # removed = the smallest survivors
    m = new
assert abs(m.mean().item() - 0.6**3) < 0.02  # density (1 - p)^k up to rounding
w0 = torch.randn(6, 10, dtype=dt)
torch.testing.assert_close(rewind(w0, m), torch.where(m.bool(), w0, torch.zeros_like(w0)), rtol=0, atol=0)
w0g = w0.clone().requires_grad_(True)
rw = rewind(w0g, m)
assert rw.requires_grad  # catches: a detached rewind (the ticket's weights would not train from theta_0)
rw.sum().backward()
torch.testing.assert_close(w0g.grad, m, rtol=0, atol=0)  # d(theta_0 * m)/d theta_0 = m: pruned weights get nothing
for bad in (-0.1, 1.0):
    try:
        magnitude_prune_mask(w, m, p=bad)
        raise AssertionError("p out of range must be rejected")
    except ValueError:
        pass

# %% [markdown]
# **Claim 2 (winning ticket and Early-Time ticket, toy scale).** A LIF readout (core `lif_step`, surrogate gradient)
# classifies synthetic data in which only 6 of 32 inputs carry the label. IMP (2 rounds, $p = 0.5$, rewinding) with
# $T = 8$ finds a 25 %-dense ticket that, rewound and retrained, matches the dense accuracy; the ET search with
# $T_{search} = 2$ finds a largely overlapping mask (Jaccard $\ge 0.5$, against about $0.14$ for two random masks of
# this density) and an equally good ticket, and both keep
# almost all informative inputs, unlike a random mask of the same density.

# %%  catches: a mask that keeps the smallest weights, rewinding to trained values, search not reusing W0
D, n_inf = 32, 6


def make(n):
    y = torch.randint(0, 2, (n,))
    x = torch.randn(n, D, dtype=dt)
    x[:, :n_inf] += (2 * y[:, None] - 1) * 1.0
    return x, y


xtr, ytr = make(256)
xte, yte = make(1024)


def rate(W, x, T):
    cur = x @ W.T  # [B, 2] constant input current
    s, _ = multi_step(lif_step, cur[None].expand(T, -1, -1), tau=2.5, v_th=1.0)
    return s.mean(0)


def train(W_start, mask, T, steps=60):
    W = W_start.clone().requires_grad_(True)
    opt = torch.optim.Adam([W], lr=0.1)
    for _ in range(steps):
        loss = F.cross_entropy(5 * rate(W * mask, xtr, T), ytr)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return (W * mask).detach()


def acc(W, T=8):
    return (rate(W, xte, T).argmax(1) == yte).double().mean().item()


# the readout neuron is the core LIF (tau = 2.5, threshold 1, hard reset to 0), checked against a loop ...
Wc = torch.randn(2, D, dtype=dt) * 0.45
cur_c = xtr[:50] @ Wc.T
v_ref, s_ref = torch.zeros(50, 2, dtype=dt), []
for t in range(8):
    v_ref = v_ref + (cur_c - v_ref) / 2.5
    fired = (v_ref >= 1.0).to(dt)
    v_ref = v_ref * (1 - fired)
    s_ref.append(fired)
torch.testing.assert_close(rate(Wc, xtr[:50], 8), torch.stack(s_ref).mean(0), rtol=0, atol=0)  # catches: wrong neuron
assert 0 < torch.stack(s_ref).mean() < 1 and (torch.stack(s_ref).mean(0) % 1 != 0).any()  # partial rates occur
# ... and trained by its surrogate gradient (ATan, alpha = 2: g'(u) = 1 / (1 + (pi u)^2)); over T = 2 steps with a
# constant current c: dS_1/dc = g'(z_1)/tau and dS_2/dc = g'(z_2)((1 - 1/tau) dV_1/dc + 1/tau), where
# dV_1/dc = ((1 - S_1) - H_1 g'(z_1))/tau carries the gradient through the hard reset
Wg = Wc.clone().requires_grad_(True)
r2 = rate(Wg, xtr[:50], 2)
assert r2.requires_grad  # catches: a detached charge or spike
cl = torch.randn(50, 2, dtype=dt)
(r2 * cl).sum().backward()
sg = lambda u: 1 / (1 + (torch.pi * u) ** 2)  # noqa: E731
h1 = cur_c / 2.5
s1 = (h1 >= 1.0).to(dt)
h2 = h1 * (1 - s1) * (1 - 1 / 2.5) + cur_c / 2.5
dv1 = ((1 - s1) - h1 * sg(h1 - 1.0)) / 2.5
drate = (sg(h1 - 1.0) / 2.5 + sg(h2 - 1.0) * ((1 - 1 / 2.5) * dv1 + 1 / 2.5)) / 2
torch.testing.assert_close(Wg.grad, (cl * drate).T @ xtr[:50], rtol=1e-10, atol=1e-12)  # catches: reset cut from graph
assert 0 < s1.sum() < s1.numel()


W0 = torch.randn(2, D, dtype=dt) * 0.3
ones = torch.ones_like(W0)


def imp(T_search, rounds=2, p=0.5):
    mask, trained = ones.clone(), []
    for _ in range(rounds):
        W = train(rewind(W0, mask), mask, T_search)
        trained.append(W)
        mask = magnitude_prune_mask(W, mask, p=p)
    return mask, trained[0]


m_imp, W_dense = imp(8)
m_et, _ = imp(2)
dense_acc = acc(W_dense)
ticket_acc = acc(train(rewind(W0, m_imp), m_imp, 8))
et_acc = acc(train(rewind(W0, m_et), m_et, 8))
g = torch.Generator().manual_seed(5)
m_rand = (torch.rand(2 * D, generator=g, dtype=dt).argsort() < int(m_imp.sum())).to(dt).view(2, D)
rand_acc = acc(train(rewind(W0, m_rand), m_rand, 8))
jaccard = ((m_imp * m_et).sum() / ((m_imp + m_et) > 0).sum()).item()
print(f"dense {dense_acc:.3f}  IMP ticket {ticket_acc:.3f}  ET ticket {et_acc:.3f}  random {rand_acc:.3f}  J {jaccard:.2f}")

assert m_imp.mean().item() == m_et.mean().item() == 0.25
assert dense_acc > 0.9  # the task is learnable
assert ticket_acc >= dense_acc - 0.02 and et_acc >= dense_acc - 0.02  # winning tickets
assert jaccard >= 0.5  # far above the ~0.14 overlap of two random masks of density 0.25
assert m_imp[:, :n_inf].mean().item() >= 0.8 and m_et[:, :n_inf].mean().item() >= 0.8  # informative inputs kept
assert rand_acc < ticket_acc - 0.05  # a random mask of the same density is worse

# %%
fig, ax = plt.subplots(1, 2, figsize=(10, 2.6))
for a, mask, name in ((ax[0], m_imp, "IMP mask, $T=8$"), (ax[1], m_et, "ET mask, $T_{search}=2$")):
    a.imshow(mask.numpy(), cmap="Greys", aspect="auto")
    a.axvline(n_inf - 0.5, color="r")
    a.set_title(name); a.set_xlabel("input (left of red line: informative)"); a.set_ylabel("output neuron")
plt.tight_layout()
plt.show()

# %% [markdown]
# Verified: the IMP step removes exactly the smallest surviving weights (nested masks, density $(1-p)^k$) and
# rewinding restores initial values; on a toy LIF classifier, IMP finds a 25 %-dense winning ticket, and the
# Early-Time search with 2 instead of 8 time steps finds a largely overlapping mask and an equally good ticket, both far
# better than a random mask of the same density.
