r"""Lottery tickets in SNNs: iterative magnitude pruning (IMP) with weight rewinding, and the Early-Time (ET) ticket.

IMP round $k$: train $\theta \odot m_k$, then remove the fraction $p$ of the *surviving* weights with the smallest
magnitude, $m_{k+1} = m_k \odot [\,|\theta| > q_p(|\theta|_{m_k})\,]$, and rewind the survivors to their initial
values, $\theta \leftarrow \theta_0 \odot m_{k+1}$. After $k$ rounds the density is $(1-p)^k$. The ET ticket runs the
same search with fewer time steps $T_{search} < T$ and trains the final ticket with $T$.

Paper: kim2022lottery.
"""

from __future__ import annotations

import torch


def magnitude_prune_mask(weight: torch.Tensor, mask: torch.Tensor, *, p: float) -> torch.Tensor:
    r"""Remove the fraction ``p`` of the weights still in ``mask`` with the smallest $|w|$; returns the new 0/1 mask.

    Paper: kim2022lottery (IMP pruning step).
    """
    if not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1), got {p!r}")
    alive = mask.bool()
    n_remove = int(round(p * int(alive.sum())))
    scores = torch.where(alive, weight.abs(), torch.full_like(weight, float("inf")))
    drop = torch.argsort(scores.flatten())[:n_remove]  # the smallest surviving magnitudes
    new = alive.flatten().clone()
    new[drop] = False
    return new.view_as(mask).to(mask.dtype)


def rewind(weight_init: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    r"""Weight rewinding to initialisation, $\theta_0 \odot m$."""
    return weight_init * mask
