r"""Real Spike: real-valued spikes in training, folded into the next convolution for binary-spike inference.

Training: a neuron's binary spike $S_t$ is scaled by a learnable coefficient, $\tilde S_t = a \odot S_t$
(one $a_c$ per channel here, as in the official code; a single $a$ per layer is the layer-wise variant).
Inference: the scale moves into the next layer's kernel along its *input*-channel axis,
$W' \ast S_t = W \ast (a \odot S_t)$ with $W'_{o,c} = a_c W_{o,c}$, so the network again sends binary spikes
while every output map sees its own (unshared) kernel.

Paper: guo2022realspike, Sec. 3.3 (training-inference decoupling by re-parameterization).
Shapes: ``[T, B, C, H, W]`` for sequences; ``a`` has shape ``[C]``.
"""

from __future__ import annotations

import torch
from torch import nn

from snnref.neuron import lif_step, multi_step
from snnref.surrogate import SpikeFn, atan_spike


def real_spike(s: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    r"""Training-time real-valued spike $\tilde S = a \odot S$, ``a`` of shape ``[C]`` scaling axis ``-3``."""
    # [T, B, C, H, W] * [C, 1, 1]: one coefficient per channel
    return s * a.reshape(-1, 1, 1)


def fold_into_conv(weight: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    r"""Inference kernel $W'_{o,c} = a_c W_{o,c}$ for ``weight`` ``[C_out, C_in, k, k]`` and ``a`` ``[C_in]``."""
    # the spike's channel is the next kernel's input channel (axis 1), not its output channel
    return weight * a.reshape(1, -1, 1, 1)


class RealSpikeLIF(nn.Module):
    """LIF layer over ``[T, B, C, H, W]`` whose output spikes carry a learnable per-channel amplitude ``a``."""

    def __init__(self, channels: int, *, tau: float = 2.0, v_th: float = 1.0, spike_fn: SpikeFn = atan_spike):
        super().__init__()
        if not (isinstance(channels, int) and channels >= 1):
            raise ValueError(f"channels must be a positive int, got {channels!r}")
        if not tau >= 1:
            raise ValueError(f"tau must be >= 1, got {tau!r}")
        if not v_th > 0:
            raise ValueError(f"v_th must be > 0, got {v_th!r}")
        self.tau, self.v_th, self.spike_fn = tau, v_th, spike_fn
        # initialised to 1: training starts from the vanilla binary-spike SNN
        self.a = nn.Parameter(torch.ones(channels))

    def forward(self, x_seq: torch.Tensor) -> torch.Tensor:
        s, _ = multi_step(lif_step, x_seq, tau=self.tau, v_th=self.v_th, spike_fn=self.spike_fn)
        return real_spike(s, self.a) if self.training else s
