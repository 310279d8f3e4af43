r"""Dual-stream training: a full-spike residual network plus a detachable auxiliary accumulation pathway (AAP).

Block $l$ turns its input spikes $S^{l-1}$ into branch spikes $A^l = \mathrm{SN}(F^l(S^{l-1}))$ and then keeps two
streams: the full-spike stream joins them with a spike-only gate, $S^l = g(A^l, S^{l-1})$ with
AND $A S$, IAND $(1 - A) S$, OR $A + S - A S$ or XOR $A(1 - S) + S(1 - A)$, so every tensor between blocks is binary;
the accumulation stream adds the branch spikes, $Z^l = Z^{l-1} + A^l$ ($Z^0 = S^0$), an integer-valued map that
loses no spike. Both streams go through the same classifier and are trained together,
$\mathcal{L} = \mathrm{CE}(f(S^L), y) + \mathrm{CE}(f(Z^L), y)$; at test time the AAP is dropped (the spike stream
never reads it), leaving a network with spike operations only.

Paper: chen2023aap (Dual-Stream Training; equations taken from the official code, equation numbers not checked).
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from snnref.models.sew_resnet import sew_connect
from snnref.neuron import if_step, multi_step
from snnref.surrogate import SpikeFn, sigmoid_spike

GATES = ("AND", "IAND", "OR", "XOR")


def spike_gate(a: torch.Tensor, s: torch.Tensor, *, g: str) -> torch.Tensor:
    r"""Spike-only connection $g(A, S)$: AND $AS$, IAND $(1-A)S$, OR $A + S - AS$, XOR $A(1-S) + S(1-A)$."""
    if g in ("AND", "IAND"):
        return sew_connect(a, s, g=g)
    if g == "OR":
        return a + s - a * s
    if g == "XOR":
        return a * (1 - s) + s * (1 - a)
    raise ValueError(f"g must be one of {GATES}, got {g!r}")


def dual_stream_block(
    s_seq: torch.Tensor,
    z_seq: torch.Tensor,
    branch: Callable[[torch.Tensor], torch.Tensor],
    *,
    g: str,
    v_th: float = 1.0,
    spike_fn: SpikeFn = sigmoid_spike,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""One block on both streams [T, B, ...]: $A = \mathrm{SN}(F(S))$; returns $(g(A, S),\ Z + A)$.

    SN is an IF neuron with hard reset to 0 and the reset detached from the graph, as in the official code.
    """
    a, _ = multi_step(if_step, x_seq=branch(s_seq), v_th=v_th, spike_fn=spike_fn, detach_reset=True)
    return spike_gate(a, s_seq, g=g), z_seq + a


def dst_loss(logits_spike: torch.Tensor, logits_acc: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    r"""$\mathcal{L} = \mathrm{CE}(f(S^L), y) + \mathrm{CE}(f(Z^L), y)$: both streams supervised, same classifier."""
    ce = nn.functional.cross_entropy
    return ce(input=logits_spike, target=target) + ce(input=logits_acc, target=target)


class DualStreamNet(nn.Module):
    """Stack of dual-stream blocks over [T, B, D] spikes, with one linear classifier shared by both streams."""

    def __init__(self, dim: int, n_blocks: int, n_classes: int, *, g: str = "OR", v_th: float = 1.0):
        super().__init__()
        if g not in GATES:
            raise ValueError(f"g must be one of {GATES}, got {g!r}")
        if n_blocks < 1:
            raise ValueError(f"n_blocks must be >= 1, got {n_blocks!r}")
        self.branches = nn.ModuleList(nn.Linear(dim, dim) for _ in range(n_blocks))
        self.fc = nn.Linear(dim, n_classes)
        self.g, self.v_th = g, v_th

    def forward(self, s_seq: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns (logits of the full-spike stream, logits of the accumulation stream), each [B, K]."""
        s, z = s_seq, s_seq  # both streams start from the stem's spikes
        for branch in self.branches:
            s, z = dual_stream_block(s, z, branch, g=self.g, v_th=self.v_th)
        return self.fc(s.mean(0)), self.fc(z.mean(0))
