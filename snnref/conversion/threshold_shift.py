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
    feeding: list[nn.Module] = []  # the Linear/Conv2d in front of each activation, in order
    last: nn.Module | None = None
    for m in out:
        if isinstance(m, WEIGHTED):
            last = m
        elif isinstance(m, activations):
            if last is None:
                raise ValueError("every activation must follow a Linear or Conv2d layer")
            feeding.append(last)
            last = None
    if len(thresholds) != len(feeding):
        raise ValueError(f"thresholds has {len(thresholds)} entries, model has {len(feeding)} activation layers")
    for k, layer in enumerate(feeding):
        if layer.bias is None:
            layer.bias = nn.Parameter(torch.zeros(layer.out_channels if isinstance(layer, nn.Conv2d)
                                                  else layer.out_features, dtype=layer.weight.dtype))
        with torch.no_grad():
            layer.bias.add_(thresholds[k] / (2 * T))  # V_th^l / 2T
    return out
