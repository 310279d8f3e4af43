r"""EVSNN / PA-EVSNN output neurons for event-based video reconstruction: membrane-potential (MP) and adaptive MP (AMP).

An MP neuron never fires (threshold $+\infty$): it charges like a LIF (or IF) and *outputs its membrane potential*,
which is carried from one event window to the next, so the network can keep a running image.
MP: $V_t = V_{t-1} + \frac{1}{\tau}(X_t - V_{t-1})$ (IF variant: $V_t = V_{t-1} + X_t$).
AMP: the leak factor is predicted from the input at every step, $V_t = V_{t-1} + \sigma(w_t)\,(X_t - V_{t-1})$, with
$w_t$ from a small gate on the pooled input spikes and pooled ConvBN output (the official ``get_theta`` module).

Paper: zhu2022evsnn.
"""

from __future__ import annotations

import torch
from torch import nn

from snnref.neuron import if_charge, lif_charge


def mp_step(x: torch.Tensor, v: torch.Tensor, *, tau: float | None) -> tuple[torch.Tensor, torch.Tensor]:
    r"""One MP-neuron step; returns ``(V_t, V_t)``: charge only (LIF, or IF when ``tau is None``), no fire, no reset."""
    h = if_charge(x, v) if tau is None else lif_charge(x, v, tau=tau)
    return h, h


def amp_step(x: torch.Tensor, v: torch.Tensor, *, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r"""One AMP-neuron step $V_t = V_{t-1} + \sigma(w_t)(X_t - V_{t-1})$: a LIF charge with $1/\tau = \sigma(w_t)$.

    Paper: zhu2022evsnn (AMP neuron).
    """
    h = lif_charge(x, v, tau=1 / torch.sigmoid(w))
    return h, h


class AMPGate(nn.Module):
    """Predicts the AMP leak logit $w_t$ [B, 1, 1, 1] from input spikes [B, C_in, H, W] and ConvBN output [B, C_out, H, W]."""

    def __init__(self, c_in: int, c_out: int, *, reduction: int = 4):
        super().__init__()
        if reduction < 1 or c_out // reduction < 1:
            raise ValueError(f"reduction must be in [1, c_out], got {reduction!r} for c_out={c_out!r}")
        self.fc3 = nn.Linear(c_out + c_in, c_out // reduction)
        self.fc2 = nn.Linear(c_out // reduction, 1)

    def forward(self, s: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        # global max of the ConvBN output and firing rate of the input spikes, per channel
        pooled = torch.cat([u.amax(dim=(2, 3)), s.mean(dim=(2, 3))], dim=1)
        return self.fc2(torch.relu(self.fc3(pooled)))[:, :, None, None]
