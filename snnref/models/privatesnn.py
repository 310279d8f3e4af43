r"""PrivateSNN's data-free path: synthesise training samples from a trained ANN ("data impressions"), no real data.

Targets are soft labels drawn from a Dirichlet whose concentration for class $k$ is the class-similarity row
$\beta_k$: the cosine similarity of the last-layer weight vectors, min-max normalised per row. An input $\hat x$ is
optimised so that the ANN's tempered output matches a sampled target,
$\min_{\hat x} -\sum_j y_j \log \mathrm{softmax}(f(\hat x)/\tau)_j$ with $y \sim \mathrm{Dir}(\beta_k)$, $\tau = 20$.
The synthetic samples then set the conversion thresholds in place of the training data.

Paper: kim2022privatesnn.
"""

from __future__ import annotations

from typing import Callable

import torch


def class_similarity(w_last: torch.Tensor, *, eps: float = 1e-3) -> torch.Tensor:
    r"""Row-normalised cosine similarity of class weight vectors [K, D] -> [K, K] in $[\epsilon, 1]$ (Dirichlet concentrations).

    $\beta_{kj} = (\cos_{kj} - \min_j \cos_{kj}) / \max_j(\cos_{kj} - \min_j \cos_{kj})$, floored at $\epsilon$ so every
    concentration is positive. Paper: kim2022privatesnn (class-similarity matrix).
    """
    w = w_last / w_last.norm(dim=1, keepdim=True)
    cos = w @ w.T
    shifted = cos - cos.min(dim=1, keepdim=True).values
    return (shifted / shifted.max(dim=1, keepdim=True).values).clamp(min=eps)


def soft_cross_entropy(logits: torch.Tensor, targets: torch.Tensor, *, tau: float = 20.0) -> torch.Tensor:
    r"""$\frac{1}{B}\sum_b -\sum_j y_{bj}\log\mathrm{softmax}(z_b/\tau)_j$."""
    return -(targets * torch.log_softmax(logits / tau, dim=1)).sum(dim=1).mean()


def data_impressions(
    model: Callable[[torch.Tensor], torch.Tensor], targets: torch.Tensor, x0: torch.Tensor,
    *, steps: int = 200, lr: float = 0.05, tau: float = 20.0,
) -> torch.Tensor:
    r"""Optimise inputs from ``x0`` with Adam so that ``model`` outputs the soft ``targets``; returns the samples."""
    x = x0.clone().requires_grad_(True)
    opt = torch.optim.Adam([x], lr=lr)
    for _ in range(steps):
        loss = soft_cross_entropy(model(x), targets, tau=tau)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return x.detach()
