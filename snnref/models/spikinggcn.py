r"""SpikingGCN: graph convolution as the spike encoder, then one fully connected layer of LIF neurons.

Node features are first propagated over the graph, $\bar X = \hat S^{K} X$ with the renormalised adjacency
$\hat S = \tilde D^{-1/2}(A + I)\tilde D^{-1/2}$ (as in SGC; $K = 2$ in the official code), scaled to $[0, 1]$, and
encoded as Bernoulli spike trains, $S_t \sim \mathrm{Bernoulli}(\bar X)$. A bias-free linear layer drives LIF neurons,
$H_t = V_{t-1} + \frac{1}{\tau}(S_tW - V_{t-1})$, and the prediction is the firing rate $\frac1T\sum_t O_t$ (trained with MSE to one-hot labels; the default
surrogate is the sigmoid, as for SpikingJelly's ``LIFNode``).
Paper: zhu2022spikinggcn, Sec. 3 (graph convolution, representation encoding, charge-fire-reset; equation numbers not
checked, details from the official ``datareader.py`` and ``model_lif_fc.py``).
"""

from __future__ import annotations

import torch

from snnref.neuron import lif_step, multi_step
from snnref.surrogate import SpikeFn, sigmoid_spike


def normalized_adjacency(adj: torch.Tensor) -> torch.Tensor:
    r"""$\hat S = \tilde D^{-1/2}(A + I)\tilde D^{-1/2}$, $\tilde D_{ii} = \sum_j (A + I)_{ij}$."""
    a = adj + torch.eye(adj.shape[0], dtype=adj.dtype)
    d = a.sum(1).rsqrt()
    return d[:, None] * a * d[None, :]


def graph_conv(adj: torch.Tensor, x: torch.Tensor, *, K: int = 2) -> torch.Tensor:
    r"""$\bar X = \hat S^{K} X$: $K$ rounds of normalised neighbourhood averaging (no weights, no nonlinearity)."""
    if K < 0:
        raise ValueError(f"K must be >= 0, got {K!r}")
    s = normalized_adjacency(adj)
    for _ in range(K):
        x = s @ x
    return x


def bernoulli_encode(p: torch.Tensor, *, T: int, generator: torch.Generator | None = None) -> torch.Tensor:
    r"""Spike trains [T, ...] with $S_t \sim \mathrm{Bernoulli}(p)$ independently per step; $p \in [0, 1]$."""
    if p.min() < 0 or p.max() > 1:
        raise ValueError("p must lie in [0, 1] (scale the propagated features first)")
    return (torch.rand((T, *p.shape), dtype=p.dtype, generator=generator) < p).to(p.dtype)


def spikinggcn_rates(
    x_bar: torch.Tensor, w: torch.Tensor, *, T: int, tau: float, v_th: float = 1.0, v_reset: float = 0.0,
    spike_fn: SpikeFn = sigmoid_spike, generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Output firing rates $\frac1T\sum_t O_t$ [N, C] of LIF neurons driven by $S_tW$, $S_t$ the Bernoulli code of $\bar X$."""
    s = bernoulli_encode(x_bar, T=T, generator=generator)  # [T, N, F]
    out, _ = multi_step(lif_step, s @ w, tau=tau, v_th=v_th, v_reset=v_reset, spike_fn=spike_fn)
    return out.mean(0)
