r"""Representational similarity analysis between a spiking network layer and neural recordings (Huang et al. 2023).

For $K$ stimuli, a representation $R \in \mathbb R^{K\times D}$ (time-averaged spike rates of an SNN layer, or
recorded responses) gives the representational dissimilarity matrix $\mathrm{RDM}_{ij} = 1 - \rho(R_i, R_j)$ (Pearson
correlation across units). The similarity of two representations is the Spearman rank correlation of the upper
triangles of their RDMs:

$$s(R, R') = \rho_{\text{Spearman}}\big(\mathrm{triu}(\mathrm{RDM}(R)),\ \mathrm{triu}(\mathrm{RDM}(R'))\big).$$
"""

from __future__ import annotations

import torch

from snnref.neuron import lif_step, multi_step


def spike_rates(x_seq: torch.Tensor, *, tau: float, v_th: float = 1.0) -> torch.Tensor:
    """Time-averaged spike rates [B, ...] of a LIF layer driven by ``x_seq`` [T, B, ...] (the SNN representation)."""
    spikes, _ = multi_step(lif_step, x_seq, tau=tau, v_th=v_th)
    return spikes.mean(0)


def rdm(r: torch.Tensor) -> torch.Tensor:
    r"""$\mathrm{RDM}_{ij} = 1 - \mathrm{corr}(R_i, R_j)$ for responses ``r`` [K stimuli, D units]."""
    z = r - r.mean(-1, keepdim=True)
    z = z / z.norm(dim=-1, keepdim=True)
    return 1 - z @ z.T


def _ranks(v: torch.Tensor) -> torch.Tensor:
    """Ranks 0..n-1 (ties broken by order; RDM entries of real data are almost surely distinct)."""
    return torch.argsort(torch.argsort(v)).to(v.dtype)


def rsa_similarity(r1: torch.Tensor, r2: torch.Tensor) -> torch.Tensor:
    r"""Spearman correlation between the upper triangles of the two RDMs. Paper: huang2023snnvisual (RSA metric)."""
    if r1.shape[0] != r2.shape[0]:
        raise ValueError(f"r1 and r2 must share the stimulus axis, got {r1.shape[0]} and {r2.shape[0]}")
    i, j = torch.triu_indices(r1.shape[0], r1.shape[0], offset=1)
    d = _ranks(rdm(r1)[i, j]) - _ranks(rdm(r2)[i, j])
    m = d.shape[0]
    return 1 - 6 * (d @ d) / (m * (m * m - 1))  # Spearman's rho for untied ranks
