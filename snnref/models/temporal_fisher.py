r"""Temporal information dynamics: the Fisher information of the weights when only the first $t$ time steps are used.

For each $t$, the network's prediction is the average of its outputs over the first $t$ steps,
$\bar z_t = \frac{1}{t}\sum_{\tau \le t} z_\tau$, and the Fisher information is estimated by the trace of the empirical
Fisher over mini-batches $b$, $I_t = \frac{1}{N_b}\sum_b \big\lVert \nabla_W \mathcal{L}_{CE}(\bar z_t^{(b)}, y^{(b)})\big\rVert^2$.
Where $I_t$ is large, the early steps carry the information the weights rely on.

Paper: kim2023temporal.
"""

from __future__ import annotations

from typing import Callable, Iterable, Sequence

import torch
import torch.nn.functional as F


def cumulative_mean(z_seq: torch.Tensor) -> torch.Tensor:
    r"""$\bar z_t = \frac{1}{t}\sum_{\tau=1}^{t} z_\tau$ for every $t$: [T, B, K] -> [T, B, K]."""
    t = torch.arange(1, z_seq.shape[0] + 1, dtype=z_seq.dtype).view(-1, *([1] * (z_seq.dim() - 1)))
    return z_seq.cumsum(dim=0) / t


def temporal_fisher_trace(
    forward: Callable[[torch.Tensor], torch.Tensor],
    params: Sequence[torch.Tensor],
    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
) -> torch.Tensor:
    r"""$I_t$ for $t = 1..T$: mean over mini-batches of $\lVert\nabla_W \mathcal{L}_{CE}(\bar z_t, y)\rVert^2$; returns [T].

    ``forward(x)`` returns the output sequence [T, B, K]. Paper: kim2023temporal (Fisher information per time step).
    """
    batches = list(batches)
    if not batches:
        raise ValueError("batches must not be empty")
    total = 0
    for x, y in batches:
        z_bar = cumulative_mean(forward(x))  # [T, B, K]
        traces = []
        for z_t in z_bar:
            grads = torch.autograd.grad(F.cross_entropy(z_t, y), params, retain_graph=True)
            traces.append(sum((g**2).sum() for g in grads))
        total = total + torch.stack(traces)
    return total / len(batches)
