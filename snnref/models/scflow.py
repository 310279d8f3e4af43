r"""SCFlow's motion-aligned spike representation: warp each spike slice along the current flow estimate.

A window of $L$ spike frames around a centre time is aligned to that centre before feature extraction: slice $k$
(offset $k - \frac{L-1}{2}$ steps from the centre) is backward-warped by the flow scaled to its offset,
$\tilde S_k(p) = S_k\big(p + \frac{k - (L-1)/2}{\Delta t}F(p)\big)$, where $F$ is the flow over $\Delta t$ steps. Under
constant velocity the aligned slices all show the scene at the centre time, so accumulating them is free of motion blur.

Paper: hu2022scflow.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def flow_warp(x: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    r"""Backward warp $x'(p) = x(p + F(p))$ with bilinear sampling and zeros outside; x [B, C, H, W], flow [B, 2, H, W] = (dx, dy)."""
    b, _, h, w = x.shape
    ys, xs = torch.meshgrid(torch.arange(h, dtype=x.dtype), torch.arange(w, dtype=x.dtype), indexing="ij")
    gx = xs.expand(b, h, w) + flow[:, 0]  # sampling positions in pixels, [B, H, W]
    gy = ys.expand(b, h, w) + flow[:, 1]
    grid = torch.stack([2 * gx / (w - 1) - 1, 2 * gy / (h - 1) - 1], dim=-1)  # to [-1, 1]
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=True)


def align_spike_slices(seq: torch.Tensor, flow: torch.Tensor, *, dt: float) -> torch.Tensor:
    r"""Warp slice $k$ of seq [B, L, H, W] by $\frac{k - (L-1)/2}{\Delta t}F$ so every slice matches the centre time.

    Paper: hu2022scflow (motion-aligned spike representation).
    """
    if not dt > 0:
        raise ValueError(f"dt must be > 0, got {dt!r}")
    b, n, h, w = seq.shape
    offsets = torch.linspace(-(n - 1) / 2, (n - 1) / 2, n, dtype=seq.dtype) / dt  # [L]: k - (L-1)/2, over dt
    scaled = flow[:, None] * offsets.view(1, n, 1, 1, 1)  # [B, L, 2, H, W]
    out = flow_warp(seq.reshape(b * n, 1, h, w), scaled.reshape(b * n, 2, h, w))
    return out.reshape(b, n, h, w)
