r"""AutoSNN's spike-aware fitness for evolutionary architecture search.

A candidate SNN architecture $A$ is scored by its validation accuracy weighted by how many spikes it fires,
$F(A) = \mathrm{ACC}(A)\times\left(\frac{\#\mathrm{Spikes}(A)}{N_{spk}}\right)^{\lambda}$ with $\lambda \le 0$, where
$N_{spk}$ is a normalising spike count (the official code uses the supernet's average). The evolutionary search keeps
the top-$k$ candidates by $F$.

Paper: na2022autosnn.
"""

from __future__ import annotations

import torch

from snnref.neuron import lif_step, multi_step


def spike_aware_fitness(acc: torch.Tensor, spikes: torch.Tensor, *, n_spk: float, lam: float) -> torch.Tensor:
    r"""$F = \mathrm{ACC}\times(\#\mathrm{Spikes}/N_{spk})^{\lambda}$; $\lambda = 0$ is accuracy alone, $\lambda < 0$ rewards fewer spikes.

    Paper: na2022autosnn, spike-aware fitness.
    """
    if not n_spk > 0:
        raise ValueError(f"n_spk must be > 0, got {n_spk!r}")
    if lam > 0:
        raise ValueError(f"lam must be <= 0 (a positive lambda rewards spikes), got {lam!r}")
    return acc * (spikes / n_spk) ** lam


def count_spikes(x_seq: torch.Tensor, *, tau: float, v_th: float = 1.0) -> torch.Tensor:
    r"""Total spikes $\sum_{t,i} S_t^i$ a LIF layer fires on input currents ``x_seq`` [T, B, N]; returns [B]."""
    spikes, _ = multi_step(lif_step, x_seq, tau=tau, v_th=v_th)  # [T, B, N]
    return spikes.sum(dim=(0, 2))


def select_topk(fitness: torch.Tensor, k: int) -> torch.Tensor:
    """Indices of the k fittest candidates, fittest first (the survivors of one evolution round)."""
    if not 1 <= k <= fitness.numel():
        raise ValueError(f"k must be in [1, {fitness.numel()}], got {k!r}")
    return torch.argsort(fitness, descending=True)[:k]
