r"""Membrane Potential Rectifier (MPR) with soft reset, from "Reducing Information Loss for Spiking Neural Networks".

The neuron fires on the rectified potential $\varphi(H_t)$ instead of $H_t$:

$$
\varphi(u) = \begin{cases}
1 - (1 - u)^{1/3} & u < 0 \\
\dfrac{\tanh\left(k(u - \frac{1}{2})\right)}{2\tanh(k/2)} + \dfrac{1}{2} & 0 \le u \le 1 \\
u^{1/3} & u > 1
\end{cases}
$$

$\varphi$ is increasing with $\varphi(\frac{1}{2}) = \frac{1}{2}$, so the forward spikes are those of a threshold of
$\frac{1}{2}$; only the backward pass changes, by the factor $\varphi'(H_t)$. The spike of height 1 is subtracted
from the potential (soft reset). As in the official code: no leak (IF charge), the step fires on
$\varphi(H_t) \ge \frac{1}{2}$ (the code uses ``>``, which differs only on a set of measure zero) and the backward
pass is the straight-through box, derivative 1 where $0 < \varphi(H_t) < 1$.

Paper: guo2022reloss (MPR and "Soft Reset" sections); official code ``models/spike_layer.py``.
"""

from __future__ import annotations

import math

import torch

from snnref.neuron import fire, if_charge, reset
from snnref.surrogate import SpikeFn, rectangular_spike


def mpr(u: torch.Tensor, *, k: float = 3.0) -> torch.Tensor:
    r"""The rectifier $\varphi(u)$: a tanh stretch on $[0, 1]$ and cube-root tails outside; $k$ sets the stretch."""
    inner = torch.tanh(k * (u - 0.5)) / (2 * math.tanh(k / 2)) + 0.5
    # cube-root tails; the clamps keep the unused branch finite so no NaN reaches the gradient
    low = 1 - (1 - u.clamp(max=0.0)) ** (1 / 3)
    high = u.clamp(min=1.0) ** (1 / 3)
    return torch.where(u < 0, low, torch.where(u > 1, high, inner))


def mpr_step(
    x: torch.Tensor, v: torch.Tensor, *, k: float = 3.0, spike_fn: SpikeFn = rectangular_spike
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""One IF step firing on $\varphi(H_t)$; returns ``(spike, v_next)``.

    $H_t = V_{t-1} + X_t$; $S_t = \Theta(\varphi(H_t) - \frac{1}{2})$; $V_t = H_t - S_t$.
    """
    h = if_charge(x, v)
    s = fire(mpr(h, k=k), v_th=0.5, spike_fn=spike_fn)
    # soft reset by the spike height 1 (not by the firing level 1/2)
    return s, reset(h, s, v_th=1.0, v_reset=None)
