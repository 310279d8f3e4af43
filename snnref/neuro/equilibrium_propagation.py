r"""Equilibrium Propagation (Scellier & Bengio 2017) on a continuous Hopfield network.

Units $u = (x, s)$: clamped inputs $x$ and free units $s$ (hidden and output). Energy and total energy

$$E(s) = \tfrac12\lVert s\rVert^2 - \tfrac12\rho(u)^\top W \rho(u) - b^\top \rho(s),\qquad
F = E + \beta C,\quad C = \tfrac12\lVert s_{out} - d\rVert^2,$$

with $W$ symmetric, zero diagonal. Free phase: relax $\dot s = -\partial F/\partial s$ at $\beta = 0$ to $s^0$;
nudged phase: from $s^0$ at small $\beta > 0$ to $s^\beta$. The local contrastive rule

$$\Delta W_{ij} = \frac{1}{\beta}\left(\rho(u^\beta_i)\rho(u^\beta_j) - \rho(u^0_i)\rho(u^0_j)\right),\qquad
\Delta b_i = \frac{1}{\beta}\left(\rho(s^\beta_i) - \rho(s^0_i)\right)$$

tends to $-\partial J/\partial\theta$ for the objective $J = C(s^0)$ as $\beta \to 0$.
"""

from __future__ import annotations

from typing import Callable

import torch


def hard_sigmoid(s: torch.Tensor) -> torch.Tensor:
    r"""The paper's $\rho(s) = \min(\max(s, 0), 1)$."""
    return s.clamp(0.0, 1.0)


def total_energy(s: torch.Tensor, x: torch.Tensor, d: torch.Tensor, *, W: torch.Tensor, b: torch.Tensor,
                 beta: float, n_out: int, rho: Callable[[torch.Tensor], torch.Tensor] = hard_sigmoid) -> torch.Tensor:
    r"""$F = \frac12\lVert s\rVert^2 - \frac12\rho(u)^\top W\rho(u) - b^\top\rho(s) + \frac{\beta}{2}\lVert s_{out} - d\rVert^2$.

    ``s`` [B, N_free] (the last ``n_out`` free units are outputs), ``x`` [B, N_in], ``W`` [N_in+N_free]^2 symmetric.
    Paper: scellier2017equilibrium, Section 2 (energy $E$, cost $C$, total energy $F$).
    """
    r = rho(torch.cat([x, s], dim=-1))
    e = 0.5 * (s * s).sum(-1) - 0.5 * ((r @ W) * r).sum(-1) - (rho(s) * b).sum(-1)
    return e + beta * 0.5 * ((s[..., -n_out:] - d) ** 2).sum(-1)


def relax(s: torch.Tensor, x: torch.Tensor, d: torch.Tensor, *, W: torch.Tensor, b: torch.Tensor, beta: float,
          n_out: int, eps: float, steps: int, rho: Callable[[torch.Tensor], torch.Tensor] = hard_sigmoid
          ) -> torch.Tensor:
    r"""Euler steps of the leaky-integrator dynamics $s \leftarrow s - \epsilon\,\partial F/\partial s$ (Paper, Section 2)."""
    s = s.detach()
    for _ in range(steps):
        s.requires_grad_(True)
        (g,) = torch.autograd.grad(total_energy(s, x, d, W=W, b=b, beta=beta, n_out=n_out, rho=rho).sum(), s)
        s = (s - eps * g).detach()
    return s


def ep_update(s_free: torch.Tensor, s_nudged: torch.Tensor, x: torch.Tensor, *, beta: float,
              rho: Callable[[torch.Tensor], torch.Tensor] = hard_sigmoid) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Local EP rule $(\Delta W, \Delta b)$, batch-averaged; $\approx -\partial J/\partial(W, b)$ for small $\beta$.

    Paper: scellier2017equilibrium, Section 2 (the learning rule) and Section 3, Theorem 1.
    """
    if not beta != 0:
        raise ValueError(f"beta must be non-zero, got {beta!r}")
    r0, rb = rho(torch.cat([x, s_free], -1)), rho(torch.cat([x, s_nudged], -1))
    n = x.shape[0]
    dW = (rb.T @ rb - r0.T @ r0) / (beta * n)
    dW = dW - torch.diag(torch.diagonal(dW))  # no self-connections
    db = (rho(s_nudged) - rho(s_free)).mean(0) / beta
    return dW, db
