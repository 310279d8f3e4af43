r"""tdBN: threshold-dependent batch normalization over time and batch (Zheng et al., AAAI 2021).

Each channel $k$ of a pre-activation sequence $x \in \mathbb{R}^{T \times B \times C \times \dots}$ is normalized with
statistics taken over time, batch and space together, and scaled to the firing threshold:

$$\hat x_k = \frac{\alpha V_{th}\,(x_k - \mathbb{E}[x_k])}{\sqrt{\mathrm{Var}[x_k] + \epsilon}}, \qquad y_k = \lambda_k \hat x_k + \beta_k.$$

So pre-activations are $\mathcal{N}(0, (\alpha V_{th})^2)$ before the affine step, whatever their original scale.
Paper: zheng2021tdbn, threshold-dependent batch normalization.
"""

from __future__ import annotations

import torch
from torch import nn


def td_batch_norm(
    x: torch.Tensor, mean: torch.Tensor, var: torch.Tensor, *, v_th: float, alpha: float,
    weight: torch.Tensor, bias: torch.Tensor, eps: float,
) -> torch.Tensor:
    r"""$\lambda\,\alpha V_{th}(x - \mu)/\sqrt{\sigma^2 + \epsilon} + \beta$ on [T, B, C, ...] with per-channel $\mu, \sigma^2, \lambda, \beta$ of shape [C]."""
    x_c = x.movedim(2, -1)  # channels last, [T, B, ..., C], so the [C] statistics and parameters broadcast
    x_hat = alpha * v_th * (x_c - mean) / torch.sqrt(var + eps)
    return (weight * x_hat + bias).movedim(-1, 2)  # back to [T, B, C, ...]


def td_batch_stats(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and biased variance of [T, B, C, ...] over every dimension except C."""
    x_c = x.movedim(2, -1).reshape(-1, x.shape[2])  # [T * B * ..., C]
    return x_c.mean(0), x_c.var(0, unbiased=False)


class TdBatchNorm(nn.Module):
    """tdBN layer for [T, B, C, ...]: batch statistics in training, running estimates in evaluation."""

    def __init__(self, num_features: int, *, v_th: float, alpha: float = 1.0, eps: float = 1e-5, momentum: float = 0.1):
        super().__init__()
        if not v_th > 0:
            raise ValueError(f"v_th must be > 0, got {v_th!r}")
        if not 0 < momentum <= 1:
            raise ValueError(f"momentum must be in (0, 1], got {momentum!r}")
        self.v_th, self.alpha, self.eps, self.momentum = v_th, alpha, eps, momentum
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            mean, var = td_batch_stats(x)
            n = x.numel() / x.shape[2]
            with torch.no_grad():  # running variance tracks the unbiased estimate, as nn.BatchNorm does
                self.running_mean.lerp_(mean, self.momentum)
                self.running_var.lerp_(var * n / (n - 1), self.momentum)
        else:
            mean, var = self.running_mean, self.running_var
        return td_batch_norm(x, mean, var, v_th=self.v_th, alpha=self.alpha, weight=self.weight, bias=self.bias,
                             eps=self.eps)
