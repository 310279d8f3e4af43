r"""ConvBN-MaxPooling-LIF (CML): max-pool the membrane input, not the spikes, when downsampling.

Spikformer-style downsampling pools the spikes, $Y = \mathrm{MaxPool}(\mathrm{LIF}(X))$; within a window every firing
neuron outputs 1, max pooling sends the gradient to the first of them only, and that need not be the neuron with the
largest input. CML pools the ConvBN output first, $Y = \mathrm{LIF}(\mathrm{MaxPool}(X))$, so the gradient reaches
the neuron with the largest input. ``x_seq`` is the ConvBN output [T, B, C, H, W].

Paper: zhou2023cml.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from snnref.neuron import lif_step, multi_step
from snnref.surrogate import SpikeFn, atan_spike


def _pool(x_seq: torch.Tensor, kernel_size: int) -> torch.Tensor:
    # max pooling applied to every time step: [T, B, C, H, W] -> [T, B, C, H/k, W/k]
    return F.max_pool2d(x_seq.flatten(0, 1), kernel_size).unflatten(0, x_seq.shape[:2])


def cml_downsample(
    x_seq: torch.Tensor, *, kernel_size: int = 2, tau: float = 2.0, v_th: float = 1.0, spike_fn: SpikeFn = atan_spike
) -> torch.Tensor:
    r"""CML: $Y = \mathrm{LIF}(\mathrm{MaxPool}(X))$ over [T, B, C, H, W]; returns spikes [T, B, C, H/k, W/k].

    Paper: zhou2023cml (CML downsampling).
    """
    if kernel_size < 1:
        raise ValueError(f"kernel_size must be >= 1, got {kernel_size!r}")
    spikes, _ = multi_step(lif_step, _pool(x_seq, kernel_size), tau=tau, v_th=v_th, spike_fn=spike_fn)
    return spikes


def spike_maxpool_downsample(
    x_seq: torch.Tensor, *, kernel_size: int = 2, tau: float = 2.0, v_th: float = 1.0, spike_fn: SpikeFn = atan_spike
) -> torch.Tensor:
    r"""The design CML replaces: $Y = \mathrm{MaxPool}(\mathrm{LIF}(X))$ (pooling binary spikes), for comparison."""
    spikes, _ = multi_step(lif_step, x_seq, tau=tau, v_th=v_th, spike_fn=spike_fn)
    return _pool(spikes, kernel_size)
