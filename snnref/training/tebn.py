r"""Temporal effective batch normalization (TEBN): statistics shared over time, a learnable scale per time step.

For pre-synaptic inputs $x_t$ of shape ``[T, B, C, H, W]``:

$$
\mathrm{TEBN}(x_t) = p_t\left(\gamma\,\frac{x_t - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta\right)
$$

with $\mu, \sigma^2$ the per-channel mean and (biased) variance over batch, **all time steps** and space (as in
tdBN, without its threshold factor), $\gamma, \beta$ the per-channel affine parameters and $p_t$ one learnable
scale per time step (initialised to 1). In eval mode the running statistics are used, so TEBN is a fixed affine
map per time step and channel that can be folded into the preceding layer's weights, one copy per time step.

Paper: duan2022tebn (the TEBN operation).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def tebn(
    x: torch.Tensor, *, p: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor,
    running_mean: torch.Tensor | None = None, running_var: torch.Tensor | None = None,
    training: bool = True, momentum: float = 0.1, eps: float = 1e-5,
) -> torch.Tensor:
    r"""$p_t(\gamma\hat x_t + \beta)$ for ``x`` [T, B, C, ...]; ``p`` [T], ``gamma``/``beta`` [C]."""
    # [T, B, C, ...] -> [B, C, T, ...]: batch_norm then pools over batch, time and space per channel
    y = F.batch_norm(x.movedim(0, 2), running_mean, running_var, gamma, beta, training, momentum, eps).movedim(2, 0)
    return y * p.reshape(-1, *([1] * (x.dim() - 1)))


class TEBN(nn.Module):
    """Holds $p$ (one per time step), the affine parameters and the running statistics; applies :func:`tebn`."""

    def __init__(self, channels: int, *, T: int, momentum: float = 0.1, eps: float = 1e-5):
        super().__init__()
        if not (isinstance(T, int) and T >= 1):
            raise ValueError(f"T must be a positive int, got {T!r}")
        self.p = nn.Parameter(torch.ones(T))
        self.gamma = nn.Parameter(torch.ones(channels))
        self.beta = nn.Parameter(torch.zeros(channels))
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))
        self.momentum, self.eps = momentum, eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return tebn(x, p=self.p, gamma=self.gamma, beta=self.beta, running_mean=self.running_mean,
                    running_var=self.running_var, training=self.training, momentum=self.momentum, eps=self.eps)
