r"""Model-based and data-based weight normalization (Diehl et al., IJCNN 2015).

The converted network keeps every threshold at 1 (IF neurons, reset to zero) and rescales the weights instead,
layer by layer, so that no neuron is driven past one spike per step (model-based) or so that the largest
activation seen on the training data maps to the highest firing rate (data-based). The networks are bias-free,
so ReLU's positive homogeneity makes each rescaling exact.

Paper: diehl2015balancing
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from snnref.conversion.toolkit import activation_values

WEIGHTED = (nn.Linear, nn.Conv2d)


def max_positive_input(w: torch.Tensor) -> torch.Tensor:
    r"""$\max_j \sum_i \max(0, W_{ji})$: the largest input any neuron of the layer can receive from inputs in $[0, 1]$.

    Paper: diehl2015balancing, Algorithm 1 (model-based normalization).
    """
    return torch.clamp(w, min=0).flatten(1).sum(dim=1).max()


def model_based_normalize(model: nn.Sequential) -> nn.Sequential:
    r"""Divide each layer's weights by its maximal positive input: $W^l \leftarrow W^l / \max_j \sum_i \max(0, W^l_{ji})$.

    With inputs in $[0, 1]$ and threshold 1, no neuron can then receive more than one threshold's worth per step.
    Paper: diehl2015balancing, Algorithm 1.
    """
    out = copy.deepcopy(model)
    with torch.no_grad():
        for m in out:
            if isinstance(m, WEIGHTED):
                m.weight.div_(max_positive_input(m.weight))
    return out


def data_based_normalize(model: nn.Sequential, x: torch.Tensor) -> tuple[nn.Sequential, list[float]]:
    r"""Scale layer $l$ by $s^l = 1/\max(\max W^l_+, \max a^l)$, with $a^l$ re-propagated through the already scaled layers.

    Returns the scaled copy and the factors $s^l$. Paper: diehl2015balancing, Algorithm 2 (data-based normalization);
    the model must have no biases (the official code also clips both maxima at 0,
    which only matters for a layer without any positive weight).
    """
    out = copy.deepcopy(model)
    layers = [m for m in out if isinstance(m, WEIGHTED)]
    if any(m.bias is not None for m in layers):
        raise ValueError("data_based_normalize needs bias-free Linear/Conv2d layers (the paper's networks have none)")
    factors: list[float] = []
    for l, m in enumerate(layers):
        # the l-th activation, computed through the layers scaled so far
        a = activation_values(out, x)[l]
        weight_max = m.weight.max()
        factor = 1.0 / torch.maximum(weight_max, a.max()).item()
        with torch.no_grad():
            m.weight.mul_(factor)
        factors.append(factor)
    return out, factors
