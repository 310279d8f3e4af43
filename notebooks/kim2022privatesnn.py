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
from snnref.surrogate import heaviside

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
for k, j in itertools.product(range(5), range(5)):
    cos = lambda a, b: (Wl[a] @ Wl[b]) / (Wl[a].norm() * Wl[b].norm())
    row = [cos(k, m).item() for m in range(5)]
    ref = (row[j] - min(row)) / (max(row) - min(row))
    assert abs(beta[k, j].item() - max(ref, 1e-3)) < 1e-12
torch.testing.assert_close(beta.diagonal(), torch.ones(5, dtype=dt), rtol=0, atol=1e-12)  # a class is most like itself
assert bool((beta.min(dim=1).values == 1e-3).all())  # the floor keeps Dirichlet concentrations positive

z = torch.randn(4, 5, dtype=dt, requires_grad=True)
y = torch.distributions.Dirichlet(beta[2]).sample((4,))
tau = 20.0
soft_cross_entropy(z, y, tau=tau).backward()
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

# %%
plt.figure(figsize=(4.5, 4))
plt.scatter(x_tr[:, 0], x_tr[:, 1], c=y_tr, s=6, alpha=0.3, cmap="viridis", label="real (never used)")
plt.scatter(x_syn[:, 0], x_syn[:, 1], c=cls, marker="x", s=25, cmap="viridis", label="data impressions")
plt.legend(); plt.tight_layout()
plt.show()

# %% [markdown]
# Verified: the class-similarity concentrations equal their definition (per-row min-max normalised cosine, floored),
# the tempered soft cross-entropy has the analytic gradient, and on a toy problem data impressions synthesised from the
# ANN alone follow their sampled soft labels and calibrate an IF-neuron SNN conversion as well as real data do.
