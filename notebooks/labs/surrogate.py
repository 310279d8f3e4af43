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
# # Surrogate-gradient lab: one spiking MLP, several surrogates, with and without TET and temporal BN
#
# The same two-layer spiking network (64 → 128 LIF → 10, direct input encoding, $T = 4$) is trained on
# scikit-learn's bundled 8×8 digits (no download) with each surrogate of `snnref.surrogate`, then with the TET loss
# (`deng2022tet`) instead of the loss on the mean output, and with temporal effective batch normalization
# (`duan2022tebn`). Everything uses fixed seeds; each run takes a few seconds on a CPU.

# %%
import math

import matplotlib.pyplot as plt
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from snnref.lif_fast import lif_multi_step
from snnref.surrogate import SURROGATES
from snnref.training.tebn import TEBN
from snnref.training.tet import sdt_loss, tet_loss

torch.set_num_threads(1)
digits = load_digits()
X = torch.tensor(digits.data / 16.0, dtype=torch.float32)
y = torch.tensor(digits.target)
X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
T, HIDDEN, EPOCHS = 4, 128, 12


class SpikingMLP(torch.nn.Module):
    """64 -> HIDDEN LIF -> 10; the readout gives logits O(t) at every step, [T, B, 10]."""

    def __init__(self, surrogate: str, alpha: float, temporal_bn: bool):
        super().__init__()
        self.fc1, self.fc2 = torch.nn.Linear(64, HIDDEN), torch.nn.Linear(HIDDEN, 10)
        self.bn = TEBN(HIDDEN, T=T) if temporal_bn else None
        self.surrogate, self.alpha = surrogate, alpha

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        current = self.fc1(x).expand(T, *x.shape[:-1], HIDDEN)  # the same input current at every step
        if self.bn is not None:
            current = self.bn(current.unsqueeze(-1)).squeeze(-1)  # TEBN expects a channel axis after B
        spikes = lif_multi_step(current, tau=2.0, v_th=1.0, surrogate=self.surrogate, alpha=self.alpha)
        return self.fc2(spikes)


def train(surrogate: str, alpha: float, *, tet: bool = False, temporal_bn: bool = False) -> list[float]:
    """Test accuracy after each epoch."""
    torch.manual_seed(0)
    net = SpikingMLP(surrogate, alpha, temporal_bn)
    opt = torch.optim.Adam(net.parameters(), lr=5e-3)
    loss_fn = tet_loss if tet else sdt_loss
    curve = []
    for _ in range(EPOCHS):
        net.train()
        for idx in torch.randperm(len(X_tr)).split(64):
            opt.zero_grad()
            loss_fn(net(X_tr[idx]), y_tr[idx]).backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            curve.append((net(X_te).mean(0).argmax(1) == y_te).float().mean().item())
    return curve


# %% [markdown]
# **The surrogates.** Each is a smooth stand-in whose derivative replaces the step's; the widths below are the
# usual ones (the width of each peak is of the order of the threshold). "rectangular, too narrow" has a window of
# width 0.02: almost no membrane potential ever falls inside it, so almost no gradient flows.

# %%
CONFIGS = {
    "atan (α=2)": ("atan", 2.0), "sigmoid (α=4)": ("sigmoid", 4.0), "rectangular (α=1)": ("rectangular", 1.0),
    "fast sigmoid (α=10)": ("fast_sigmoid", 10.0), "triangle (α=1)": ("triangle", 1.0),
    "rectangular, too narrow (α=0.02)": ("rectangular", 0.02),
}
x = torch.linspace(-2, 2, 801)
fig, ax = plt.subplots(figsize=(7, 3.2))
for name, (sg, alpha) in CONFIGS.items():
    if "narrow" not in name:
        ax.plot(x, SURROGATES[sg][1](x, alpha), label=name)
ax.set(xlabel=r"$H_t - V_{th}$", ylabel="surrogate derivative", title="Surrogate derivatives used in the lab")
ax.legend(fontsize=8)
plt.show()

# %%
curves = {name: train(sg, alpha) for name, (sg, alpha) in CONFIGS.items()}
curves["atan (α=2) + TET"] = train("atan", 2.0, tet=True)
curves["atan (α=2) + TEBN"] = train("atan", 2.0, temporal_bn=True)
curves["atan (α=2) + TET + TEBN"] = train("atan", 2.0, tet=True, temporal_bn=True)

fig, ax = plt.subplots(figsize=(7, 3.6))
for name, curve in curves.items():
    ax.plot(range(1, EPOCHS + 1), curve, label=name, linestyle="--" if "narrow" in name else "-")
ax.axhline(0.1, color="grey", linewidth=0.8)
ax.text(EPOCHS, 0.12, "chance", ha="right", fontsize=8, color="grey")
ax.set(xlabel="epoch", ylabel="test accuracy", title=f"Spiking MLP on 8x8 digits, T={T}", ylim=(0, 1))
ax.legend(fontsize=7, ncol=2)
plt.show()
for name, curve in curves.items():
    print(f"{name:<34} final test accuracy {curve[-1]:.3f}")

# %% [markdown]
# **Claim 1.** Every well-scaled configuration learns far above chance (10 classes: 0.1). We ask for 0.85 on the
# held-out 30 % after 12 epochs.

# %%  catches: a surrogate whose backward is wrong or zero, a broken TET or TEBN, a spiking layer that never fires
for name, curve in curves.items():
    if "narrow" not in name:
        assert curve[-1] >= 0.85, (name, curve[-1])

# %% [markdown]
# **Claim 2.** A surrogate made too narrow trains worse than a well-scaled one: the 0.02-wide window passes
# gradient through almost no neuron, so its network ends well below the one trained with the unit-width window.

# %%  catches: a window surrogate that ignores its width (the narrow and wide runs would then coincide)
wide, narrow = curves["rectangular (α=1)"][-1], curves["rectangular, too narrow (α=0.02)"][-1]
assert narrow <= wide - 0.15, (narrow, wide)

# %% [markdown]
# Verified: every configuration above learns the digits far above chance, and a too-narrow surrogate trains
# markedly worse than a well-scaled one. Differences between the well-scaled surrogates, TET and TEBN at this toy
# scale are small and not asserted: the papers' gains are measured on much larger networks and data.
