r"""Dspike: a family of surrogate functions with a temperature $b$, and the finite difference gradient (Li et al., 2021).

With $x$ the membrane potential measured from the threshold (the paper's window $[0, 1]$ with threshold $c = 1/2$):

$$\mathrm{Dspike}(x) = \frac{\tanh(b\,x)}{2\tanh(b/2)} + \frac{1}{2}\ \text{ for } |x| \le \tfrac{1}{2},\quad
0 \text{ below},\ 1 \text{ above};$$

$b \to 0$ gives the straight-through ramp (a unit box gradient), $b \to \infty$ the step itself. The paper chooses
$b$ by comparing the surrogate gradient with the finite difference gradient
$\hat\nabla_\varepsilon L(w)_i = \frac{L(w + \varepsilon e_i) - L(w - \varepsilon e_i)}{2\varepsilon}$ of the true SNN loss.
Paper: li2021dspike, Dspike function and finite difference gradient.
"""

from __future__ import annotations

import math
from typing import Callable

import torch

from snnref.surrogate import make_spike_function


def dspike_primitive(x: torch.Tensor, b: float) -> torch.Tensor:
    r"""$\frac{\tanh(b\,\mathrm{clamp}(x, -1/2, 1/2))}{2\tanh(b/2)} + \frac{1}{2}$: 0 at $x \le -1/2$, 1 at $x \ge 1/2$."""
    return torch.tanh(b * torch.clamp(x, -0.5, 0.5)) / (2 * math.tanh(b / 2)) + 0.5


def dspike_grad(x: torch.Tensor, b: float) -> torch.Tensor:
    r"""$\frac{b}{2\tanh(b/2)}\left(1 - \tanh^2(b x)\right)$ on $|x| \le 1/2$, else 0 (unit area)."""
    return (x.abs() <= 0.5).to(x.dtype) * b * (1 - torch.tanh(b * x) ** 2) / (2 * math.tanh(b / 2))


_DspikeSpike = make_spike_function(dspike_grad, "Dspike")


def dspike_spike(x: torch.Tensor, b: float) -> torch.Tensor:
    """Step forward, Dspike surrogate (temperature ``b``) backward."""
    if not b > 0:
        raise ValueError(f"b (the temperature) must be > 0, got {b!r}")
    return _DspikeSpike.apply(x, b)


def finite_difference_gradient(loss_fn: Callable[[torch.Tensor], torch.Tensor], w: torch.Tensor, *, epsilon: float) -> torch.Tensor:
    r"""Central finite differences of ``loss_fn`` at ``w``, one entry at a time: $\frac{L(w + \varepsilon e_i) - L(w - \varepsilon e_i)}{2\varepsilon}$."""
    if not epsilon > 0:
        raise ValueError(f"epsilon must be > 0, got {epsilon!r}")
    grad = torch.zeros_like(w)
    with torch.no_grad():
        for i in range(w.numel()):
            e = torch.zeros_like(w).view(-1)
            e[i] = epsilon
            e = e.view_as(w)
            grad.view(-1)[i] = (loss_fn(w + e) - loss_fn(w - e)) / (2 * epsilon)
    return grad
