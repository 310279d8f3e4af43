r"""Clamped and quantized (CQ) training: train the ANN on values a unit-threshold IF neuron can express, then convert.

$$\hat a = \frac{1}{F}\,\mathrm{round}\!\big(F\cdot\mathrm{clamp}(z, 0, 1)\big)$$

with quantization factor $F$ (``factor`` in the code; the activation takes the $F + 1$ levels $0, 1/F, \dots, 1$).
The rounding's gradient is passed straight through, so inside $[0, 1]$ the activation trains like the identity and
outside it like the clamp. The converted SNN uses IF neurons with threshold 1, reset by subtraction and $V_0 = 0$,
as the official CUDA kernel does; its rate for a constant input $z \le 1$ after $T$ steps is
$\lfloor T\,\mathrm{clamp}(z,0,1)\rfloor / T$.

Paper: yan2021cq (clamp and quantize activation, as in the official code ``Clamp`` + ``Quantize``).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from snnref.conversion.toolkit import convert


class _RoundSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return torch.round(x)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return grad_out


def cq_activation(z: torch.Tensor, *, factor: int) -> torch.Tensor:
    r"""$\mathrm{round}(F\,\mathrm{clamp}(z, 0, 1))/F$; straight-through gradient for the rounding.

    Paper: yan2021cq (CQ training: clamp to $[0, 1]$, then quantize with factor $F$).
    """
    return _RoundSTE.apply(torch.clamp(z, 0.0, 1.0) * factor) / factor


class CQ(nn.Module):
    """Clamp-and-quantize activation layer with quantization factor ``factor`` ($F + 1$ output levels in [0, 1])."""

    def __init__(self, *, factor: int):
        super().__init__()
        if not (isinstance(factor, int) and factor >= 1):
            raise ValueError(f"factor must be an integer >= 1, got {factor!r}")
        self.factor = factor

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return cq_activation(z, factor=self.factor)


def convert_cq(model: nn.Sequential, **convert_kwargs: Any) -> nn.Sequential:
    r"""Convert a CQ network: each CQ layer becomes IF neurons, $\theta = 1$, soft reset, $V_0 = 0$ (overridable)."""
    n = sum(isinstance(m, CQ) for m in model)
    kwargs = {"v_reset": None, "v0_frac": 0.0, **convert_kwargs}
    return convert(model, [1.0] * n, activations=(CQ,), **kwargs)
