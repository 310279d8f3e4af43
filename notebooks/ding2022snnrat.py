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
# # SNN-RAT: regularized adversarial training (Ding et al., NeurIPS 2022)
# Adversarial training of SNNs with near-orthogonal weights, so no layer amplifies a perturbation of its input much.

# %%
import itertools
import math

import matplotlib.pyplot as plt
import torch

from snnref.models.snn_rat import fgsm, orthogonal_retraction, rate_bp_if
from snnref.neuron import if_step

torch.manual_seed(0)
torch.set_num_threads(1)  # tiny tensors: a thread pool only adds overhead
DT = torch.float64

# %% [markdown]
# **The core IF step.** The rate-approximation layer below runs the core `if_step`: charge $H = V + X$, fire
# $S = g(H - V_{th})$, hard reset $V' = H(1 - S) + V_{reset}S$. Checked here with a smooth stand-in $g(x) = \sigma(4x)$
# and $V_{reset} \ne 0$, value and gradient, against the formula written out.

# %%  catches (in the core): wrong charge, threshold sign, reset terms, a detached state
x0 = torch.tensor([0.2, 0.9, 1.6], dtype=DT, requires_grad=True)
v0 = torch.tensor([0.5, 0.4, -0.1], dtype=DT, requires_grad=True)
s, v1 = if_step(x0, v0, v_th=1.1, v_reset=-0.3, spike_fn=lambda u: torch.sigmoid(4.0 * u))
h = v0 + x0
s_ref = torch.sigmoid(4.0 * (h - 1.1))
v_ref = h * (1 - s_ref) - 0.3 * s_ref
torch.testing.assert_close(s, s_ref, rtol=1e-12, atol=0)
torch.testing.assert_close(v1, v_ref, rtol=1e-12, atol=0)
assert s.requires_grad and v1.requires_grad
g_mod = torch.autograd.grad((s * 1.3 + v1 * 0.7).sum(), (x0, v0))
g_ref = torch.autograd.grad((s_ref * 1.3 + v_ref * 0.7).sum(), (x0, v0))
for a, b in zip(g_mod, g_ref):
    torch.testing.assert_close(a, b, rtol=1e-12, atol=0)

# %% [markdown]
# **Claim 1.** The orthogonal retraction $W \leftarrow (1+\beta)W - \beta WW^\top W$ (official `orthogonal_retraction`,
# conv kernels flattened to rows) is one gradient step of size $\beta$ on $R(W) = \frac14\|WW^\top - I\|_F^2$.
# In the SVD $W = U\Sigma V^\top$ it maps each singular value $\sigma \mapsto (1+\beta)\sigma - \beta\sigma^3$ and keeps
# $U$, $V$: row-orthonormal matrices are fixed points and repeating it drives every singular value to 1, i.e. the
# layer's Lipschitz constant $\|W\|_2$ to 1.

# %%  catches: wrong sign or factor of the cubic term, W^T W instead of W W^T, conv kernels not flattened by rows
beta = 0.03
for shape in [(5, 7), (4, 3, 2, 2)]:
    W = torch.randn(*shape, dtype=DT) * 0.6
    Wr = W.clone().requires_grad_(True)
    M = Wr.reshape(shape[0], -1)
    R = 0.25 * ((M @ M.T - torch.eye(shape[0], dtype=DT)) ** 2).sum()
    (gR,) = torch.autograd.grad(R, Wr)
    torch.testing.assert_close(orthogonal_retraction(W, beta=beta), W - beta * gR, rtol=1e-12, atol=1e-14)
    # singular values map through the cubic, singular vectors are kept
    U, S, Vh = torch.linalg.svd(W.reshape(shape[0], -1), full_matrices=False)
    f = (1 + beta) * S - beta * S**3
    torch.testing.assert_close(orthogonal_retraction(W, beta=beta).reshape(shape[0], -1), U @ torch.diag(f) @ Vh,
                               rtol=1e-12, atol=1e-13)
