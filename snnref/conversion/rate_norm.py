r"""Rate Norm Layer (Ding et al., IJCAI 2021): train the ANN on firing rates in [0, 1] with a learnable threshold.

RNL replaces ReLU by $r = \mathrm{clip}\big(\mathrm{ReLU}(x)/\theta,\ 0,\ 1\big)$, $\theta = p\,\lambda + \epsilon$, where
$\lambda$ is a running maximum of the layer's ReLU output (updated in training) and $p = \mathrm{sigmoid}(s)$ a
learnable fraction. $r$ is exactly the limit firing rate of a soft-reset IF neuron with threshold $\theta$, so the
trained weights are used on binary spikes without any rescaling. A per-layer statistic $k = \sum r / \lVert r\rVert_2^2$
is penalised to speed up inference (the paper's fit-curve bound; the official code's ``layerwise_k``).

Paper: ding2021rnl
"""

from __future__ import annotations

import torch
from torch import nn

from snnref.neuron import if_step


def rate_norm(x: torch.Tensor, *, theta: torch.Tensor | float) -> torch.Tensor:
    r"""$r = \mathrm{clip}(\mathrm{ReLU}(x)/\theta, 0, 1)$: the IF firing rate for threshold $\theta$. Paper: ding2021rnl, Eq. (RNL)."""
    # theta > 0, so clipping x/theta at 0 is the ReLU
    return torch.clamp(x / theta, 0.0, 1.0)


def layerwise_k(r: torch.Tensor, *, eps: float = 1e-5) -> torch.Tensor:
    r"""$k = \sum_i r_i / (\lVert r\rVert_2^2 + \epsilon)$ over a layer's rates (the official code's ``layerwise_k``)."""
    return r.sum() / (r.pow(2).sum() + eps)


class RateNormLayer(nn.Module):
    r"""ReLU replacement $r = \mathrm{clip}(\mathrm{ReLU}(x)/\theta, 0, 1)$, $\theta = \mathrm{sigmoid}(s)\,\lambda + \epsilon$.

    In training, $\lambda \leftarrow (1 - m)\lambda + m\max\mathrm{ReLU}(x)$ (momentum $m$); $s$ starts at 10
    ($p \approx 1$), as in the official code.
    """

    def __init__(self, *, momentum: float = 0.1, eps: float = 1e-6):
        super().__init__()
        if not 0 < momentum <= 1:
            raise ValueError(f"momentum must be in (0, 1], got {momentum!r}")
        self.momentum, self.eps = momentum, eps
        self.s = nn.Parameter(torch.tensor([10.0]))
        self.register_buffer("running_max", torch.ones(1))

    def theta(self) -> torch.Tensor:
        return torch.sigmoid(self.s) * self.running_max + self.eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            peak = torch.relu(x).max().detach()
            self.running_max = (1 - self.momentum) * self.running_max + self.momentum * peak
        return rate_norm(x, theta=self.theta())


def binary_if_step(x: torch.Tensor, v: torch.Tensor, *, v_th: float | torch.Tensor, v_reset: float | None = None
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Soft-reset IF step for the toolkit's neuron hook whose layer output is the binary spike $S_t$ (not $\theta S_t$).

    The toolkit multiplies the returned value by $\theta$, so this returns $S_t/\theta$; an RNL network then runs on
    binary spikes with its trained weights unchanged, as in the paper.
    """
    s, v_next = if_step(x, v, v_th=v_th, v_reset=v_reset)
    return s / v_th, v_next
