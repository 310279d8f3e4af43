r"""Evolving connectivity (EC): train a spiking network's boolean connections with natural evolution strategies.

Each connection $k$ exists with probability $\rho_k$; a population of networks with masks $\theta^{(i)} \sim
\mathrm{Bernoulli}(\rho)$ is run forward only, their fitness values are rank-transformed to weights $w_i$, and $\rho$
moves along the natural gradient of the expected fitness, which for a Bernoulli distribution is
$\tilde\nabla_\rho\,\mathbb{E}[F] = \mathbb{E}[F(\theta)(\theta - \rho)] \approx \frac{1}{N}\sum_i w_i(\theta^{(i)} - \rho)$,
then is clipped to $[\epsilon, 1 - \epsilon]$ to keep exploring.

Paper: wang2023ec.
"""

from __future__ import annotations

import torch


def sample_connectivity(rho: torch.Tensor, n: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
    r"""$n$ boolean masks $\theta^{(i)} \sim \mathrm{Bernoulli}(\rho)$, returned as 0/1 floats [n, *rho.shape]."""
    u = torch.rand((n, *rho.shape), generator=generator, dtype=rho.dtype)
    return (u < rho).to(rho.dtype)


def centered_rank(fitness: torch.Tensor) -> torch.Tensor:
    r"""Centered ranks $w_i = \mathrm{rank}(F_i)/(N - 1) - \frac12 \in [-\frac12, \frac12]$ (fitness shaping)."""
    ranks = torch.argsort(torch.argsort(fitness)).to(fitness.dtype)
    return ranks / (fitness.numel() - 1) - 0.5


def nes_natural_grad(rho: torch.Tensor, masks: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    r"""$\frac{1}{N}\sum_i w_i(\theta^{(i)} - \rho)$: the Bernoulli natural-gradient estimate of $\mathbb{E}[F]$.

    Paper: wang2023ec (NES update of the connection probabilities).
    """
    w = weights.reshape(-1, *([1] * rho.dim()))
    return (w * (masks - rho)).mean(dim=0)


def ec_update(rho: torch.Tensor, grad: torch.Tensor, *, lr: float, eps: float) -> torch.Tensor:
    r"""Gradient ascent on $\rho$ and clipping to the Bernoulli range with exploration, $[\epsilon, 1 - \epsilon]$."""
    if not 0 <= eps < 0.5:
        raise ValueError(f"eps must be in [0, 0.5), got {eps!r}")
    return torch.clamp(rho + lr * grad, eps, 1 - eps)
