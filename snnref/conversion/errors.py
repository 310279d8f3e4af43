r"""The conversion error of one layer, split into clipping, quantization (flooring) and unevenness error.

Feed a layer of IF neurons (threshold $\theta$, soft reset, $V_0 = \varphi\theta$) an input current whose mean over
$T$ steps is $z$; it emits $\theta S_t$ with mean $\phi$. The ANN would output $\mathrm{ReLU}(z)$. Then

$$\phi - \mathrm{ReLU}(z) = \underbrace{\mathrm{clip}(z, 0, \theta) - \mathrm{ReLU}(z)}_{\text{clipping}}
 + \underbrace{Q_T(z) - \mathrm{clip}(z, 0, \theta)}_{\text{quantization}} + \underbrace{\phi - Q_T(z)}_{\text{unevenness}},
 \qquad Q_T(z) = \frac{\theta}{T}\,\mathrm{clip}\!\left(\left\lfloor \frac{Tz}{\theta} + \varphi \right\rfloor, 0, T\right).$$

$Q_T$ is the exact IF output for a constant input, so the unevenness error is what uneven spike arrival adds
(with hard reset it also holds the charge lost at reset). Paper: bu2022qcfs, Sec. 3 (Eqs. 10-12); the clipping and
flooring errors as in Li et al. 2021 and Deng & Gu 2021.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from snnref.conversion.toolkit import SpikingNeuron, simulate_layers


def quantized_clip(z: torch.Tensor, *, v_th: float | torch.Tensor, T: int, v0_frac: float = 0.0) -> torch.Tensor:
    r"""$Q_T(z) = \frac{\theta}{T}\,\mathrm{clip}(\lfloor Tz/\theta + \varphi \rfloor, 0, T)$, $\varphi$ = ``v0_frac``.

    The time-averaged output of a soft-reset IF neuron under constant input $z$ from $V_0 = \varphi\theta$
    ($0 \le \varphi < 1$). Paper: bu2022qcfs, Eq. (7) / Theorem 2 with $L = T$.
    """
    return v_th / T * torch.clamp(torch.floor(T * z / v_th + v0_frac), 0, T)


class ConversionErrors(NamedTuple):
    """Per-neuron error terms; they sum to ``phi - relu(z)``."""

    clipping: torch.Tensor
    quantization: torch.Tensor
    unevenness: torch.Tensor

    def total(self) -> torch.Tensor:
        return self.clipping + self.quantization + self.unevenness


def decompose_conversion_error(z: torch.Tensor, phi: torch.Tensor, *, v_th: float | torch.Tensor, T: int,
                               v0_frac: float = 0.0) -> ConversionErrors:
    r"""Split $\phi - \mathrm{ReLU}(z)$ into clipping, quantization and unevenness error (see the module docstring)."""
    clipped = torch.minimum(torch.relu(z), torch.as_tensor(v_th, dtype=z.dtype))
    quantized = quantized_clip(z, v_th=v_th, T=T, v0_frac=v0_frac)
    return ConversionErrors(clipped - torch.relu(z), quantized - clipped, phi - quantized)


def layer_conversion_errors(snn: nn.Sequential, x_seq: torch.Tensor) -> list[ConversionErrors]:
    """The decomposition for every :class:`SpikingNeuron` layer of ``snn`` run on ``x_seq`` [T, B, ...]."""
    outs = simulate_layers(snn, x_seq)
    T = x_seq.shape[0]
    errors = []
    for i, m in enumerate(snn):
        if isinstance(m, SpikingNeuron):
            z = (outs[i - 1] if i > 0 else x_seq).mean(0)  # mean input current [B, ...]
            errors.append(decompose_conversion_error(z, outs[i].mean(0), v_th=m.v_th, T=T, v0_frac=m.v0_frac))
    return errors
