r"""Langevin sampling with a natural-gradient geometry (Masset et al. 2022), the dynamics their spiking samplers emulate.

For a target $p(x) \propto e^{-E(x)}$, the general Langevin sampler (Ma et al.'s "complete recipe")

$$dx = (B + Q)\,\nabla\log p(x)\,dt + \sqrt{2B}\,dW,\qquad B \succeq 0,\ Q = -Q^\top,$$

keeps $p$ stationary for any such $B$ and $Q$. The *natural-gradient* choice is $B = \mathcal I^{-1}$, the inverse
Fisher information (for a Gaussian target, its covariance $\Sigma$), which makes every direction relax at the
same rate however correlated the target is. One Euler–Maruyama step:
$x_{t+1} = x_t + \Delta t\,(B + Q)\nabla\log p(x_t) + \sqrt{2\Delta t}\,L\xi_t$, with $LL^\top = B$.
"""

from __future__ import annotations

import torch


def langevin_step(
    x: torch.Tensor, grad_log_p: torch.Tensor, xi: torch.Tensor, *, B: torch.Tensor, Q: torch.Tensor, dt: float
) -> torch.Tensor:
    r"""$x + \Delta t\,(B + Q)\nabla\log p + \sqrt{2\Delta t}\,\mathrm{chol}(B)\,\xi$ for ``x``, ``grad_log_p``, ``xi`` [B, D].

    Paper: masset2022natural, the Langevin sampler with geometry $B$ and skew part $Q$ (Section 2).
    """
    if not dt > 0:
        raise ValueError(f"dt must be > 0, got {dt!r}")
    if not torch.allclose(Q, -Q.T):
        raise ValueError("Q must be skew-symmetric")
    L = torch.linalg.cholesky(B)  # raises if B is not positive definite
    return x + dt * grad_log_p @ (B + Q).T + (2 * dt) ** 0.5 * xi @ L.T


def gaussian_grad_log_p(x: torch.Tensor, *, mu: torch.Tensor, precision: torch.Tensor) -> torch.Tensor:
    r"""$\nabla\log\mathcal N(x; \mu, \Sigma) = -\Sigma^{-1}(x - \mu)$ for ``x`` [B, D]."""
    return -(x - mu) @ precision  # precision is symmetric
