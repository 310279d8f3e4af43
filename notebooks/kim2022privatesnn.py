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
# # PrivateSNN: converting an ANN to an SNN without its training data (Kim et al., AAAI 2022)
# Synthesise inputs from the trained ANN alone ("data impressions", with soft labels that follow the similarity of the
# classes), and use them instead of the private training set to calibrate the ANN-to-SNN conversion.

# %%
import itertools
import math

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from snnref.models.privatesnn import class_similarity, data_impressions, soft_cross_entropy
from snnref.neuron import if_step, multi_step
from snnref.surrogate import atan_spike, heaviside

torch.manual_seed(0)
torch.set_num_threads(1)
dt = torch.float64

# %% [markdown]
# **Claim 1 (class similarity and the soft target loss).** $\beta_{kj}$ is the cosine similarity of the last-layer
# weight vectors, min-max normalised per row (floored at $\epsilon$ so that it is a valid Dirichlet concentration):
# each row has its maximum 1 on the diagonal and its minimum $\epsilon$. The soft cross-entropy with temperature $\tau$
# has the gradient $\partial\mathcal{L}/\partial z = (\mathrm{softmax}(z/\tau) - y)/(\tau B)$.

# %%  catches: similarity not normalised per row, missing temperature, gradient of the wrong sign
Wl = torch.randn(5, 8, dtype=dt)
beta = class_similarity(Wl)
assert beta.shape == (5, 5)  # catches: the row minimum returned in place of the shifted matrix ([K, 1])
for k, j in itertools.product(range(5), range(5)):
    cos = lambda a, b: (Wl[a] @ Wl[b]) / (Wl[a].norm() * Wl[b].norm())
    row = [cos(k, m).item() for m in range(5)]
    ref = (row[j] - min(row)) / (max(row) - min(row))
    assert abs(beta[k, j].item() - max(ref, 1e-3)) < 1e-12
torch.testing.assert_close(beta.diagonal(), torch.ones(5, dtype=dt), rtol=0, atol=1e-12)  # a class is most like itself
assert bool((beta.min(dim=1).values == 1e-3).all())  # the floor keeps Dirichlet concentrations positive
# the concentrations stay differentiable in the weights (autograd vs central finite differences)
Wg = Wl.clone().requires_grad_(True)
assert class_similarity(Wg).requires_grad  # catches: a detached similarity matrix
assert torch.autograd.gradcheck(lambda w: class_similarity(w), (Wg,), eps=1e-6, atol=1e-7)

z = torch.randn(4, 5, dtype=dt, requires_grad=True)
y = torch.distributions.Dirichlet(beta[2]).sample((4,))
tau = 20.0
loss_zy = soft_cross_entropy(z, y, tau=tau)
assert loss_zy.requires_grad  # catches: a detached loss (the impressions could not be optimised)
loss_zy.backward()
torch.testing.assert_close(z.grad, (torch.softmax(z.detach() / tau, 1) - y) / (tau * 4), rtol=1e-12, atol=1e-14)

# %% [markdown]
# **Claim 2 (data-free conversion, toy scale).** Train a small ReLU network on a synthetic 3-class problem; then, with
# no access to the data, generate 60 data impressions per class from the network alone. The network's decision on
# each impression agrees with the argmax of its sampled soft label, and an SNN converted with thresholds set from the impressions (IF neurons with soft reset from the
# core, $V_{th}^l$ = the largest ReLU activation of layer $l$ on the impressions, $T = 200$) matches the ANN's accuracy
# on held-out real data to within 3 points, like the conversion calibrated on real data.

# %%  catches: impressions that ignore the target, thresholds that do not follow the impressions
g = torch.Generator().manual_seed(1)
centers = torch.tensor([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]], dtype=dt)


def real_data(n):
    yy = torch.randint(0, 3, (n,), generator=g)
    return centers[yy] + 0.7 * torch.randn(n, 2, dtype=dt, generator=g), yy


x_tr, y_tr = real_data(600)
x_te, y_te = real_data(600)
W1 = (torch.randn(16, 2, dtype=dt, generator=g) * 0.5).requires_grad_(True)
W2 = (torch.randn(3, 16, dtype=dt, generator=g) * 0.5).requires_grad_(True)
ann = lambda x: torch.relu(x @ W1.T) @ W2.T  # noqa: E731 (bias-free, as is usual for conversion)
opt = torch.optim.Adam([W1, W2], lr=0.05)
for _ in range(300):
    loss = F.cross_entropy(ann(x_tr), y_tr)
    opt.zero_grad(); loss.backward(); opt.step()
W1, W2 = W1.detach(), W2.detach()
ann_acc = (ann(x_te).argmax(1) == y_te).double().mean().item()

beta = class_similarity(W2)
cls = torch.arange(3).repeat_interleave(60)
targets = torch.stack([torch.distributions.Dirichlet(beta[k]).sample() for k in cls.tolist()])
x_syn = data_impressions(ann, targets, torch.randn(180, 2, dtype=dt, generator=g) * 0.1, steps=150, lr=0.05)
assert not x_syn.requires_grad  # catches: samples returned still attached to the optimiser's graph
syn_acc = (ann(x_syn).argmax(1) == targets.argmax(1)).double().mean().item()  # matches its sampled soft label


