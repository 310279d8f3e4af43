r"""Threshold ReLU and the $V_{th}/2T$ bias shift (Deng & Gu, ICLR 2021).

Train the ANN with the threshold ReLU $h(x) = \mathrm{clip}(x, 0, V_{th})$ so that it saturates where the IF neuron
does, then convert with soft reset. For a constant input $z$ over $T$ steps the IF output is the floored
$\frac{V_{th}}{T}\mathrm{clip}(\lfloor Tz/V_{th}\rfloor, 0, T)$, always below $h(z)$; adding $V_{th}/(2T)$ to each
layer's bias turns the floor into rounding, which halves the worst-case error and removes its mean.

Paper: deng2021optimal
"""

from __future__ import annotations

import copy
from typing import Sequence

import torch
from torch import nn

WEIGHTED = (nn.Linear, nn.Conv2d)


def threshold_relu(x: torch.Tensor, *, v_th: float | torch.Tensor) -> torch.Tensor:
    r"""$h(x) = \mathrm{clip}(x, 0, V_{th})$: ReLU that saturates at the SNN threshold. Paper: deng2021optimal, Fig. 1B."""
    return torch.clamp(x, min=0.0) - torch.clamp(x - v_th, min=0.0)


def shift_biases(model: nn.Sequential, thresholds: Sequence[float], *, T: int,
                 activations: tuple[type, ...] = (nn.ReLU,)) -> nn.Sequential:
    r"""Copy of ``model`` with $b^l \leftarrow b^l + V^l_{th}/(2T)$ for the Linear/Conv2d feeding the $l$-th activation.

    A missing bias is created. Paper: deng2021optimal, Sec. 5 (shift of the SNN input by $V_{th}/2T$).
    """
    if T < 1:
        raise ValueError(f"T must be >= 1, got {T!r}")
    out = copy.deepcopy(model)
    last: nn.Module | None = None
    k = 0
    for m in out:
        if isinstance(m, WEIGHTED):
            last = m
        elif isinstance(m, activations):
            if last is None:
                raise ValueError("every activation must follow a Linear or Conv2d layer")
            shift = thresholds[k] / (2 * T)
            if last.bias is None:
                last.bias = nn.Parameter(torch.zeros(last.out_channels if isinstance(last, nn.Conv2d)
                                                     else last.out_features, dtype=last.weight.dtype))
            with torch.no_grad():
                last.bias.add_(shift)
            last, k = None, k + 1
    return out
