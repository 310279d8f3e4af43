r"""DGS: differentiable surrogate gradient search, the surrogate half of SpikeDHS (Che et al., NeurIPS 2022).

The surrogate is Dspike with temperature $b$ (:mod:`snnref.training.dspike`). Around the current $b$ a layer keeps
$2n + 1$ candidate temperatures $b_k = b + k\delta$, $k = -n..n$, each with its own copy of the layer trained under its
surrogate; their membrane inputs $h_k$ are mixed, as in differentiable architecture search, with softmax weights of
architecture parameters $\alpha$,
$$\hat h = \sum_{k} \frac{e^{\alpha_k}}{\sum_{k'} e^{\alpha_{k'}}}\,h_k,$$
the mixed input drives the layer's iterative LIF, and after $\alpha$ has been learned the layer moves to
$b \leftarrow b_{\arg\max_k \alpha_k}$. Repeated during training, each layer's surrogate evolves locally.
Paper: che2022spikedhs, differentiable surrogate gradient search (candidates $\delta = 0.2$, $n = 2$ in the official code).
"""

from __future__ import annotations

from functools import partial

import torch

from snnref.training.dspike import dspike_spike
from snnref.training.stbp import stbp_step


def dgs_candidates(b: float, *, delta: float, n: int) -> list[float]:
    r"""The candidate temperatures $b_k = b + k\delta$, $k = -n, \dots, n$."""
    return [b + k * delta for k in range(-n, n + 1)]


def mixed_membrane_input(h: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    r"""$\hat h = \sum_k \mathrm{softmax}(\alpha)_k\,h_k$ for candidate inputs $h$ [K, ...] and $\alpha$ [K]."""
    p = torch.softmax(alpha, dim=0)
    return torch.tensordot(p, h, dims=([0], [0]))


def dgs_select(b: float, alpha: torch.Tensor, *, delta: float, n: int) -> float:
    r"""The next temperature, $b_{\arg\max_k \alpha_k}$."""
    return dgs_candidates(b, delta=delta, n=n)[int(torch.argmax(alpha))]


def dgs_lif_step(
    h: torch.Tensor, v: torch.Tensor, *, alpha: torch.Tensor, b: float, decay: float, v_th: float
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""One step of the searched layer: the iterative LIF (decay, reset to 0) charged by $\hat h$, firing with Dspike($b$) backward."""
    return stbp_step(mixed_membrane_input(h, alpha), v, tau=decay, v_th=v_th, spike_fn=partial(dspike_spike, b=b))
