r"""Trainable clipping layers (Ho & Chang, DAC 2021): learn each layer's clipping value, then use it as the threshold.

After every ReLU a clipping layer $y = \min(\mathrm{ReLU}(x), \lambda)$ with a trainable $\lambda$ is trained together with the
weights, with an L2 penalty $c\,\lambda^2$ pulling $\lambda$ down. Large, rare activations are clipped instead of setting the
normalization scale, so after conversion (threshold $\lambda^l$, or weights normalized by $\lambda^l$) the neurons fire at
higher rates and the SNN reaches the ANN's accuracy in fewer steps.

Paper: ho2021tcl
"""

from __future__ import annotations

import torch
from torch import nn


def clip_activation(x: torch.Tensor, lam: torch.Tensor) -> torch.Tensor:
    r"""$y = \mathrm{ReLU}(x) - \mathrm{ReLU}(x - \lambda) = \min(\max(x, 0), \lambda)$, so $\partial y/\partial\lambda = [x > \lambda]$."""
    return torch.relu(x) - torch.relu(x - lam)


class TrainableClip(nn.Module):
    r"""ReLU followed by a clipping layer with trainable $\lambda$ (initialised at ``lam0``)."""

    def __init__(self, *, lam0: float = 1.0, dtype: torch.dtype | None = None):
        super().__init__()
        if not lam0 > 0:
            raise ValueError(f"lam0 must be > 0, got {lam0!r}")
        self.lam = nn.Parameter(torch.tensor(float(lam0), dtype=dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return clip_activation(x, self.lam)


def tcl_penalty(model: nn.Module, *, c: float) -> torch.Tensor:
    r"""$c\sum_l (\lambda^l)^2$ over the model's clipping layers, added to the task loss. Paper: ho2021tcl."""
    lams = [m.lam for m in model.modules() if isinstance(m, TrainableClip)]
    return c * torch.stack(lams).pow(2).sum()


def tcl_thresholds(model: nn.Module) -> list[float]:
    r"""The trained $\lambda^l$, in order: the per-layer thresholds (normalization factors) for conversion."""
    return [m.lam.item() for m in model.modules() if isinstance(m, TrainableClip)]
