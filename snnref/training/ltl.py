r"""Local Tandem Learning (LTL): each SNN layer learns to reproduce the matching layer of a pre-trained ANN (Yang et al., NeurIPS 2022).

The teacher ANN gives a target activation $a^l$ for every layer. The student SNN layer $l$ is driven by the spikes of
SNN layer $l-1$ and trained on a local loss between its firing rate over the $T$ steps and the teacher's activation,

$$\mathcal{L}^l = \frac{1}{N_l}\left\| a^l - r^l \right\|_2^2, \qquad r^l = \frac{1}{T}\sum_{t=1}^{T} s^l[t],$$

with the gradient stopped at the layer's input, so the layers learn independently (decoupled) and in parallel; inside
a layer the gradient runs through time with a surrogate spike derivative (the offline LTL rule).

Paper: yang2022ltl, the offline LTL rule (loss form: see the note's limitations).
"""

from __future__ import annotations

import torch

from snnref.neuron import lif_step, multi_step
from snnref.surrogate import SpikeFn, atan_spike


def firing_rate(spikes: torch.Tensor) -> torch.Tensor:
    r"""$r = \frac{1}{T}\sum_t s[t]$ of a spike train [T, B, ...]."""
    return sum(spikes) / len(spikes)


def ltl_local_loss(spikes: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    r"""$\frac{1}{N}\| a - r \|^2$: mean squared gap between the teacher activation and the layer's firing rate."""
    return (firing_rate(spikes) - target).pow(2).mean()


def ltl_layer(
    in_spikes: torch.Tensor,
    weight: torch.Tensor,
    *,
    tau: float,
    v_th: float,
    v_reset: float | None = None,
    spike_fn: SpikeFn = atan_spike,
) -> torch.Tensor:
    r"""One student layer: LIF neurons driven by $W s^{l-1}[t]$; returns its spikes [T, B, N_out].

    The input spikes are detached, so a local loss on this layer trains ``weight`` only (layer decoupling).
    """
    current = in_spikes.detach() @ weight.T  # [T, B, N_out]
    spikes, _ = multi_step(lif_step, current, tau=tau, v_th=v_th, v_reset=v_reset, spike_fn=spike_fn)
    return spikes
