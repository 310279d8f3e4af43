r"""Spiking Self Attention (SSA) of Spikformer, and its block with spike-wise ADD residuals.

With spike-form $Q, K, V \in \{0,1\}^{N\times d}$ (per head, per time step) there is no softmax:

$$\mathrm{SSA}'(Q, K, V) = \mathcal{SN}\big(Q K^{\top} V \cdot s\big),$$

$QK^{\top}$ counts the channels two tokens share, so it is a non-negative integer matrix and needs no normalisation;
$s$ is a fixed scale (0.125 in the official code) and $\mathcal{SN}$ an LIF neuron (threshold 0.5 there). Products of
spike matrices are sums of selected entries, and $(QK^{\top})V = Q(K^{\top}V)$ exactly. The block then applies
$\mathcal{SN}(\mathrm{BN}(\mathrm{Linear}(\cdot)))$ and adds the result to its input spikes, $X' = X + \mathrm{SSA}(X)$.
Paper: zhou2023spikformer, the SSA equations of Sec. 3 (numbers not checked; form and constants follow the official
``model.py``).
"""

from __future__ import annotations

import torch

from snnref.models.sdsa import lif


def ssa(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *, s: float = 0.125, tau: float = 2.0,
        v_th: float = 0.5) -> torch.Tensor:
    r"""$\mathcal{SN}(QK^{\top}V\cdot s)$ for spikes [T, B, heads, N, d]; the LIF runs over T."""
    # official order Q (K^T V): d x d in the middle, linear in the number of tokens N
    return lif(q @ (k.mT @ v) * s, tau=tau, v_th=v_th)


def spikformer_block(
    x: torch.Tensor, *, wq: torch.Tensor, wk: torch.Tensor, wv: torch.Tensor, wo: torch.Tensor, heads: int
) -> torch.Tensor:
    r"""$X + \mathcal{SN}(\mathrm{SSA}'(Q,K,V)W_o)$ on spikes $X$ [T, B, N, D], with $Q = \mathcal{SN}(XW_q)$ etc. (no BN)."""
    T, B, N, D = x.shape
    if D % heads:
        raise ValueError(f"heads must divide the width {D}, got heads={heads!r}")

    def split(y: torch.Tensor) -> torch.Tensor:  # [T, B, N, D] -> [T, B, heads, N, D/heads]
        return y.reshape(T, B, N, heads, D // heads).permute(0, 1, 3, 2, 4)

    q, k, v = (split(lif(x @ w)) for w in (wq, wk, wv))
    a = ssa(q, k, v).permute(0, 1, 3, 2, 4).reshape(T, B, N, D)  # heads back next to their channels
    # spike-element-wise ADD residual: the sum of two spike tensors can reach 2
    return x + lif(a @ wo)
