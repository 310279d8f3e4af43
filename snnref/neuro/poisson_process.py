r"""Neural-network Poisson process for spike trains on rescaled trial time (Khajehnejad et al. 2022).

Each trial $n$ is observed up to $W_n = \min(W, r_n)$ (the window or the response time); spike times $t'$ are
rescaled to $u = t'/W_n \in [0, 1]$. A network monotone in $u$ gives the cumulative intensity
$\Lambda(u \mid c) = f(u, c) - f(0, c)$ for a trial context $c$ (stimulus, choice, latent), the intensity is
$\lambda = \partial\Lambda/\partial u$, and the inhomogeneous-Poisson log-likelihood in original time is

$$\log p(\{t'_i\}) = \sum_i \left[\log\lambda(t'_i/W_n \mid c) - \log W_n\right] - \Lambda(1 \mid c).$$
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class MonotoneCumulativeIntensity(nn.Module):
    r"""$\Lambda(u \mid c) = f(u, c) - f(0, c)$ with $f = \mathrm{softplus}(a)^\top\tanh(\mathrm{softplus}(w)u + Vc + b) + \mathrm{softplus}(k)u$.

    Positive weights on every path from $u$ make $f$ increasing in $u$, so $\lambda \ge 0$ everywhere.
    """

    def __init__(self, *, n_context: int, hidden: int = 16):
        super().__init__()
        if not n_context >= 0:
            raise ValueError(f"n_context must be >= 0, got {n_context!r}")
        if not hidden >= 1:
            raise ValueError(f"hidden must be >= 1, got {hidden!r}")
        self.w = nn.Parameter(torch.randn(hidden) * 0.5)
        self.a = nn.Parameter(torch.randn(hidden) * 0.5)
        self.k = nn.Parameter(torch.zeros(()))
        self.context = nn.Linear(n_context, hidden)

    def f(self, u: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """``u`` [B, S], ``c`` [B, n_context] -> [B, S]."""
        h = torch.tanh(F.softplus(self.w) * u.unsqueeze(-1) + self.context(c).unsqueeze(1))
        return h @ F.softplus(self.a) + F.softplus(self.k) * u

    def forward(self, u: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return self.f(u, c) - self.f(torch.zeros_like(u), c)


def intensity(model: MonotoneCumulativeIntensity, u: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    r"""$\lambda(u \mid c) = \partial\Lambda/\partial u$ by autograd (differentiable, for training)."""
    u = u if u.requires_grad else u.clone().requires_grad_(True)
    (lam,) = torch.autograd.grad(model(u, c).sum(), u, create_graph=True)
    return lam


def poisson_log_likelihood(
    model: MonotoneCumulativeIntensity, t: torch.Tensor, mask: torch.Tensor, window: torch.Tensor, c: torch.Tensor
) -> torch.Tensor:
    r"""Per-trial $\sum_i m_i[\log\lambda(t_i/W_n) - \log W_n] - \Lambda(1)$; ``t``, ``mask`` [B, S], ``window`` [B].

    Paper: khajehnejad2022poisson, the point-process likelihood on rescaled time.
    """
    u = t / window.unsqueeze(-1)
    lam = intensity(model, u, c)
    log_terms = (torch.log(lam) - torch.log(window).unsqueeze(-1)) * mask
    total = model(torch.ones_like(window).unsqueeze(-1), c)[:, 0]
    return log_terms.sum(-1) - total
