r"""STDS: weights as dendritic spines whose state follows a soft threshold on a hidden parameter.

Each weight is a reparameterization of a hidden "spine" parameter $\theta$:

$$
w = \operatorname{sign}(\theta)\,\max(|\theta| - D,\ 0)
$$

$|\theta| > D$ is a filopodium turned mature spine (a connection), $|\theta| \le D$ a dormant one (weight 0).
In the backward pass the ``max`` is treated as the identity, so $\partial w / \partial \theta = 1$ for every
$\theta \ne 0$: dormant spines keep receiving gradient and can become active again. The threshold $D$ grows
during training from 0 to its final value, with the sine schedule
$D(n) = D_{\max}\frac{1 + \sin(\pi(n/N - 1/2))}{2}$ or the linear one $D(n) = D_{\max}\,n/N$.

Paper: chen2022stds (reparameterization and threshold schedule); official code ``CIFAR10/model.py``
(``softThresholdmod``) and ``train.py`` (``sineInc``, ``linearInc``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def stds_weight(theta: torch.Tensor, *, d: float) -> torch.Tensor:
    r"""$w = \mathrm{sign}(\theta)\max(|\theta| - D, 0)$, with the identity as the backward pass of the max."""
    u = theta.abs() - d
    # forward relu(u); backward as if it were u (the official code's PseudoRelu)
    passed = u + (torch.relu(u) - u).detach()
    return torch.sign(theta) * passed


def sine_schedule(n: int, n_total: int) -> float:
    r"""Fraction of $D_{\max}$ reached after $n$ of $N$ steps: $\frac{1 + \sin(\pi(n/N - 1/2))}{2}$."""
    return (1.0 + math.sin(math.pi * (n / n_total - 0.5))) / 2


def linear_schedule(n: int, n_total: int) -> float:
    r"""Fraction of $D_{\max}$ reached after $n$ of $N$ steps: $n/N$."""
    return n / n_total


class STDSLinear(nn.Module):
    """Linear layer whose weight is ``stds_weight(theta, d=self.d)``; ``d`` is set by the training loop."""

    def __init__(self, in_features: int, out_features: int, *, d: float = 0.0):
        super().__init__()
        if not d >= 0:
            raise ValueError(f"d must be >= 0, got {d!r}")
        self.theta = nn.Parameter(torch.empty(out_features, in_features))
        nn.init.kaiming_uniform_(self.theta, a=math.sqrt(5))
        self.d = d

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, stds_weight(self.theta, d=self.d))

    def sparsity(self) -> float:
        """Fraction of dormant spines (zero weights)."""
        return (stds_weight(self.theta.detach(), d=self.d) == 0).double().mean().item()
