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
# # Neuromorphic data augmentation (Li et al., ECCV 2022)
# Event datasets are small, so SNNs overfit them; NDA augments event frames geometrically, drawing one transform per
# sample and applying it to every time bin so that the motion the events encode is kept.

# %%
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from snnref.models.nda import event_cutmix, mixed_loss, nda_roll

torch.manual_seed(0)
dt = torch.float64

# %% [markdown]
# **Synthetic event frames.** An event camera emits an ON event where log brightness rises by the contrast threshold
# and an OFF event where it falls. A bright square moving right produces ON events along its leading edge and OFF events
# along its trailing edge; we bin them into $T = 6$ frames of 2 polarity channels, $16\times16$ pixels.


# %%
def moving_square(T=6, H=16, W=16, x0=3, y0=5, size=4, speed=1):
    frames = torch.zeros(T, 2, H, W, dtype=dt)
    for t in range(T):
        x = x0 + speed * t
        frames[t, 0, y0:y0 + size, x + size - 1] = 1.0  # ON: the leading edge brightens
        frames[t, 1, y0:y0 + size, x - 1] = 1.0  # OFF: the trailing edge darkens
    return frames


clip = moving_square()

# %% [markdown]
# **Claim 1 (one transform for the whole clip).** Rolling by $(\delta_y, \delta_x)$ moves every frame by the same
# amount: each frame equals the rolled frame, the event count of every frame is kept (a permutation of pixels), and the
# motion between frames is unchanged (the ON edge still advances by one pixel per frame). Rolling by the image size is
# the identity.

# %%  catches: a transform drawn per frame, rolling the time or channel axis, a shift of the wrong sign
dy, dx = -3, 5
rolled = nda_roll(clip, dy=dy, dx=dx)
for t in range(clip.shape[0]):
    expected = torch.zeros_like(clip[t])
    for yy in range(16):
        for xx in range(16):
            expected[:, (yy + dy) % 16, (xx + dx) % 16] = clip[t, :, yy, xx]
    torch.testing.assert_close(rolled[t], expected, rtol=0, atol=0)  # pixel (y, x) moves to (y+dy, x+dx)
torch.testing.assert_close(rolled.sum(dim=(1, 2, 3)), clip.sum(dim=(1, 2, 3)), rtol=0, atol=0)
on_cols = [int(rolled[t, 0].sum(0).argmax()) for t in range(clip.shape[0])]
assert all((b - a) % 16 == 1 for a, b in zip(on_cols, on_cols[1:]))  # motion of 1 px/frame is preserved
torch.testing.assert_close(nda_roll(clip, dy=16, dx=-16), clip, rtol=0, atol=0)
# a batch [B, T, C, H, W] rolls every sample the same way, and only along H and W
b5 = torch.stack([clip, moving_square(x0=6, size=3)])
torch.testing.assert_close(nda_roll(b5, dy=dy, dx=dx), torch.stack([rolled, nda_roll(b5[1], dy=dy, dx=dx)]), rtol=0, atol=0)
# a permutation's gradient is the inverse permutation: rolling back the upstream gradient
cg = clip.clone().requires_grad_(True)
up = torch.randn_like(clip)
r_g = nda_roll(cg, dy=dy, dx=dx)
assert r_g.requires_grad  # catches a detached augmentation (no gradient to the input)
(g_clip,) = torch.autograd.grad((r_g * up).sum(), cg)
torch.testing.assert_close(g_clip, nda_roll(up, dy=-dy, dx=-dx), rtol=0, atol=0)

# %% [markdown]
# **Claim 2 (event CutMix).** Inside the box every frame of the mixed clip comes from the partner sample, outside from
# the original; the label weight is the exact pixel ratio $\lambda = 1 - |\mathrm{box}|/(HW)$, and the mixed loss is
# $\lambda\mathcal{L}(y_a) + (1 - \lambda)\mathcal{L}(y_b)$.

# %%  catches: box pasted in only some frames, lambda from the sampled ratio instead of the box, swapped labels
batch = torch.stack([moving_square(x0=2), moving_square(x0=1, y0=9, speed=2), moving_square(x0=6, size=3)])  # [B, T, C, H, W]
perm = torch.tensor([2, 0, 1])
box = (4, 10, 3, 12)
mixed, lam = event_cutmix(batch, perm, box=box)
inside = torch.zeros(16, 16, dtype=torch.bool)
inside[4:10, 3:12] = True
for i in range(3):
    torch.testing.assert_close(mixed[i][..., inside], batch[perm[i]][..., inside], rtol=0, atol=0)
    torch.testing.assert_close(mixed[i][..., ~inside], batch[i][..., ~inside], rtol=0, atol=0)
assert lam == 1 - (6 * 9) / 256  # exact pixel ratio
logits = torch.randn(3, 4, dtype=dt)
ya, yb = torch.tensor([0, 1, 2]), torch.tensor([2, 0, 1])
la = F.cross_entropy(logits, ya)
lb = F.cross_entropy(logits, yb)
torch.testing.assert_close(mixed_loss(la, lb, lam), lam * la + (1 - lam) * lb, rtol=0, atol=0)
lg = torch.stack([la, lb]).requires_grad_(True)
ml = mixed_loss(lg[0], lg[1], lam)
assert ml.requires_grad  # catches a detached loss (no training signal)
(g_l,) = torch.autograd.grad(ml, lg)
torch.testing.assert_close(g_l, torch.tensor([lam, 1 - lam], dtype=dt), rtol=0, atol=1e-15)
assert mixed_loss(la, lb, 1.0) == la and mixed_loss(la, lb, 0.0) == lb
for bad in ((0, 17, 0, 4), (5, 3, 0, 4), (-1, 3, 0, 4), (0, 4, 5, 3), (0, 4, 0, 17), (0, 4, -2, 3)):
    try:
        event_cutmix(batch, perm, box=bad)
        raise AssertionError(f"box {bad} must be rejected")
    except ValueError:
        pass

# %%
fig, ax = plt.subplots(3, 6, figsize=(11, 5.5))
for t in range(6):
    for row, (data, name) in enumerate(((clip, "original"), (rolled, "rolled"), (mixed[0], "CutMix"))):
        ax[row, t].imshow((data[t, 0] - data[t, 1]).numpy(), cmap="bwr", vmin=-1, vmax=1)
        ax[row, t].set_xticks([]); ax[row, t].set_yticks([])
        if t == 0:
            ax[row, t].set_ylabel(name)
    ax[0, t].set_title(f"t={t}")
plt.tight_layout()
plt.show()

# %% [markdown]
# Verified: on synthetic ON/OFF event frames of a moving square, rolling moves every frame by the same shift (pixel by
# pixel, for a single clip and a batch), keeps event counts and the inter-frame motion, and passes gradients back;
# event CutMix pastes the partner's box into every frame, with the exact pixel-ratio label weight and the mixed loss,
# whose gradient splits as $(\lambda, 1 - \lambda)$.
