r"""Signed neuron with memory (SNM) and neuron-wise thresholds (Wang et al., IJCAI 2022).

An SNM neuron fires a positive spike when $V \ge \theta$ and a negative spike when $V \le -\theta$, but a negative
spike only if the neuron has so far sent a positive net count ("memory" $M > 0$). Both reset by subtraction:
$V_t = H_t - \theta(S^+_t - S^-_t)$, $M_t = M_{t-1} + S^+_t - S^-_t$. A neuron can thus take back spikes it fired on
early positive input that later input cancels, so its total output never goes negative and tracks
$\mathrm{ReLU}$ of its summed input within one threshold, whatever the order of arrival. Thresholds are set per neuron
(the neuron's maximum activation on the data) rather than per layer.

Paper: wang2022snm
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from snnref.conversion.toolkit import activation_values
from snnref.neuron import if_charge
from snnref.surrogate import heaviside


class SNMState(NamedTuple):
    v: torch.Tensor   # membrane potential
    m: torch.Tensor   # memory: net number of spikes sent so far (positive minus negative)


def snm_init_state(x0: torch.Tensor, v_th: float | torch.Tensor, v0_frac: float = 0.0) -> SNMState:
    r"""$V_0 = \varphi\theta$ (0 in the paper), $M_0 = 0$."""
    return SNMState(torch.zeros_like(x0) + v0_frac * v_th, torch.zeros_like(x0))


def snm_step(x: torch.Tensor, state: SNMState, *, v_th: float | torch.Tensor, v_reset: None = None
             ) -> tuple[torch.Tensor, SNMState]:
    r"""One SNM step; returns the signed spike $S_t = S^+_t - S^-_t \in \{-1, 0, 1\}$ and the new state.

    $H_t = V_{t-1} + x_t$; $S^+_t = \Theta(H_t - \theta)$; $S^-_t = \Theta(-\theta - H_t)\,[M_{t-1} > 0]$;
    $V_t = H_t - \theta S_t$; $M_t = M_{t-1} + S_t$. Paper: wang2022snm (official ``SPIKE_PosNeg_layer``).
    """
    if v_reset is not None:
        raise ValueError(f"SNM neurons reset by subtraction; v_reset must be None, got {v_reset!r}")
    h = if_charge(x, state.v)
    pos = heaviside(h - v_th)
    # a negative spike needs a negative crossing and a positive net count already sent
    neg = heaviside(-v_th - h) * (state.m > 0).to(h.dtype)
    s = pos - neg
    return s, SNMState(h - v_th * s, state.m + s)


def neuron_wise_thresholds(model: nn.Sequential, x: torch.Tensor) -> list[torch.Tensor]:
    r"""$\theta^l_i = \max_{\text{samples}} a^l_i$ per neuron (position included); a neuron never active on ``x`` gets its layer's maximum.

    Paper: wang2022snm (neuron-wise normalization; the official code keeps a running element-wise maximum).
    """
    out = []
    for a in activation_values(model, x):
        peak = a.max(dim=0).values          # [C, H, W] or [N]: one threshold per neuron
        out.append(torch.where(peak > 0, peak, a.max()))
    return out