def snn_accuracy(x_calib):
    v1 = torch.relu(x_calib @ W1.T).max()  # threshold = largest activation on the calibration inputs
    spikes, _ = multi_step(if_step, (x_te @ W1.T)[None].expand(200, -1, -1).clone(), v_th=v1.item(), v_reset=None,
                           spike_fn=heaviside)
    rate = spikes.mean(0) * v1  # rate-coded activation of the hidden layer
    return ((rate @ W2.T).argmax(1) == y_te).double().mean().item()


acc_syn, acc_real = snn_accuracy(x_syn), snn_accuracy(x_tr)
print(f"ANN {ann_acc:.3f}  impressions matching their soft label {syn_acc:.3f}  SNN (impressions) {acc_syn:.3f}  SNN (real) {acc_real:.3f}")
assert ann_acc > 0.9
assert syn_acc > 0.9  # the impressions carry the class information
assert acc_syn >= ann_acc - 0.03 and acc_real >= ann_acc - 0.03  # data-free conversion works as well as with data

# %% [markdown]
# **Claim 3 (the IF neuron used for the conversion).** With soft reset, threshold $V_{th}$ and a constant input
# $0 \le c \le V_{th}$ from $V_0 = 0$, the IF neuron ($H_t = V_{t-1} + c$, $S_t = [H_t \ge V_{th}]$, $V_t = H_t - V_{th}S_t$) has fired
# $\lfloor t c / V_{th} \rfloor$ spikes after $t$ steps and holds $V_t = t c - V_{th}\lfloor t c/V_{th}\rfloor$: the
# spike count is the rate code of the ReLU activation. With a surrogate spike function the step is differentiable:
# $\partial S_t/\partial X_t = g'(H_t - V_{th})$ and $\partial V_t/\partial X_t = 1 - V_{th}\,g'(H_t - V_{th})$.

# %%  catches: wrong threshold sign or missing threshold, reset by + or no reset, `>` instead of `>=`, detached charge/fire/reset
v_th = 0.75  # not 1: a threshold of 1 hides a missing threshold against a `x >= 1` step
ks = torch.tensor([0, 3, 4, 6, 8, 11, 12], dtype=dt)  # c <= V_th: at most one spike per step
cs = ks / 16  # multiples of 1/16 (V_th = 12/16): H_t is exact and hits V_th exactly (tests >=)
Tn = 16
spk, vs = multi_step(if_step, cs[None].expand(Tn, -1).clone(), v_th=v_th, v_reset=None, spike_fn=heaviside)
for t in range(1, Tn + 1):
    count = torch.div(t * ks, 12, rounding_mode="floor")  # floor(t c / V_th) in integer units of 1/16
    torch.testing.assert_close(spk[:t].sum(0), count, rtol=0, atol=0)
    torch.testing.assert_close(vs[t - 1], t * cs - v_th * count, rtol=0, atol=1e-12)

# one step with the surrogate: autograd against the analytic derivative
v0 = torch.tensor([0.1, 0.3, 0.6, -0.2], dtype=dt)
xg = torch.tensor([0.2, 0.45, 0.3, 0.5], dtype=dt, requires_grad=True)
alpha = 3.0  # not 2: at alpha=2, alpha/2 == 1
s1, v1n = if_step(xg, v0, v_th=v_th, v_reset=None, spike_fn=lambda u: atan_spike(u, alpha))
assert s1.requires_grad and v1n.requires_grad  # catches: a detached charge, fire or reset
gs, = torch.autograd.grad(s1.sum(), xg, retain_graph=True)
gv, = torch.autograd.grad(v1n.sum(), xg)
u = v0 + xg.detach() - v_th
sg = (alpha / 2) / (1 + (math.pi * alpha * u / 2) ** 2)  # arctan surrogate g'(u), written out
torch.testing.assert_close(gs, sg, rtol=1e-12, atol=0)
torch.testing.assert_close(gv, 1 - v_th * sg, rtol=1e-12, atol=0)

# %%
plt.figure(figsize=(4.5, 4))
plt.scatter(x_tr[:, 0], x_tr[:, 1], c=y_tr, s=6, alpha=0.3, cmap="viridis", label="real (never used)")
plt.scatter(x_syn[:, 0], x_syn[:, 1], c=cls, marker="x", s=25, cmap="viridis", label="data impressions")
plt.legend(); plt.tight_layout()
plt.show()

# %% [markdown]
# Verified: the class-similarity concentrations equal their definition (per-row min-max normalised cosine, floored),
# the tempered soft cross-entropy has the analytic gradient, and on a toy problem data impressions synthesised from the
# ANN alone follow their sampled soft labels and calibrate an IF-neuron SNN conversion as well as real data do; the
# soft-reset IF neuron's spike count and residual potential equal their closed forms, and its surrogate gradients
# equal the analytic ones.
