r"""Fully Spiking VAE: Bernoulli latent spikes sampled by random selection, and the PSP-filtered distance between
posterior and prior.

The posterior (and the autoregressive prior) SNN outputs $k$ spikes $q_{t,1..k}$ per latent dimension and time step;
the latent spike is one of them chosen uniformly at random, so $z_t \sim \mathrm{Bernoulli}(\frac1k\sum_j q_{t,j})$
without any real-valued sampling. The distance term compares the firing probabilities of posterior and prior after a
post-synaptic-potential filter, $\mathcal{D} = \mathrm{mean}\big(\mathrm{PSP}(\bar q) - \mathrm{PSP}(\bar p)\big)^2$,
$\mathrm{PSP}_t = \mathrm{PSP}_{t-1} + (x_t - \mathrm{PSP}_{t-1})/\tau_s$.

Paper: kamata2022fsvae.
"""

from __future__ import annotations

import torch

from snnref.neuron import lif_charge


def random_select(q: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
    r"""Pick one of the last-axis $k$ spikes uniformly at random: [..., k] -> [...]; $z \sim \mathrm{Bernoulli}(\bar q)$.

    The gradient flows to the selected spike only. Paper: kamata2022fsvae (autoregressive Bernoulli spike sampling).
    """
    *batch, k = q.shape
    idx = torch.randint(0, k, tuple(batch), generator=generator)  # which of the k spikes, per latent unit
    return torch.gather(q, -1, idx.unsqueeze(-1)).squeeze(-1)


def psp(x_seq: torch.Tensor, *, tau_s: float = 2.0) -> torch.Tensor:
    r"""Post-synaptic potential filter over time-first [T, ...]: $\mathrm{PSP}_t = \mathrm{PSP}_{t-1} + (x_t - \mathrm{PSP}_{t-1})/\tau_s$."""
    out, v = [], x_seq.new_zeros(())  # PSP_0 = 0, broadcast to the shape of x_t
    for x in x_seq:
        v = lif_charge(x, v, tau=tau_s)  # a leaky integrator without firing
        out.append(v)
    return torch.stack(out)


def fsvae_distance(q: torch.Tensor, p: torch.Tensor, *, tau_s: float = 2.0) -> torch.Tensor:
    r"""$\mathrm{mean}\big((\mathrm{PSP}(\bar q) - \mathrm{PSP}(\bar p))^2\big)$ with $\bar q, \bar p$ the means over $k$; q, p: [T, ..., k].

    Paper: kamata2022fsvae (the distance that replaces the KL term; the official code calls it MMD).
    """
    return ((psp(q.mean(-1), tau_s=tau_s) - psp(p.mean(-1), tau_s=tau_s)) ** 2).mean()
