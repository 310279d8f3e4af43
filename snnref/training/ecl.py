r"""Counting losses for time-based training, and the enhanced counting loss (Zhu et al., NeurIPS 2023).

In time-based training only existing spikes carry gradient: a spike of output neuron $i$ at time $t_k$ moves earlier or
later. A loss on the spike counts $n_i = \sum_t o_i^t$ is mapped to the timings by giving each spike of neuron $i$
$$\frac{\partial L}{\partial t_k} = -\frac{\partial L}{\partial n_i}$$
(moving a spike earlier plays the role of adding output). With the count clipped one-sidedly towards its target
$\hat n_i$ (desired count $n_d$ for the label, undesired count $n_u$ otherwise), the mean-square counting loss and the
enhanced counting loss are
$$L_{\text{MSE}} = \frac{1}{2T}\sum_i (n_i - \hat n_i)^2, \qquad L_{\text{EC}} = \frac{1}{T}\sum_i \left(n_i - \hat n_i\ln n_i\right),$$
so each spike gets $-(n_i - \hat n_i)/T$ from the first and $-(n_i - \hat n_i)/(T n_i)$ from the second: the overall
gradient $\sum_k \partial L/\partial t_k$ of a neuron is $-(n_i - \hat n_i)/T$ however few spikes it has.
Paper: zhu2023ecl, enhanced counting loss (gradient as in the official code's ``loss_count_plus``).
"""

from __future__ import annotations

from typing import Callable

import torch


def clipped_counts(o_seq: torch.Tensor, n_hat: torch.Tensor, *, n_d: float, n_u: float) -> torch.Tensor:
    r"""$n_i = \sum_t o_i^t$ on [T, B, C], set to $n_d$ where the label neuron exceeds it and to $n_u$ where another falls below it."""
    n = o_seq.sum(dim=0)  # [B, C]
    n = torch.where(condition=n_hat == n_d, input=n.clamp(max=n_d), other=n)  # label neuron: no penalty above n_d
    return torch.where(condition=n_hat == n_u, input=n.clamp(min=n_u), other=n)  # the others: none below n_u


def mse_counting_loss(n: torch.Tensor, n_hat: torch.Tensor, *, T: int) -> torch.Tensor:
    r"""$L_{\text{MSE}} = \frac{1}{2T}\sum_i (n_i - \hat n_i)^2$, summed over the batch."""
    return ((n - n_hat) ** 2).sum() / (2 * T)


def enhanced_counting_loss(n: torch.Tensor, n_hat: torch.Tensor, *, T: int) -> torch.Tensor:
    r"""$L_{\text{EC}} = \frac{1}{T}\sum_i (n_i - \hat n_i\ln n_i)$ over neurons with $n_i > 0$, summed over the batch."""
    safe = torch.where(condition=n > 0, input=n, other=torch.ones_like(n))  # a silent neuron has no spike to move
    return torch.where(condition=n > 0, input=n - n_hat * torch.log(safe), other=torch.zeros_like(n)).sum() / T


def timing_grad(
    o_seq: torch.Tensor, n_hat: torch.Tensor, *, loss: Callable[..., torch.Tensor], n_d: float, n_u: float
) -> torch.Tensor:
    r"""$\partial L/\partial t$ on [T, B, C]: $-\partial L/\partial n_i$ at every spike of neuron $i$, 0 where it is silent."""
    n = clipped_counts(o_seq, n_hat, n_d=n_d, n_u=n_u).requires_grad_(True)
    (dn,) = torch.autograd.grad(loss(n=n, n_hat=n_hat, T=o_seq.shape[0]), n)
    return -dn * o_seq  # broadcast [B, C] over time
