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
# # Equilibrium Propagation (Scellier & Bengio, Frontiers in Computational Neuroscience 2017)
# Two relaxations of one energy-based network, free and weakly nudged, give the loss gradient through a local rule.

# %%
import math

import matplotlib.pyplot as plt
import torch

from snnref.neuro.equilibrium_propagation import ep_update, hard_sigmoid, relax, total_energy

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)  # tiny tensors: thread start-up would dominate the run time
gen = torch.Generator().manual_seed(5)
N_IN, N_HID, N_OUT, B = 3, 4, 2, 2
N = N_IN + N_HID + N_OUT
A = 0.6 * torch.randn(N, N, generator=gen)
A[:N_IN, :N_IN] = 0.0  # no input-input couplings (they are constant anyway)


def sym(a):
    """Symmetric, zero-diagonal W from the free parameters above the diagonal."""
    u = torch.triu(a, 1)
    return u + u.T


W = sym(A)
b = 0.3 * torch.randn(N_HID + N_OUT, generator=gen) + 0.2
x = torch.rand(B, N_IN, generator=gen)
d = torch.tensor([[0.8, 0.15], [0.2, 0.7]])
RELAX = dict(n_out=N_OUT, eps=0.6, steps=150)


def fixed_point(W, b, beta, rho, s0=None):
    s0 = torch.full((B, N_HID + N_OUT), 0.5) if s0 is None else s0
    return relax(s0, x, d, W=W, b=b, beta=beta, rho=rho, **RELAX)


def loss(s):
    """J = batch mean of C = 1/2 |s_out - d|^2 at the free fixed point."""
    return 0.5 * ((s[:, -N_OUT:] - d) ** 2).sum(-1).mean()


def implicit_gradient(a, b, rho):
    """dJ/d(a, b) by implicit differentiation at the free fixed point (independent of EP)."""
    s0 = fixed_point(sym(a), b, 0.0, rho)
    s = s0.clone().requires_grad_(True)
    flat = lambda v: total_energy(v.view(B, -1), x, d, W=sym(a), b=b, beta=0.0, n_out=N_OUT, rho=rho).sum()
    H = torch.autograd.functional.hessian(flat, s.reshape(-1))
    (dj,) = torch.autograd.grad(loss(s), s)
    lam = torch.linalg.solve(H, dj.reshape(-1)).view(B, -1)
    a_, b_ = a.clone().requires_grad_(True), b.clone().requires_grad_(True)
    (gs,) = torch.autograd.grad(total_energy(s, x, d, W=sym(a_), b=b_, beta=0.0, n_out=N_OUT, rho=rho).sum(), s,
                                create_graph=True)
    ga, gb = torch.autograd.grad(-(gs * lam).sum(), (a_, b_))
    return ga, gb, s0


# %% [markdown]
# **Claim 1.** The total energy is, per sample,
# $F = \frac12\sum_i s_i^2 - \frac12\sum_{ij}\rho(u_i)W_{ij}\rho(u_j) - \sum_i b_i\rho(s_i)
# + \frac\beta2\sum_{o}(s_o - d_o)^2$
# (Section 2), written here as plain loops; leading batch dimensions are kept apart. One relaxation step is
# $s \leftarrow s - \epsilon\,[\,s - \rho'(s)\odot((W\rho(u))_s + b) + \beta\,(s - d)_{out}\,]$, with the gradient
# written out by hand, on a second tiny network (4 inputs, 4 free units, 1 output, batch [3, 4]).

