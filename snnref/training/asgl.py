r"""ASGL: hybrid forward with random spike noise and a learnable relaxation degree (Wang et al., ICML 2023).

During training each unit is, independently, in *analog* mode (probability $p$) and outputs the smooth
$H_\alpha(x) = \sigma(\alpha x)$, or in *spike* mode and outputs $\Theta(x)$; the gradient is that of $H_\alpha$
for every unit, so the width $\alpha$ is learned by gradient descent together with the weights:

$$\hat H_\alpha(x) = (1 - m)\odot H_\alpha(x) + m \odot \Phi(\Theta(x)), \qquad m \sim \mathrm{Bernoulli}(1 - p),$$

where $\Phi(\Theta(x))$ has the value $\Theta(x)$ and the gradient of $H_\alpha(x)$. At inference ($p = 0$) the
network is the plain SNN. Paper: wang2023asgl, hybrid forward with spike noise (as in the official code).
"""

from __future__ import annotations

import torch
from torch import nn

from snnref.surrogate import heaviside, sigmoid_primitive


def noisy_spike(x: torch.Tensor, m: torch.Tensor, *, alpha: torch.Tensor | float) -> torch.Tensor:
    r"""$\hat H_\alpha(x) = H_\alpha(x) + \mathrm{sg}\!\left[m \odot (\Theta(x) - H_\alpha(x))\right]$, $H_\alpha = \sigma(\alpha x)$.

    ``m`` is 1 for units in spike mode and 0 in analog mode; sg stops the gradient, so $\partial\hat H/\partial x
    = H'_\alpha(x)$ and $\partial\hat H/\partial\alpha = x\,\sigma'(\alpha x)$ for every unit.
    """
    h = sigmoid_primitive(x, alpha)
    return h + (m * (heaviside(x) - h)).detach()


def spike_mode_mask(like: torch.Tensor, *, p: float, generator: torch.Generator | None = None) -> torch.Tensor:
    r"""$m \sim \mathrm{Bernoulli}(1 - p)$ elementwise: 1 (spike mode) with probability $1 - p$, 0 (analog) with $p$."""
    return torch.bernoulli(torch.full_like(like, 1 - p), generator=generator)


class NoisySpike(nn.Module):
    """Spike function with a learnable width ``alpha``; hybrid (noisy) forward in training, pure spikes in eval."""

    def __init__(self, *, alpha: float, p: float):
        super().__init__()
        if not alpha > 0:
            raise ValueError(f"alpha must be > 0, got {alpha!r}")
        if not 0 <= p <= 1:
            raise ValueError(f"p must be in [0, 1], got {p!r}")
        self.alpha = nn.Parameter(torch.tensor(float(alpha)))
        self.p = p

    def forward(self, x: torch.Tensor, m: torch.Tensor | None = None) -> torch.Tensor:
        if not self.training:
            return heaviside(x)
        if m is None:
            m = spike_mode_mask(x, p=self.p)
        return noisy_spike(x, m, alpha=self.alpha)
