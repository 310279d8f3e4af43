r"""Calibrating offset spikes: read the extra / missing spike off the residual potential and shift $v(0)$ by $\theta$.

For a soft-reset IF neuron started at $v(0) = \theta/2$, after $\rho$ steps with mean input $\bar z$ the count is
$N = \frac{\rho\bar z}{\theta} + \frac12 - \frac{v(\rho)}{\theta}$, so its offset from the desired (QCFS) count
$\lfloor \rho\bar z/\theta + \frac12 \rfloor$ is

$$\psi = N - \left\lfloor \frac{\rho\bar z}{\theta} + \frac12 \right\rfloor = -\left\lfloor \frac{v(\rho)}{\theta} \right\rfloor,
\qquad v(0) \leftarrow v(0) - \psi\,\theta .$$

Shifting by one threshold removes (adds) exactly one spike: the shifted trajectory rejoins the original at the first
spike it skips (adds). The official code restricts $\psi$ to $\pm 1$ (extra spike: $v(\rho) < 0$ after at least one
spike; missing spike: $v(\rho) \ge \theta$). Paper: hao2023bridging, Sec. 4 (offset spike, shifting the initial
membrane potential).
"""

from __future__ import annotations

import torch
from torch import nn

from snnref.conversion.calibration import PotentialOffset
from snnref.conversion.toolkit import SpikingNeuron


def offset_spikes(v_rho: torch.Tensor, n_spikes: torch.Tensor, *, v_th: float | torch.Tensor) -> torch.Tensor:
    r"""$\psi \in \{-1, 0, 1\}$: $+1$ if $v(\rho) < 0$ after a spike, $-1$ if $v(\rho) \ge \theta$, else 0."""
    extra = (v_rho < 0) & (n_spikes > 0)
    missing = v_rho >= v_th
    return extra.to(v_rho.dtype) - missing.to(v_rho.dtype)


class OffsetCalibratedNeuron(SpikingNeuron):
    r"""Pre-simulates $\rho$ steps from $v(0) = \varphi\theta$, then runs the whole input from $v(0) - \psi\theta$."""

    def __init__(self, *, rho: int, **neuron_kwargs):
        super().__init__(**neuron_kwargs)
        if not (isinstance(rho, int) and rho >= 1):
            raise ValueError(f"rho must be an integer >= 1, got {rho!r}")
        if self.v_reset is not None:
            raise ValueError(f"offset calibration needs reset by subtraction (v_reset=None), got {self.v_reset!r}")
        self.rho = rho

    def forward(self, x_seq: torch.Tensor) -> torch.Tensor:
        self.init_state = PotentialOffset(torch.zeros_like(x_seq[0]))
        pre = x_seq[: self.rho]
        n = super().forward(pre).sum(0) / self.v_th  # [B, ...] spike counts
        v_rho = self.v0_frac * self.v_th + pre.sum(0) - n * self.v_th  # soft reset: charge in minus charge fired
        self.init_state = PotentialOffset(-offset_spikes(v_rho, n, v_th=self.v_th) * self.v_th)
        return super().forward(x_seq)


def calibrate_offsets(snn: nn.Sequential, *, rho: int) -> nn.Sequential:
    """Replace every :class:`SpikingNeuron` of a converted SNN by an :class:`OffsetCalibratedNeuron`."""
    layers = [OffsetCalibratedNeuron(rho=rho, v_th=m.v_th, v_reset=m.v_reset, v0_frac=m.v0_frac, step=m.step,
                                     step_params={k: v for k, v in m.params.items() if k != "v_reset"})
              if isinstance(m, SpikingNeuron) else m for m in snn]
    return nn.Sequential(*layers).eval()
