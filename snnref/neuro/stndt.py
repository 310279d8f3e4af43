r"""STNDT (Le & Shlizerman 2022): spatiotemporal attention over binned spike counts, masked Poisson loss, contrastive loss.

Input $X \in \mathbb R^{T\times N}$ (time bins x neurons). Temporal attention treats time bins as tokens and
spatial attention treats neurons as tokens; the temporal features are the values the spatial attention mixes:

$$Z_T = \mathrm{softmax}\!\left(\tfrac{Q_TK_T^\top}{\sqrt{N}}\right)V_T,\quad
A_S = \mathrm{softmax}\!\left(\tfrac{Q_SK_S^\top}{\sqrt{T}}\right),\quad Z = (A_S Z_T^\top)^\top,$$

with $Q_T, K_T, V_T = XW^T_{q,k,v}$ and $Q_S, K_S = X^\top W^S_{q,k}$. Training combines the Poisson negative
log-likelihood of masked bins with an NT-Xent contrastive loss between two augmented views.
"""

from __future__ import annotations

import math

import torch


def spatiotemporal_attention(x: torch.Tensor, *, wq_t: torch.Tensor, wk_t: torch.Tensor, wv_t: torch.Tensor,
                             wq_s: torch.Tensor, wk_s: torch.Tensor) -> torch.Tensor:
    r"""Single-head STNDT block for ``x`` [B, T, N]: temporal attention, then spatial attention over its output.

    Paper: le2022stndt, spatiotemporal attention (Fig. 1).
    """
    t, n = x.shape[-2], x.shape[-1]
    a_t = torch.softmax((x @ wq_t) @ (x @ wk_t).transpose(-1, -2) / math.sqrt(n), dim=-1)  # [B, T, T]
    z_t = a_t @ (x @ wv_t)  # [B, T, N]
    xs = x.transpose(-1, -2)  # neurons as tokens: [B, N, T]
    a_s = torch.softmax((xs @ wq_s) @ (xs @ wk_s).transpose(-1, -2) / math.sqrt(t), dim=-1)  # [B, N, N]
    return (a_s @ z_t.transpose(-1, -2)).transpose(-1, -2)  # [B, T, N]


def masked_poisson_nll(log_rate: torch.Tensor, counts: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    r"""Mean over masked bins of $-\log \mathrm{Poisson}(k; \lambda) = \lambda - k\log\lambda + \log k!$, $\lambda = e^{\ell}$."""
    nll = torch.exp(log_rate) - counts * log_rate + torch.lgamma(counts + 1)
    return (nll * mask).sum() / mask.sum()


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, *, temperature: float) -> torch.Tensor:
    r"""NT-Xent: $-\frac{1}{2B}\sum_i \log\frac{e^{s_{i,p(i)}/\tau}}{\sum_{k\ne i} e^{s_{ik}/\tau}}$, $s$ = cosine similarity.

    ``z1``, ``z2`` [B, D] are embeddings of two augmented views; $p(i)$ is sample $i$'s other view.
    Paper: le2022stndt, the contrastive loss that accompanies mask modeling.
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature!r}")
    z = torch.nn.functional.normalize(torch.cat([z1, z2]), dim=-1)
    b = z1.shape[0]
    sim = z @ z.T / temperature
    sim = sim.masked_fill(torch.eye(2 * b, dtype=torch.bool), float("-inf"))  # exclude k = i
    positive = torch.cat([torch.arange(b, 2 * b), torch.arange(b)])
    return torch.nn.functional.cross_entropy(sim, positive)