Q, _ = torch.linalg.qr(torch.randn(7, 4, dtype=DT))
Wo = Q.T  # 4 orthonormal rows
torch.testing.assert_close(orthogonal_retraction(Wo, beta=0.2), Wo, rtol=0, atol=1e-14)  # fixed point
# the retraction is differentiable: its derivative along D is (1+b)D - b(D W^T W + W D^T W + W W^T D)
W = torch.randn(3, 5, dtype=DT)
D = torch.randn(3, 5, dtype=DT)
_, jvp = torch.func.jvp(lambda w: orthogonal_retraction(w, beta=beta), (W,), (D,))
torch.testing.assert_close(jvp, (1 + beta) * D - beta * (D @ W.T @ W + W @ D.T @ W + W @ W.T @ D), rtol=1e-12, atol=1e-13)
# repeated retraction: every singular value -> 1
W = torch.randn(6, 10, dtype=DT) * 0.5
trace = [torch.linalg.svdvals(W)]
for _ in range(300):
    W = orthogonal_retraction(W, beta=0.05)
    trace.append(torch.linalg.svdvals(W))
torch.testing.assert_close(trace[-1], torch.ones(6, dtype=DT), rtol=0, atol=1e-6)
for bad in (0.0, -0.1):  # catches: missing validation
    try:
        orthogonal_retraction(W, beta=bad)
        raise AssertionError(f"beta={bad} accepted")
    except ValueError:
        pass

# %% [markdown]
# **Claim 2.** FGSM, $x' = \mathrm{clip}_{[0,1]}(x + \epsilon\,\mathrm{sign}(\nabla_x\mathcal L))$, is the exact worst case
# in the $\ell_\infty$ ball for a linear logistic model: the loss $\log(1 + e^{-y(w^\top x + b)})$ grows with
# $-y\,w^\top\delta$, maximised over $\|\delta\|_\infty \le \epsilon$ at $\delta = -y\epsilon\,\mathrm{sign}(w)$.
# Oracle: brute force over all $2^8$ vertices of the ball. The result stays in $[0, 1]$ and is the identity map of $x$
# (derivative 1) where the clip is inactive.

# %%  catches: gradient sign flipped, eps scaling, missing clip, clip bounds swapped
d, eps = 8, 0.07
w_lin = torch.randn(d, dtype=DT)
b_lin = 0.2
x = 0.3 + 0.4 * torch.rand(d, dtype=DT)  # inside [0.3, 0.7]: the clip is inactive
for y_lab in (1.0, -1.0):
    def loss(z):
        return torch.nn.functional.softplus(-y_lab * (z @ w_lin + b_lin))
    xg = x.clone().requires_grad_(True)
    (gx,) = torch.autograd.grad(loss(xg), xg)
    x_adv = fgsm(x, gx, eps=eps)
    worst = max(loss(x + eps * torch.tensor(sgn, dtype=DT)).item() for sgn in itertools.product((-1.0, 1.0), repeat=d))
    assert math.isclose(loss(x_adv).item(), worst, rel_tol=1e-12)
    assert loss(x_adv).item() > loss(x).item() + 0.05
    torch.testing.assert_close((x_adv - x).abs(), torch.full((d,), eps, dtype=DT), rtol=1e-12, atol=0)
# near the borders the clip acts: stays in [0, 1]; derivative 1 inside, 0 where clipped
xb = torch.tensor([0.02, 0.5, 0.97, 0.99, 0.01, 0.4], dtype=DT, requires_grad=True)
gb = torch.tensor([-1.0, 2.0, 3.0, -0.5, 0.4, 0.0], dtype=DT)  # a zero gradient leaves its pixel alone
xa = fgsm(xb, gb, eps=0.05)
torch.testing.assert_close(xa, torch.tensor([0.0, 0.55, 1.0, 0.94, 0.06, 0.4], dtype=DT), rtol=0, atol=1e-15)
assert xa.requires_grad
(dx,) = torch.autograd.grad(xa.sum(), xb)
assert dx.tolist() == [0.0, 1.0, 0.0, 1.0, 1.0, 1.0]
try:
    fgsm(xb, gb, eps=-0.1)
    raise AssertionError("eps < 0 accepted")  # catches: missing validation
