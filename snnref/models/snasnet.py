r"""SNASNet's training-free score: how distinct the spike patterns of different samples are at initialisation.

For binary activation patterns $c_i \in \{0,1\}^{N}$ of a batch, with firing rates $p_i$ and Hamming distances
$d_H(c_i, c_j)$, the sparsity-aware kernel is
$K_{ij} = N - \frac{1}{2}\,\frac{d_H(c_i, c_j)}{p_i(1 - p_j) + (1 - p_i)p_j + \epsilon}$:
the Hamming distance is divided by its expectation for independent patterns with these rates, so that sparse layers are
not mistaken for similar ones. Kernels are averaged over spiking layers and time steps, and an architecture scores
$\log|\det \bar K|$ (higher = more distinguishable samples).

Paper: kim2022snasnet.
"""

from __future__ import annotations

from typing import Sequence

import torch


def sparsity_aware_kernel(x: torch.Tensor, *, eps: float = 1e-3) -> torch.Tensor:
    r"""$K_{ij} = N - \frac{1}{2}\,d_H(c_i, c_j) / (p_i(1-p_j) + (1-p_i)p_j + \epsilon)$ for spike patterns x [B, N]."""
    c = (x > 0).to(x.dtype)
    n = c.shape[1]
    p = c.mean(dim=1, keepdim=True)  # firing rate of each sample
    norm = p @ (1 - p).T + (1 - p) @ p.T
    hamming = c @ (1 - c).T + (1 - c) @ c.T
    return n - 0.5 * hamming / (norm + eps)


def snas_score(kernels: Sequence[torch.Tensor]) -> torch.Tensor:
    r"""$\log|\det \bar K|$ of the mean kernel over spiking layers and time steps. Paper: kim2022snasnet."""
    if len(kernels) == 0:
        raise ValueError("kernels must not be empty")
    return torch.linalg.slogdet(torch.stack(list(kernels)).mean(dim=0)).logabsdet
