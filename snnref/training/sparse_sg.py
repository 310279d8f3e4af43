r"""Sparse spiking gradient descent: a surrogate gradient that is exactly zero away from the threshold.

Only "active" neurons, whose potential lies within $B_{th}$ of the threshold, pass gradient:

$$
\frac{\partial S}{\partial V} \approx g(V - V_{th}) =
\begin{cases} \dfrac{1}{(\beta |V - V_{th}| + 1)^2} & |V - V_{th}| < B_{th} \\ 0 & \text{otherwise} \end{cases}
$$

(the SuperSpike fast-sigmoid derivative, truncated). With the reset detached, the weight gradient then only needs
the active entries $(b, t, j)$: $\nabla W_{ij} = \sum_{(b,t,j)\ \text{active}} \bar x_{b,t,i}\,
\frac{\partial L}{\partial S_{b,t,j}}\, g(V_{b,t,j} - V_{th})$ with the input trace
$\bar x_{t} = \sum_{k \le t} \lambda^{t-k} x_k$ (leak factor $\lambda$).

Paper: pereznieves2021sparse (the truncated surrogate and the sparse weight-gradient rule). Official defaults:
$\beta = 100$, $B_{th} = 0.2$ (the code stores $1 - B_{th}$ as ``b_th``), $V_{th} = 1$.
"""

from __future__ import annotations

import torch

from snnref.surrogate import make_spike_function


def sparse_primitive(x: torch.Tensor, params: tuple[float, float] = (0.2, 100.0)) -> torch.Tensor:
    r"""$g(x) = \frac{1}{2} + \mathrm{sign}(x)\frac{m}{\beta m + 1}$, $m = \min(|x|, B_{th})$; ``params = (B_th, beta)``."""
    b_th, beta = params
    m = x.abs().clamp(max=b_th)
    return 0.5 + torch.sign(x) * m / (beta * m + 1)


def sparse_grad(x: torch.Tensor, params: tuple[float, float] = (0.2, 100.0)) -> torch.Tensor:
    r"""$g'(x) = (\beta|x| + 1)^{-2}$ where $|x| < B_{th}$, else exactly 0; ``params = (B_th, beta)``."""
    b_th, beta = params
    active = x.abs() < b_th
    return active.to(x.dtype) / (beta * x.abs() + 1) ** 2


_SparseSpike = make_spike_function(sparse_grad, "Sparse")


def sparse_spike(x: torch.Tensor, *, b_th: float = 0.2, beta: float = 100.0) -> torch.Tensor:
    """Step forward; truncated fast-sigmoid backward that is zero for inactive neurons ($|x| \\ge B_{th}$)."""
    if not (b_th > 0 and beta > 0):
        raise ValueError(f"b_th and beta must be > 0, got b_th={b_th!r}, beta={beta!r}")
    return _SparseSpike.apply(x, (b_th, beta))


def active_mask(v: torch.Tensor, *, v_th: float = 1.0, b_th: float = 0.2) -> torch.Tensor:
    r"""The active set $|V - V_{th}| < B_{th}$: the only entries the sparse backward pass visits."""
    return (v - v_th).abs() < b_th
