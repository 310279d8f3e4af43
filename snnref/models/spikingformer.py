r"""Spikingformer block: Spikformer's SSA with a pre-activation (spike-driven) residual.

The neuron moves to the start of each branch, so the residual stream $X$ is a real-valued membrane-like signal and
every weight layer multiplies spikes:

$$X' = X + \mathrm{BN}\big(\mathrm{SSA}'(Q, K, V)\,W_o\big),\quad Q = \mathcal{SN}(\mathrm{BN}(\mathcal{SN}(X)W_q)),\ \ldots$$

with $\mathrm{SSA}'(Q,K,V) = \mathcal{SN}(QK^{\top}V\cdot s)$ as in Spikformer. In Spikformer the sum of two spike tensors
($X + \mathcal{SN}(\cdot)$) enters the next block's products, which are then integer-by-float multiplications.
Paper: zhou2023spikingformer, the spike-driven residual block (equation numbers not checked; the form follows the
official ``imagenet/model.py``).
"""

from __future__ import annotations

import torch

from snnref.models.sdsa import lif
from snnref.models.spikformer import ssa


def spikingformer_block(
    x: torch.Tensor, *, wq: torch.Tensor, wk: torch.Tensor, wv: torch.Tensor, wo: torch.Tensor, heads: int
) -> torch.Tensor:
    r"""$X + \mathrm{SSA}'(Q,K,V)W_o$ on the residual stream $X$ [T, B, N, D], with $Q = \mathcal{SN}(\mathcal{SN}(X)W_q)$ etc. (no BN)."""
    T, B, N, D = x.shape
    if D % heads:
        raise ValueError(f"heads must divide the width {D}, got heads={heads!r}")
    s = lif(x)  # pre-activation: the branch starts with a spiking neuron

    def split(y: torch.Tensor) -> torch.Tensor:  # [T, B, N, D] -> [T, B, heads, N, D/heads]
        return y.reshape(T, B, N, heads, D // heads).permute(0, 1, 3, 2, 4)

    q, k, v = (split(lif(s @ w)) for w in (wq, wk, wv))
    a = ssa(q, k, v).permute(0, 1, 3, 2, 4).reshape(T, B, N, D)  # heads back next to their channels
    return x + a @ wo  # no neuron after the projection: the sum stays a membrane-like signal
