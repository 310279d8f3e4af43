r"""Rand Softplus (RSP): a blend of ReLU and softplus whose share of softplus follows the noise in the input.

A LIF neuron driven by noisy current responds like a smoothed ReLU: it fires a little below threshold, and the more
noise, the smoother the bend. RSP models this with one scale factor $\eta$ per layer,

$$f_{RSP}(x) = (1 - \eta)\max(0, x) + \eta\,\log\!\left(1 + e^{x}\right),$$

so $\eta = 0$ is ReLU (no noise) and $\eta = 1$ is softplus. The paper sets $\eta$ from the noise level of the layer's
input data rather than training it; here it is an argument ($0 \le \eta \le 1$, a convex blend).

Paper: chen2019rsp (the RSP definition); the same authors' Noisy Softplus is
:mod:`snnref.conversion.noisy_softplus`.
"""

from __future__ import annotations

import torch
from torch import nn


def rand_softplus(x: torch.Tensor, *, eta: float | torch.Tensor) -> torch.Tensor:
    r"""$f_{RSP}(x) = (1-\eta)\max(0, x) + \eta\log(1 + e^{x})$; $\eta$ broadcasts against ``x``.

    Paper: chen2019rsp, the RSP equation.
    """
    eta_t = torch.as_tensor(eta, dtype=x.dtype)
    if not bool(((eta_t >= 0) & (eta_t <= 1)).all()):
        raise ValueError(f"eta must lie in [0, 1], got {eta!r}")
    # log(1 + e^x) = logaddexp(0, x): exact for large |x| (F.softplus switches to x above 20)
    softplus = torch.logaddexp(torch.zeros_like(x), x)
    return (1 - eta_t) * torch.relu(x) + eta_t * softplus


class RandSoftplus(nn.Module):
    r"""RSP activation layer with a fixed scale factor $\eta$ (set it from the input noise level, see the note)."""

    def __init__(self, *, eta: float):
        super().__init__()
        if not 0 <= eta <= 1:
            raise ValueError(f"eta must lie in [0, 1], got {eta!r}")
        self.eta = eta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return rand_softplus(x, eta=self.eta)