# %%
g2 = torch.Generator().manual_seed(8)
n_in2, n_free2, n_out2, K2, B2 = 4, 4, 1, 3, 4  # [K, B, N] with B = N: a sum over the wrong axis broadcasts
W2 = sym(0.7 * torch.randn(n_in2 + n_free2, n_in2 + n_free2, generator=g2))
b2 = 0.4 * torch.randn(n_free2, generator=g2)
x2 = torch.rand(K2, B2, n_in2, generator=g2)
d2 = torch.rand(K2, B2, n_out2, generator=g2)
s2 = torch.rand(K2, B2, n_free2, generator=g2)
sg = lambda v: 1 / (1 + math.exp(-v))
beta2 = 0.43
F2 = total_energy(s2, x2, d2, W=W2, b=b2, beta=beta2, n_out=n_out2, rho=torch.sigmoid)
assert F2.shape == (K2, B2), F2.shape  # catches a sum over the wrong (batch) axis
for k in range(K2):
    for n in range(B2):
        u = x2[k, n].tolist() + s2[k, n].tolist()
        r = [sg(v) for v in u]
        e = 0.5 * sum(v * v for v in s2[k, n].tolist())
        e -= 0.5 * sum(r[i] * W2[i, j].item() * r[j] for i in range(len(u)) for j in range(len(u)))
        e -= sum(b2[i].item() * sg(s2[k, n, i].item()) for i in range(n_free2))
        e += 0.5 * beta2 * sum((s2[k, n, n_free2 - n_out2 + o].item() - d2[k, n, o].item()) ** 2 for o in range(n_out2))
        # catches: a wrong 1/2, b or beta term dropped, the cost on the wrong units, sums over the wrong axis
        assert math.isclose(F2[k, n].item(), e, rel_tol=1e-12), (k, n, F2[k, n].item(), e)
eps2 = 0.37
for steps in (1, 2):
    s_ref = s2.clone()
    for _ in range(steps):
        r = torch.sigmoid(torch.cat([x2, s_ref], -1))
        grad = s_ref - torch.sigmoid(s_ref) * (1 - torch.sigmoid(s_ref)) * ((r @ W2)[..., n_in2:] + b2)
        grad[..., -n_out2:] += beta2 * (s_ref[..., -n_out2:] - d2)
        s_ref = s_ref - eps2 * grad
    s_rel = relax(s2, x2, d2, W=W2, b=b2, beta=beta2, n_out=n_out2, eps=eps2, steps=steps, rho=torch.sigmoid)
    # catches: inputs and free units swapped, ascent instead of descent, eps or steps ignored
    torch.testing.assert_close(s_rel, s_ref, rtol=0, atol=1e-12)

# %% [markdown]
# **Claim 2.** The free fixed point satisfies the paper's leaky-integrator equilibrium
# $s = \rho'(s)\,(W\rho(u) + b)$, i.e. $\partial E/\partial s = 0$. The nudged one satisfies
# $s_{out} = \rho'(s_{out})(W\rho(u) + b)_{out} + \beta(d - s_{out})$. Both are written here from the definition of
# $E$ and $C$, without autograd. A smooth $\rho$ (logistic) makes $\rho'$ matter; with the paper's hard sigmoid the
# fixed point here lies inside $(0, 1)$.

# %%
for rho, drho in ((torch.sigmoid, lambda v: torch.sigmoid(v) * (1 - torch.sigmoid(v))),
                  (hard_sigmoid, lambda v: ((v > 0) & (v < 1)).to(v.dtype))):
    for beta in (0.0, 0.37):
        s = fixed_point(W, b, beta, rho)
        field = (rho(torch.cat([x, s], -1)) @ W)[:, N_IN:] + b
        rhs = drho(s) * field
        rhs[:, -N_OUT:] += beta * (d - s[:, -N_OUT:])
        # catches: a missing 1/2 on the W term (doubles the field), b dropped, wrong sign of the cost term
        torch.testing.assert_close(s, rhs, rtol=0, atol=1e-10)
    if rho is hard_sigmoid:  # some units sit at 0, where rho' = 0; the others lie inside (0, 1)
        assert bool(((s > 0.02) & (s < 0.98)).sum() >= 6), s

# the paper's rho itself: clip to [0, 1]; catches a wrong clip range
torch.testing.assert_close(hard_sigmoid(torch.tensor([-0.3, 0.4, 1.7])), torch.tensor([0.0, 0.4, 1.0]))

# %% [markdown]
# **Claim 3 (Theorem 1).** As $\beta \to 0$, the EP rule $\frac{1}{\beta}(\rho^\beta\rho^{\beta\top} - \rho^0\rho^{0\top})$
# tends to $-\partial J/\partial W$, and $\frac1\beta(\rho(s^\beta) - \rho(s^0))$ to $-\partial J/\partial b$. The
# exact gradient comes from implicit differentiation, itself checked by finite differences of $J$. The error
# of the one-sided estimate shrinks linearly in $\beta$.

