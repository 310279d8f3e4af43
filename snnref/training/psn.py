r"""PSN: parallel spiking neurons without reset, all time steps at once (Fang et al., NeurIPS 2023).

Removing the reset makes the charge linear in the input sequence, so it becomes one matrix product over time:

$$H = W X, \qquad S = \Theta(H - B), \qquad W \in \mathbb{R}^{T \times T},\ B \in \mathbb{R}^{T}.$$

The masked PSN of order $k$ uses $W \odot M_k(\lambda)$ with $M_k(\lambda) = \lambda M_k + (1 - \lambda)$ and the band
mask $M_k[i, j] = [\,i - k < j \le i\,]$; the sliding PSN shares $k$ weights over time,
$H[t] = \sum_{i=0}^{k-1} w_i X[t - k + 1 + i]$. Paper: fang2023psn, PSN, masked PSN and sliding PSN.
"""

from __future__ import annotations

import torch

from snnref.neuron import fire
from snnref.surrogate import SpikeFn


def psn(x_seq: torch.Tensor, *, weight: torch.Tensor, threshold: torch.Tensor, spike_fn: SpikeFn) -> torch.Tensor:
    r"""$S = \Theta(WX - B)$ for $X$ of shape [T, B, ...], $W$ [T, T], $B$ [T]; returns spikes [T, B, ...]."""
    h = torch.einsum("ts,s...->t...", weight, x_seq)  # H[t] = sum_s W[t, s] X[s]
    return fire(h, v_th=threshold.view(-1, *([1] * (x_seq.dim() - 1))), spike_fn=spike_fn)  # B[t] for step t


def band_mask(T: int, k: int) -> torch.Tensor:
    r"""$M_k[i, j] = 1$ where $i - k < j \le i$ (the current step and the $k - 1$ before it), else 0."""
    if not 1 <= k <= T:
        raise ValueError(f"k must be in [1, T={T}], got {k!r}")
    i = torch.arange(T)
    return ((i.view(T, 1) - i.view(1, T) >= 0) & (i.view(T, 1) - i.view(1, T) < k)).to(torch.get_default_dtype())


def masked_psn_weight(weight: torch.Tensor, *, k: int, lam: float) -> torch.Tensor:
    r"""$W \odot (\lambda M_k + 1 - \lambda)$: $\lambda = 1$ is the order-$k$ masked PSN, $\lambda = 0$ the full PSN."""
    return weight * (lam * band_mask(weight.shape[0], k) + (1 - lam))


def sliding_psn_weight(w: torch.Tensor, T: int) -> torch.Tensor:
    r"""The [T, T] matrix of the sliding PSN: row $t$ holds $w_i$ at column $t - k + 1 + i$ (inside $[0, T)$)."""
    k = w.shape[0]
    i = torch.arange(T)
    lag = i.view(T, 1) - i.view(1, T)  # t - s
    # column s = t - k + 1 + i holds w_i, i.e. w[k - 1 - (t - s)], inside the band 0 <= t - s < k
    inside = (lag >= 0) & (lag < k)
    return inside.to(w.dtype) * w[(k - 1 - lag).clamp(0, k - 1)]
