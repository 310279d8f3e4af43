r"""Spike-element-wise (SEW) residual block, and the Spiking ResNet block it replaces.

SEW block: the residual branch ends in its own spiking neuron, $A_t = \mathrm{SN}(F(S_t))$, and the block output
combines two spike tensors element-wise, $O_t = g(A_t, S_t)$, with
ADD $g = A + S$, AND $g = A \wedge S = A\,S$, IAND $g = (\neg A) \wedge S = (1 - A)\,S$.
Spiking ResNet block: $O_t = \mathrm{SN}(F(S_t) + S_t)$ (the neuron after the addition).

Reusable: ``sew_connect`` is the connecting function alone; ``sew_block`` wraps any branch ``F`` [T, B, ...] -> [T, B, ...]
with an IF neuron (``multi_step`` + ``if_step``) and the connection.

Paper: fang2021sew.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from snnref.neuron import if_step, multi_step
from snnref.surrogate import SpikeFn, atan_spike

CONNECT_FUNCTIONS = ("ADD", "AND", "IAND")


def sew_connect(a: torch.Tensor, s: torch.Tensor, *, g: str) -> torch.Tensor:
    r"""The element-wise connecting function $g(A, S)$: ADD $A + S$, AND $A S$, IAND $(1 - A) S$.

    Paper: fang2021sew (SEW block).
    """
    if g == "ADD":
        return a + s
    if g == "AND":
        return a * s
    if g == "IAND":
        return (1 - a) * s
    raise ValueError(f"g must be one of {CONNECT_FUNCTIONS}, got {g!r}")


def sew_block(
    s_seq: torch.Tensor,
    branch: Callable[[torch.Tensor], torch.Tensor],
    *,
    g: str,
    v_th: float = 1.0,
    spike_fn: SpikeFn = atan_spike,
) -> torch.Tensor:
    r"""$O_t = g(\mathrm{SN}(F(S_t)), S_t)$ over [T, B, ...] with an IF neuron (hard reset to 0) ending the branch."""
    a, _ = multi_step(if_step, branch(s_seq), v_th=v_th, spike_fn=spike_fn)
    return sew_connect(a, s_seq, g=g)


def spiking_resnet_block(
    s_seq: torch.Tensor,
    branch: Callable[[torch.Tensor], torch.Tensor],
    *,
    step: Callable[..., tuple[torch.Tensor, torch.Tensor]] = if_step,
    **neuron: float | SpikeFn,
) -> torch.Tensor:
    r"""The earlier Spiking ResNet block $O_t = \mathrm{SN}(F(S_t) + S_t)$, for comparison; ``neuron`` goes to ``step``."""
    o, _ = multi_step(step, branch(s_seq) + s_seq, **neuron)
    return o


class SEWBlock(nn.Module):
    """SEW residual block around a ``branch`` module; holds the connecting function and the IF threshold."""

    def __init__(self, branch: nn.Module, *, g: str = "ADD", v_th: float = 1.0, spike_fn: SpikeFn = atan_spike):
        super().__init__()
        if g not in CONNECT_FUNCTIONS:
            raise ValueError(f"g must be one of {CONNECT_FUNCTIONS}, got {g!r}")
        if not v_th > 0:
            raise ValueError(f"v_th must be > 0, got {v_th!r}")
        self.branch, self.g, self.v_th, self.spike_fn = branch, g, v_th, spike_fn

    def forward(self, s_seq: torch.Tensor) -> torch.Tensor:
        return sew_block(s_seq, self.branch, g=self.g, v_th=self.v_th, spike_fn=self.spike_fn)
