r"""Burst spikes: an IF neuron that may emit up to $\Gamma$ spikes in one time step, so residual charge is released.

charge $H_t = V_{t-1} + X_t$ (core :func:`~snnref.neuron.if_charge`);
fire $S_t = \mathrm{clip}\big(\lfloor H_t/\theta \rfloor, 0, \Gamma\big)$ (the only change);
reset by subtraction $V_t = H_t - \theta S_t$ (core :func:`~snnref.neuron.reset`).

$\Gamma = 1$ is the ordinary IF neuron. The layer emits $\theta S_t$ through the shared toolkit. Paper: li2022burst,
Sec. 4 (burst spikes), as in the authors' released code (``SNode`` with ``gamma``).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from snnref.conversion.toolkit import convert
from snnref.neuron import if_charge, reset


def burst_fire(h: torch.Tensor, *, v_th: float | torch.Tensor, gamma: int) -> torch.Tensor:
    r"""$S_t = \mathrm{clip}(\lfloor H_t/\theta \rfloor, 0, \Gamma)$: as many spikes as whole thresholds, at most $\Gamma$."""
    return torch.clamp(torch.floor(h / v_th), 0, gamma)


def burst_step(x: torch.Tensor, v: torch.Tensor, *, v_th: float | torch.Tensor = 1.0, v_reset: float | None = None,
               gamma: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """One burst-neuron step; returns ``(spike_count, v_next)``. Reset by subtraction only."""
    if v_reset is not None:
        raise ValueError(f"burst neurons reset by subtraction (v_reset=None), got v_reset={v_reset!r}")
    h = if_charge(x, v)
    s = burst_fire(h, v_th=v_th, gamma=gamma)
    return s, reset(h, s, v_th=v_th, v_reset=None)


def convert_burst(model: nn.Sequential, thresholds: list[float], *, gamma: int, **convert_kwargs: Any) -> nn.Sequential:
    r"""The toolkit's conversion with burst neurons of at most ``gamma`` spikes per step ($\Gamma \ge 1$)."""
    if not (isinstance(gamma, int) and gamma >= 1):
        raise ValueError(f"gamma must be an integer >= 1, got {gamma!r}")
    return convert(model, thresholds, step=burst_step, step_params={"gamma": gamma}, v_reset=None, **convert_kwargs)