except ValueError:
    pass
assert torch.equal(fgsm(xb, gb, eps=0.0), xb.detach())  # eps = 0 is allowed and changes nothing

# %% [markdown]
# **Claim 3.** The rate approximation used to craft adversaries (BPTR, official `RateBp`): the forward pass is an IF
# layer (threshold 1, hard reset to 0); the backward pass treats it like a ReLU on the firing rate,
# $\partial\mathcal L/\partial x_t = \partial\mathcal L/\partial s_t \cdot [\bar s > 0]$ for every step $t$, so a neuron
# that never fires in the window passes no gradient. Oracle: an IF loop and the mask written out.

# %%  catches: wrong threshold or reset in the forward, mask over the wrong axis, gradient through silent neurons
T, B, N = 6, 3, 4
x_seq = (torch.rand(T, B, N, dtype=DT) * 0.7).requires_grad_(True)
with torch.no_grad():
    x_seq[:, 0, 0] = 0.1  # this neuron never reaches 1 in 6 steps: silent
    x_seq[:, 1, 2] = 0.55  # fires every second step
out = rate_bp_if(x_seq)
assert out.requires_grad
s_ref = torch.zeros(T, B, N, dtype=DT)
v = torch.zeros(B, N, dtype=DT)
for t in range(T):
    v = v + x_seq[t].detach()
    s_ref[t] = (v >= 1.0).to(DT)
    v = torch.where(s_ref[t] > 0, torch.zeros_like(v), v)
torch.testing.assert_close(out.detach(), s_ref, rtol=0, atol=0)
assert s_ref[:, 0, 0].sum() == 0 and s_ref[:, 1, 2].tolist() == [0, 1, 0, 1, 0, 1]
G = torch.randn(T, B, N, dtype=DT)
(gx,) = torch.autograd.grad((out * G).sum(), x_seq)
mask = (s_ref.sum(0) > 0).to(DT)  # [B, N]: fired at least once
torch.testing.assert_close(gx, G * mask, rtol=0, atol=0)
assert 0 < mask.sum() < B * N  # both kinds of neurons occur

# %%
fig, ax = plt.subplots(1, 3, figsize=(13, 3.4))
sig = torch.linspace(0, 1.6, 200, dtype=DT)
for bb in (0.05, 0.2, 0.5):
    ax[0].plot(sig, (1 + bb) * sig - bb * sig**3, label=rf"$\beta$={bb}")
ax[0].plot(sig, sig, "k:", lw=0.8); ax[0].set_xlabel(r"$\sigma$"); ax[0].set_ylabel(r"$\sigma'$")
ax[0].set_title("one retraction step on a singular value"); ax[0].legend()
ax[1].plot(torch.stack(trace).numpy()); ax[1].set_xlabel("retraction steps"); ax[1].set_ylabel("singular values")
ax[1].set_title(r"spectrum $\to 1$ ($\beta$=0.05)")
ax[2].imshow(mask.numpy(), cmap="Greys", vmin=0, vmax=1)
ax[2].set_title("BPTR passes gradient where the neuron fired"); ax[2].set_xlabel("neuron"); ax[2].set_ylabel("sample")
plt.tight_layout(); plt.show()

# %% [markdown]
# Verified: the core IF step against its formula; the orthogonal retraction equals a gradient step on
# $\frac14\|WW^\top - I\|_F^2$, acts on singular values by the cubic map, fixes orthonormal rows and drives the spectral
# norm to 1; FGSM is the exact $\ell_\infty$ worst case of a linear logistic model (brute force over all vertices) and
# clips to $[0, 1]$; the BPTR layer spikes like an IF loop and passes $g_t[\bar s > 0]$ back.
