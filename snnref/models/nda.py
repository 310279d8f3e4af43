r"""Neuromorphic data augmentation (NDA): geometric augmentations of event frames, applied identically to every time step.

Event data arrive as frames $X \in \mathbb{R}^{T \times C \times H \times W}$ (event counts per polarity and time bin).
NDA draws one transform per sample and applies it to all $T$ frames, so the motion encoded across frames is kept:
rolling (circular translation) $X'_t = \mathrm{roll}(X_t, \delta)$, and CutMix between two samples,
$X' = M \odot X_a + (1 - M) \odot X_b$ with the same box mask $M$ at every $t$ and the label weight
$\lambda = 1 - |\mathrm{box}|/(HW)$. (Rotation and shear are applied the same way in the official code.)

Paper: li2022nda.
"""

from __future__ import annotations

import torch


def nda_roll(x: torch.Tensor, *, dy: int, dx: int) -> torch.Tensor:
    r"""Circular translation of the last two (spatial) axes by ``(dy, dx)``, the same for every frame."""
    return torch.roll(x, shifts=(dy, dx), dims=(-2, -1))


def event_cutmix(
    x: torch.Tensor, perm: torch.Tensor, *, box: tuple[int, int, int, int]
) -> tuple[torch.Tensor, float]:
    r"""Paste ``box = (y1, y2, x1, x2)`` of sample ``perm[i]`` into sample ``i`` for all frames; returns ``(x', lambda)``.

    x: [B, T, C, H, W]; $\lambda = 1 - \frac{(y_2 - y_1)(x_2 - x_1)}{HW}$ is the weight of the original label.
    Paper: li2022nda (NDA CutMix).
    """
    y1, y2, x1, x2 = box
    h, w = x.shape[-2:]
    if not (0 <= y1 <= y2 <= h and 0 <= x1 <= x2 <= w):
        raise ValueError(f"box must lie inside the {h}x{w} frame, got {box!r}")
    out = x.clone()
    out[..., y1:y2, x1:x2] = x[perm][..., y1:y2, x1:x2]
    return out, 1.0 - (y2 - y1) * (x2 - x1) / (h * w)


def mixed_loss(loss_a: torch.Tensor, loss_b: torch.Tensor, lam: float) -> torch.Tensor:
    r"""$\lambda\,\mathcal{L}(y_a) + (1 - \lambda)\,\mathcal{L}(y_b)$, the CutMix target."""
    return lam * loss_a + (1 - lam) * loss_b
