r"""Spike-Driven Self-Attention (SDSA) and the membrane-shortcut attention block of the Spike-driven Transformer.

With binary spike matrices $Q, K, V \in \{0,1\}^{N\times d}$ (per head, per time step),

$$\mathrm{SDSA}(Q, K, V) = Q \otimes \mathcal{SN}\big(\mathrm{SUM}_c(K \otimes V)\big),$$

$\otimes$ the Hadamard product, $\mathrm{SUM}_c$ the sum over the $N$ tokens (a $1\times d$ row) and $\mathcal{SN}$ an LIF
neuron (threshold 0.5 in the official code). For spikes, $K \otimes V$ is a logical AND, $\mathrm{SUM}_c$ a count and
$Q \otimes s$ a mask, so the attention uses only masks and additions, in $O(Nd)$. The code writes the Hadamard products
as products, as the official code does: the forward pass is the same, and the surrogate gradient reaches $Q$ and $K$
(a ``torch.where`` mask would give them none, so $W_q$ and $W_k$ could never learn).
The block adds its branch to the membrane potential before the next spiking neuron (membrane shortcut),
$U' = U + \mathrm{SDSA}(\ldots)W_p$, so every matrix product acts on spikes.
Paper: yao2023sdt, the SDSA equation and the membrane shortcut (equation numbers not checked; the form and the
threshold 0.5 are confirmed by the official ``module/ms_conv.py``).
"""

from __future__ import annotations

import torch

from snnref.neuron import lif_step, multi_step
from snnref.surrogate import SpikeFn, sigmoid_spike


def lif(x_seq: torch.Tensor, *, tau: float = 2.0, v_th: float = 1.0, spike_fn: SpikeFn = sigmoid_spike) -> torch.Tensor:
    """Multi-step LIF (hard reset to 0) over the leading time axis, as the paper's spiking neuron $\\mathcal{SN}$."""
    return multi_step(lif_step, x_seq, tau=tau, v_th=v_th, v_reset=0.0, spike_fn=spike_fn)[0]


def sdsa_kv(k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    r"""$\mathrm{SUM}_c(K \otimes V)$ for spikes [..., N, d] -> [..., 1, d]: for spikes, a masked count."""
    return (k * v).sum(-2, keepdim=True)


def sdsa(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *, tau: float = 2.0, v_th: float = 0.5) -> torch.Tensor:
    r"""$Q \otimes \mathcal{SN}(\mathrm{SUM}_c(K \otimes V))$ for spikes [T, B, heads, N, d]; the LIF runs over T."""
    s = lif(sdsa_kv(k, v), tau=tau, v_th=v_th)  # [T, B, heads, 1, d]
    return q * s  # [T, B, heads, N, d]: Q selects, per token, the channels whose shared neuron fired


def ms_attention_block(
    u: torch.Tensor, *, wq: torch.Tensor, wk: torch.Tensor, wv: torch.Tensor, wp: torch.Tensor, heads: int
) -> torch.Tensor:
    r"""Membrane-shortcut SDSA block on membrane inputs $U$ [T, B, N, D]: $U + \mathrm{SDSA}(Q,K,V)W_p$,
    with $S = \mathcal{SN}(U)$, $Q = \mathcal{SN}(SW_q)$, $K = \mathcal{SN}(SW_k)$, $V = \mathcal{SN}(SW_v)$."""
    T, B, N, D = u.shape
    if D % heads:
        raise ValueError(f"heads must divide the width {D}, got heads={heads!r}")
    s = lif(u)  # the shortcut neuron: everything below is driven by spikes

    def split(x: torch.Tensor) -> torch.Tensor:  # [T, B, N, D] -> [T, B, heads, N, D/heads]
        return x.reshape(T, B, N, heads, D // heads).permute(0, 1, 3, 2, 4)

    q, k, v = (split(lif(s @ w)) for w in (wq, wk, wv))
    a = sdsa(q, k, v).permute(0, 1, 3, 2, 4).reshape(T, B, N, D)  # heads back next to their channels
    return u + a @ wp