# %%
rho = torch.sigmoid
ga, gb, s_free = implicit_gradient(A, b, rho)
# finite differences of J on a few coordinates: checks the oracle itself
for (i, j) in ((0, 4), (3, 7), (5, 8)):
    h = 1e-5
    ap, am = A.clone(), A.clone()
    ap[i, j] += h
    am[i, j] -= h
    fd = (loss(fixed_point(sym(ap), b, 0.0, rho)) - loss(fixed_point(sym(am), b, 0.0, rho))) / (2 * h)
    assert math.isclose(fd.item(), ga[i, j].item(), rel_tol=1e-5, abs_tol=1e-9), (i, j, fd, ga[i, j])

grad_true = torch.cat([torch.triu(ga, 1)[N_IN:].reshape(-1), torch.triu(ga, 1)[:N_IN].reshape(-1), gb])
betas = [0.2, 0.1, 0.05, 0.025, 0.0125, 1e-3]
errs = []
for beta in betas:
    s_nudged = fixed_point(W, b, beta, rho, s0=s_free)
    dW, db = ep_update(s_free, s_nudged, x, beta=beta, rho=rho)
    est = -torch.cat([torch.triu(dW, 1)[N_IN:].reshape(-1), torch.triu(dW, 1)[:N_IN].reshape(-1), db])
    errs.append((est - grad_true).norm().item() / grad_true.norm().item())
print("relative error vs beta:", [f"{e:.2e}" for e in errs])
for e1, e2 in zip(errs[:4], errs[1:5]):
    assert 0.4 < e2 / e1 < 0.6, errs  # first-order convergence; catches a wrong 1/beta scaling (error would not vanish)
assert errs[-1] < 5e-3, errs  # catches: sign flip of dW/db, rho'(s) dropped, b-rule using s instead of rho(s)

s_nudged = fixed_point(W, b, 0.05, rho, s0=s_free)
dW, _ = ep_update(s_free, s_nudged, x, beta=0.05, rho=rho)
torch.testing.assert_close(dW, dW.T)  # the rule is symmetric ...
assert torch.all(torch.diagonal(dW) == 0)  # ... and makes no self-connections
try:
    ep_update(s_free, s_nudged, x, beta=0.0)
    raise AssertionError("beta = 0 accepted")
except ValueError as e:
    assert "beta" in str(e)

# %% [markdown]
# **Claim 4.** Following the EP rule lowers the loss. Twelve steps of $\theta \leftarrow \theta + \eta\,\Delta\theta$
# with $\beta = 0.05$ reduce $J$ on the toy batch, like gradient descent does.

# %%
a_t, b_t, hist = A.clone(), b.clone(), []
for it in range(12):
    s0 = fixed_point(sym(a_t), b_t, 0.0, rho)
    hist.append(loss(s0).item())
    sb = fixed_point(sym(a_t), b_t, 0.05, rho, s0=s0)
    dW, db = ep_update(s0, sb, x, beta=0.05, rho=rho)
    a_t = a_t + 1.5 * torch.triu(dW, 1)
    a_t[:N_IN, :N_IN] = 0.0
    b_t = b_t + 1.5 * db
assert hist[-1] < 0.5 * hist[0], (hist[0], hist[-1])  # catches an update with the wrong sign (loss would rise)

fig, ax = plt.subplots(1, 2, figsize=(9, 3.2))
ax[0].loglog(betas, errs, "o-")
ax[0].set(xlabel="beta", ylabel="relative error of EP gradient")
ax[1].plot(hist)
ax[1].set(xlabel="EP step", ylabel="J")
plt.tight_layout()
plt.show()

# %% [markdown]
# Verified: the relaxed states are the fixed points of the paper's dynamics (free and nudged, smooth and hard
# sigmoid); the local EP update converges linearly in $\beta$ to the exact gradient obtained by implicit
# differentiation (itself confirmed by finite differences); it is symmetric, has no self-connections, and
# training with it lowers the loss.
