r"""Soft threshold pruning with the learning-rate-adapted threshold scheduler (LATS).

A pruned weight is a soft-thresholded latent parameter, $w = S_d(\theta) = \mathrm{sign}(\theta)\max(|\theta| - d, 0)$,
whose backward pass is straight-through ($\partial w / \partial \theta = 1$, as in the official code). Plain SGD
on $\theta$ with a growing threshold is then an implicit ISTA on $f(w) + \lambda\|w\|_1$ when the threshold grows
by the step size times $\lambda$ (LATS): $d_{k+1} = d_k + \eta_k\lambda$.

Paper: chen2023lats.
"""

from __future__ import annotations

import torch


class _SoftThresholdST(torch.autograd.Function):
    @staticmethod
    def forward(ctx, theta: torch.Tensor, d: float) -> torch.Tensor:  # type: ignore[override]
        return torch.sign(theta) * torch.relu(theta.abs() - d)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):  # type: ignore[override]
        # straight-through: the ReLU's zero slope is ignored, so dw/dtheta = sign^2 = 1
        return grad_out, None


def soft_threshold(theta: torch.Tensor, *, d: float) -> torch.Tensor:
    r"""The soft-threshold reparameterisation $w = S_d(\theta) = \mathrm{sign}(\theta)\max(|\theta| - d, 0)$.

    $S_d$ is the proximal operator of $d\|\cdot\|_1$. Backward is straight-through, $\partial w/\partial\theta = 1$.
    Paper: chen2023lats (soft threshold mapping, straight-through as in the official code).
    """
    if d < 0:
        raise ValueError(f"d must be >= 0, got {d!r}")
    return _SoftThresholdST.apply(theta, d)


def lats_threshold(d: float, *, eta: float, lam: float) -> float:
    r"""LATS threshold update $d_{k+1} = d_k + \eta_k \lambda$: the threshold grows in step with the learning rate.

    Keeping $(d_{k+1} - d_k)/\eta_k = \lambda$ constant keeps the implicit $L_1$ coefficient time-invariant.
    Paper: chen2023lats (LATS).
    """
    return d + eta * lam


def soft_threshold_pruning_step(
    theta: torch.Tensor, grad_w: torch.Tensor, d: float, *, eta: float, lam: float
) -> tuple[torch.Tensor, float]:
    r"""One step of soft threshold pruning with LATS; returns ``(theta_next, d_next)``.

    $\theta_{k+1} = \theta_k - \eta_k \nabla f(w_k)$ (SGD through the straight-through map),
    $d_{k+1} = d_k + \eta_k\lambda$; the pruned weight is then $w_{k+1} = S_{d_{k+1}}(\theta_{k+1})$.
    Where $w$ keeps its sign this equals the ISTA step $w_{k+1} = S_{\eta_k\lambda}(w_k - \eta_k\nabla f(w_k))$.
    Paper: chen2023lats (Algorithm 1, the general soft threshold pruning loop with SGD, plus LATS).
    """
    return theta - eta * grad_w, lats_threshold(d, eta=eta, lam=lam)
