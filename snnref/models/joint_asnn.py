r"""Joint A-SNN weight factorization: an ANN and an SNN that share singular vectors and keep their own singular values.

Each weight is factorized once, at initialisation, by SVD, $W = U\,\mathrm{diag}(\sigma)\,V^\top$; then
$W_{ANN} = U\,\mathrm{diag}(\sigma_{ANN})\,V^\top$ and $W_{SNN} = U\,\mathrm{diag}(\sigma_{SNN})\,V^\top$ with $U, V$
shared (trained by both networks) and $\sigma_{ANN}, \sigma_{SNN}$ separate, both starting at $\sigma$. Convolution
kernels [C_out, C_in, k, k] are factorized per kernel position (a batch of C_out x C_in matrices).

Paper: guo2023jointasnn.
"""

from __future__ import annotations

import torch
from torch import nn


def factorize(weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""SVD $W = U\,\mathrm{diag}(\sigma)\,V^\top$ of a linear [out, in] or conv [out, in, k, k] weight (per position)."""
    mats = weight if weight.dim() == 2 else weight.permute(2, 3, 0, 1)  # [k, k, out, in]
    u, sigma, vh = torch.linalg.svd(mats, full_matrices=False)
    return u, sigma, vh


def compose(u: torch.Tensor, sigma: torch.Tensor, vh: torch.Tensor) -> torch.Tensor:
    r"""$U\,\mathrm{diag}(\sigma)\,V^\top$, back in the weight's layout ([out, in] or [out, in, k, k])."""
    w = (u * sigma.unsqueeze(-2)) @ vh
    return w if w.dim() == 2 else w.permute(2, 3, 0, 1)


class SharedFactorizedWeight(nn.Module):
    """Holds shared $U, V$ and per-network $\\sigma_{ANN}, \\sigma_{SNN}$; ``weight(snn)`` returns that network's weight."""

    def __init__(self, weight: torch.Tensor):
        super().__init__()
        if weight.dim() not in (2, 4):
            raise ValueError(f"weight must be 2-D (linear) or 4-D (conv), got {weight.dim()}-D")
        u, sigma, vh = factorize(weight.detach())
        self.u, self.vh = nn.Parameter(u), nn.Parameter(vh)
        self.sigma_ann, self.sigma_snn = nn.Parameter(sigma.clone()), nn.Parameter(sigma.clone())

    def weight(self, snn: bool) -> torch.Tensor:
        return compose(self.u, self.sigma_snn if snn else self.sigma_ann, self.vh)
