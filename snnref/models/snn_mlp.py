r"""SNN-MLP's full-precision LIF token mixing along one spatial axis, in groups of consecutive patches.

The spatial positions along height (or width) play the role of time steps. In each group of ``lif`` consecutive
positions, starting from $U_{-1} = 0$:

charge $H_j = k\,U_{j-1} + X_j$ (decay factor $k$, i.e. the core's non-decaying-input charge with $\tau = 1/(1-k)$);
fire $S_j = \Theta(H_j - V_{th})$; hard reset $U_j = H_j(1 - S_j)$;
full-precision output $Y_j = H_j S_j + V_{th}(1 - S_j) = \max(H_j, V_{th})$.

Positions after the last full group pass through unchanged. The official CUDA kernel fires on $H_j > V_{th}$; here
the core's $H_j \ge V_{th}$ is used, which gives the same output $Y_j$ and differs only in the reset at exact equality.

Paper: li2022snnmlp.
"""

from __future__ import annotations

import torch
from torch import nn

from snnref.neuron import fire, lif_charge, multi_step, reset
from snnref.surrogate import heaviside


def full_precision_lif_step(
    x: torch.Tensor, u: torch.Tensor, *, k: float, v_th: float
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""One position of the full-precision LIF: returns ``(Y_j, U_j)`` with $Y_j = H_jS_j + V_{th}(1 - S_j)$."""
    h = lif_charge(x, u, tau=1.0 / (1.0 - k), decay_input=False)  # H = k U + X
    s = fire(h, v_th=v_th, spike_fn=heaviside)
    return h * s + v_th * (1 - s), reset(h, s, v_th=v_th, v_reset=0.0)


def group_lif(x: torch.Tensor, *, dim: int, lif: int, k: float, v_th: float) -> torch.Tensor:
    """Full-precision LIF over groups of ``lif`` consecutive positions along ``dim`` of x [B, C, H, W]."""
    n = x.shape[dim]
    head, tail = x.split([n - n % lif, n % lif], dim=dim)  # the full groups; the tail passes through
    seq = head.unflatten(dim, (-1, lif))  # the LIF axis split in two: [..., groups, lif, ...]
    seq = seq.movedim(dim + 1, 0)  # [lif, ..., groups, ...]: the position inside a group plays the time step
    y, _ = multi_step(full_precision_lif_step, seq, k=k, v_th=v_th)
    y = y.movedim(0, dim + 1)  # back to [..., groups, lif, ...]
    return torch.cat([y.reshape(head.shape), tail], dim=dim)


class GroupLIF(nn.Module):
    """Horizontal (``dim=3``) or vertical (``dim=2``) group LIF; holds the decay ``k`` and threshold ``v_th`` (learned in the paper)."""

    def __init__(self, *, dim: int, lif: int = 4, k: float = 0.25, v_th: float = -1.0):
        super().__init__()
        if dim not in (2, 3):
            raise ValueError(f"dim must be 2 (height) or 3 (width) of [B, C, H, W], got {dim!r}")
        if lif < 1:
            raise ValueError(f"lif must be >= 1, got {lif!r}")
        if not 0 <= k < 1:
            raise ValueError(f"k must be in [0, 1), got {k!r}")
        self.dim, self.lif, self.k, self.v_th = dim, lif, k, v_th

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return group_lif(x, dim=self.dim, lif=self.lif, k=self.k, v_th=self.v_th)
