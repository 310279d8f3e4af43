r"""Quantization clip-floor-shift (QCFS) activation: train the ANN with the SNN's own staircase, then convert.

$$\hat a^l = \lambda^l\,\mathrm{clip}\!\left(\frac{1}{L}\left\lfloor \frac{z^l L}{\lambda^l} + \varphi \right\rfloor, 0, 1\right)$$

with a trainable threshold $\lambda^l$, $L$ quantization steps and shift $\varphi$ (1/2 makes the expected conversion
error zero for any $T$, $L$). The floor's gradient is passed straight through, as in the official code. Converted with
$\theta^l = \lambda^l$, reset by subtraction and $V^l_0 = \varphi\theta^l$.

Paper: bu2022qcfs, Sec. 4 (QCFS activation, Theorems 1-2).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from snnref.conversion.toolkit import SpikingNeuron, convert


class _FloorSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return torch.floor(x)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return grad_out


def qcfs_activation(z: torch.Tensor, *, lam: float | torch.Tensor, L: int, phi: float = 0.5) -> torch.Tensor:
    r"""$\lambda\,\mathrm{clip}(\lfloor zL/\lambda + \varphi \rfloor / L, 0, 1)$; straight-through gradient for the floor.

    Paper: bu2022qcfs, Sec. 4.1 (the quantization clip-floor-shift activation).
    """
    shift = torch.as_tensor(phi, dtype=z.dtype)   # a float, or a tensor broadcast against z
    return lam * torch.clamp(_FloorSTE.apply(z * L / lam + shift) / L, 0, 1)


class QCFS(nn.Module):
    """QCFS activation layer with a trainable threshold ``lam`` (one scalar per layer, as in the paper)."""

    def __init__(self, *, L: int, lam: float = 8.0, phi: float = 0.5):
        super().__init__()
        if not (isinstance(L, int) and L >= 1):
            raise ValueError(f"L must be an integer >= 1, got {L!r}")
        if not lam > 0:
            raise ValueError(f"lam must be > 0, got {lam!r}")
        if not 0 <= phi < 1:
            raise ValueError(f"phi must be in [0, 1), got {phi!r}")
        self.L, self.phi = L, phi
        self.lam = nn.Parameter(torch.tensor(float(lam)))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return qcfs_activation(z, lam=self.lam, L=self.L, phi=self.phi)


def convert_qcfs(model: nn.Sequential, **convert_kwargs: Any) -> nn.Sequential:
    r"""Convert a QCFS network: $\theta^l = \lambda^l$, soft reset, $V^l_0 = \varphi^l\theta^l$ with each layer's own
    shift $\varphi^l$ (a ``v0_frac`` keyword overrides it for every layer)."""
    layers = [m for m in model if isinstance(m, QCFS)]
    v0_frac = convert_kwargs.pop("v0_frac", None)
    snn = convert(model, [m.lam.item() for m in layers], activations=(QCFS,), **{"v_reset": None, **convert_kwargs})
    for neuron, layer in zip([m for m in snn if isinstance(m, SpikingNeuron)], layers):
        neuron.v0_frac = layer.phi if v0_frac is None else v0_frac
    return snn
