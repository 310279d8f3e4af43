r"""PLIF: the LIF neuron with a learnable membrane time constant (Fang et al., ICCV 2021).

The leak $1/\tau$ is parameterized as $k(a) = \sigma(a) = 1/(1 + e^{-a})$ with $a$ learned by backpropagation
(one value per layer), so $\tau = 1/\sigma(a) \in (1, \infty)$ for every real $a$:

$$H_t = V_{t-1} + k(a)\left(X_t - (V_{t-1} - V_{reset})\right), \quad S_t = \Theta(H_t - V_{th}), \quad
V_t = H_t(1 - S_t) + V_{reset}S_t.$$

Paper: fang2021plif, the PLIF neuron.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from snnref.neuron import lif_step, multi_step
from snnref.surrogate import SpikeFn


def plif_step(
    x: torch.Tensor, v: torch.Tensor, *, a: torch.Tensor, v_th: float, v_reset: float, spike_fn: SpikeFn
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""One PLIF step: the core LIF step with $1/\tau = \sigma(a)$; returns ``(spike, v_next)``."""
    return lif_step(x, v, tau=1 / torch.sigmoid(a), v_th=v_th, v_reset=v_reset, spike_fn=spike_fn)


class PLIF(nn.Module):
    """Multi-step PLIF layer over [T, B, ...]: holds the learnable ``a`` (initialized so that tau = ``init_tau``)."""

    def __init__(self, *, init_tau: float, v_th: float, v_reset: float, spike_fn: SpikeFn):
        super().__init__()
        if not init_tau > 1:
            raise ValueError(f"init_tau must be > 1 (sigmoid(a) = 1/tau lies in (0, 1)), got {init_tau!r}")
        # sigmoid(a) = 1 / init_tau  <=>  a = -ln(init_tau - 1)
        self.a = nn.Parameter(torch.tensor(-math.log(init_tau - 1)))
        self.v_th, self.v_reset, self.spike_fn = v_th, v_reset, spike_fn

    @property
    def tau(self) -> torch.Tensor:
        return 1 / torch.sigmoid(self.a)

    def forward(self, x_seq: torch.Tensor) -> torch.Tensor:
        spikes, _ = multi_step(plif_step, x_seq, a=self.a, v_th=self.v_th, v_reset=self.v_reset, spike_fn=self.spike_fn)
        return spikes  # [T, B, ...]
