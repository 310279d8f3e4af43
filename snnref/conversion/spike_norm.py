r"""Spike-Norm: layer-wise threshold balancing on the SNN's own input currents (Sengupta et al. 2019).

Layer by layer, with the earlier layers already converted, each IF layer's threshold is set to the largest input
current any of its neurons receives at any time step while the SNN is driven by Poisson spike trains:
$V_{th}^l = \max_{t, j} \sum_i W^l_{ji} S^{l-1}_i(t)$, with binary spikes $S^{l-1}$ and the ANN's weights.
The shared toolkit's :func:`~snnref.conversion.toolkit.threshold_balancing` runs the same procedure with neurons that
emit $V_{th}^{l-1} S^{l-1}$ (so thresholds come out in ANN units, $\theta^l = \prod_{k \le l} V_{th}^k$); this module
returns the paper's per-layer thresholds for binary spikes and provides the Poisson input.

Paper: sengupta2019deeper
"""

from __future__ import annotations

import torch
from torch import nn

from snnref.conversion.toolkit import threshold_balancing


def poisson_input(x: torch.Tensor, T: int, *, generator: torch.Generator | None = None) -> torch.Tensor:
    r"""Poisson (Bernoulli-per-step) rate coding of ``x`` in $[0, 1]$: $S_t \sim \mathrm{Bernoulli}(x)$, ``[T, B, ...]``.

    Paper: sengupta2019deeper (input spike trains with rate proportional to pixel intensity).
    """
    if T < 1:
        raise ValueError(f"T must be >= 1, got {T!r}")
    if bool((x < 0).any()) or bool((x > 1).any()):
        raise ValueError("x must lie in [0, 1] to be a spike probability")
    u = torch.rand((T, *x.shape), generator=generator, dtype=x.dtype)  # [T, B, ...]
    return (u < x).to(x.dtype)


def spike_norm_thresholds(model: nn.Sequential, x_seq: torch.Tensor, *, v_reset: float | None = 0.0) -> list[float]:
    r"""Spike-Norm thresholds $V_{th}^l = \max_{t,j} (W^l S^{l-1}(t))_j$ for binary spikes, layer by layer.

    ``x_seq`` is the input spike train ``[T, B, ...]``; reset to zero by default, as in the paper.
    Paper: sengupta2019deeper, Algorithm 1 (Spike-Norm).
    """
    theta = threshold_balancing(model, x_seq, v_reset=v_reset)
    # the toolkit's layer l-1 emits theta^{l-1} S, so its currents are theta^{l-1} times the binary-spike currents
    return [theta[0]] + [theta[l] / theta[l - 1] for l in range(1, len(theta))]
