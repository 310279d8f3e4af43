r"""Residual membrane potential (RMP) neuron: IF with reset by subtraction for conversion (Han et al., CVPR 2020).

A "hard reset" IF neuron drops whatever potential exceeded the threshold when it fires; an RMP neuron keeps it:
$V_t = V_{t-1} + z_t - V_{th}S_t$, $S_t = \Theta(V_{t-1} + z_t - V_{th})$. Summing over $T$ steps,
$V_{th}N_T = V_0 + \sum_t z_t - V_T$, so the spike count tracks the integrated input up to one threshold and the
input-output response is linear, where the hard-reset neuron's rate $1/\lceil V_{th}/z\rceil$ is not.

Paper: han2020rmp
"""

from __future__ import annotations

import torch
from torch import nn

from snnref.conversion.toolkit import convert
from snnref.neuron import if_step


def rmp_step(x: torch.Tensor, v: torch.Tensor, *, v_th: float | torch.Tensor, v_reset: None = None
             ) -> tuple[torch.Tensor, torch.Tensor]:
    r"""One RMP step: $H_t = V_{t-1} + z_t$, $S_t = \Theta(H_t - V_{th})$, $V_t = H_t - V_{th}S_t$ (soft reset only).

    Paper: han2020rmp (RMP neuron).
    """
    if v_reset is not None:
        raise ValueError(f"an RMP neuron resets by subtraction; v_reset must be None, got {v_reset!r}")
    return if_step(x, v, v_th=v_th, v_reset=None)


def convert_rmp(model: nn.Sequential, thresholds: list[float]) -> nn.Sequential:
    """Convert ``model`` with RMP neurons (soft reset, $V_0 = 0$) at the given per-layer thresholds. Paper: han2020rmp."""
    return convert(model, thresholds, v_reset=None, step=rmp_step)
