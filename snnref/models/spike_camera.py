r"""Spike-camera pixel model (shared by the spike-camera papers): integrate light, fire at a threshold, subtract it.

Each pixel accumulates the incoming light $A_t = A_{t-1} + I_t$ (intensity per sampling step); when $A_t \ge \theta$
it emits a spike and keeps the excess, $A_t \leftarrow A_t - \theta$. This is an IF neuron with soft reset driven by
the light intensity, so it is built from the core ``if_step``. For a constant intensity $I < \theta$ the inter-spike
interval is $\lfloor\theta/I\rfloor$ or $\lceil\theta/I\rceil$ and $\theta/\mathrm{ISI}$ recovers $I$ (texture from
interval).

Paper: zhao2022spike2flow (the sensor model its representation relies on).
"""

from __future__ import annotations

import torch

from snnref.neuron import if_step, multi_step
from snnref.surrogate import heaviside


def spike_camera_stream(intensity: torch.Tensor, *, theta: float, a0: torch.Tensor | None = None) -> torch.Tensor:
    r"""Binary spike stream [T, ...] of pixels with light intensity ``intensity`` [T, ...] and threshold $\theta$."""
    if not theta > 0:
        raise ValueError(f"theta must be > 0, got {theta!r}")
    spikes, _ = multi_step(if_step, intensity, a0, v_th=theta, v_reset=None, spike_fn=heaviside)
    return spikes
