r"""Temporal-wise attention (TA) for event-stream SNNs, with input attention pruning (IAP) at inference.

Events $(x, y, t, p)$ from a DVS camera are binned into $T$ frames of width $dt$ with one channel per polarity.
The TA module squeezes each frame to one number, scores the frames with a two-layer excitation and rescales them:

$$s_t = \frac{1}{CHW}\sum_{c,h,w} X_{t,c,h,w},\qquad d = \sigma\big(W_2\,\delta(W_1 s + b_1) + b_2\big),\qquad \tilde X_t = d_t\,X_t,$$

$\delta$ the ReLU, $\sigma$ the sigmoid (SE-style, over the time axis). At inference IAP discards the frames whose score is
below a threshold, $\tilde X_t = 0$ where $d_t < d_{th}$, so those frames cost no synaptic operations.
Paper: yao2021tasnn, Eq. (7) for the rescaling (the module follows the official ``module/TA.py``; the other
equation numbers were not checked).
"""

from __future__ import annotations

import torch


def events_to_frames(events: torch.Tensor, *, T: int, dt: float, H: int, W: int) -> torch.Tensor:
    """Count events ``[E, 4]`` rows ``(x, y, t, p)`` (p in {0, 1}) into frames [T, 2, H, W]; events after ``T*dt`` are dropped."""
    x, y, t, p = events.unbind(1)
    k = torch.floor(t / dt).long()  # the frame of each event
    keep = (k >= 0) & (k < T)
    idx = (k[keep], p[keep].long(), y[keep].long(), x[keep].long())  # [frame, polarity, row, column]
    return torch.zeros(T, 2, H, W, dtype=events.dtype).index_put_(idx, torch.ones_like(t[keep]), accumulate=True)


def temporal_attention(
    x: torch.Tensor, *, w1: torch.Tensor, b1: torch.Tensor, w2: torch.Tensor, b2: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""$(\tilde X, d)$ for frames $X$ [T, B, ...]: $d = \sigma(W_2\delta(W_1 s + b_1) + b_2)$ per sample, $\tilde X_t = d_t X_t$."""
    s = x.flatten(2).mean(-1).T  # [B, T]: squeeze every frame to its mean
    d = torch.sigmoid(torch.relu(s @ w1.T + b1) @ w2.T + b2).T  # [T, B]
    return x * d.view(*d.shape, *([1] * (x.dim() - 2))), d


def input_attention_pruning(x_att: torch.Tensor, d: torch.Tensor, *, d_th: float) -> torch.Tensor:
    r"""IAP: zero the attended frames whose score $d_t < d_{th}$ (they are skipped at inference)."""
    if not 0.0 < d_th < 1.0:
        raise ValueError(f"d_th must be in (0, 1) (scores are sigmoid outputs), got {d_th!r}")
    keep = (d >= d_th).to(x_att.dtype)
    return x_att * keep.view(*keep.shape, *([1] * (x_att.dim() - 2)))
