r"""DIET-SNN neuron: leaky IF with a trainable leak $\lambda$ and threshold $v$ per layer, trained after conversion.

$$u^t = \lambda\,u^{t-1} + I^t - v\,o^{t-1}, \qquad o^{t-1} = \Theta\!\left(\frac{u^{t-1}}{v} - 1\right),$$

with the piecewise-linear surrogate $\partial o/\partial z = \gamma\max(0, 1 - |z|)$ on $z = u/v - 1$ ($\gamma = 0.3$ in
the official code), so gradients reach $v$ and $\lambda$. As in the official code, the spike read from $u^{t-1}$ is the
layer's output at step $t$ (one step of delay per layer) and fires where $z \ge 0$ (the code: $z > 0$).
Paper: rathi2023diet, Sec. 3 (LIF model with leak and threshold optimization).
"""

from __future__ import annotations

import torch
from torch import nn

from snnref.neuron import fire, if_charge, multi_step, reset
from snnref.surrogate import SpikeFn, make_spike_function


def dampened_triangle_primitive(x: torch.Tensor, alpha: float = 0.3) -> torch.Tensor:
    r"""$g(x) = \alpha \int_{-1}^{x} \max(0, 1 - |s|)\,ds$, a smooth stand-in for $\alpha\,\Theta(x)$."""
    c = torch.clamp(x, -1.0, 1.0)
    return alpha * (0.5 + c - c * c.abs() / 2)


def dampened_triangle_grad(x: torch.Tensor, alpha: float = 0.3) -> torch.Tensor:
    r"""$g'(x) = \alpha\max(0, 1 - |x|)$: Bellec et al.'s piecewise-linear surrogate, dampened by $\alpha$ ($\gamma$)."""
    return alpha * torch.clamp(1.0 - x.abs(), min=0.0)


_DampenedTriangleSpike = make_spike_function(dampened_triangle_grad, "DampenedTriangle")


def dampened_triangle_spike(x: torch.Tensor, alpha: float = 0.3) -> torch.Tensor:
    """Step forward, dampened triangle surrogate backward."""
    return _DampenedTriangleSpike.apply(x, alpha)


def diet_step(x: torch.Tensor, u: torch.Tensor, *, v_th: float | torch.Tensor, leak: float | torch.Tensor,
              spike_fn: SpikeFn = dampened_triangle_spike) -> tuple[torch.Tensor, torch.Tensor]:
    r"""One DIET-SNN step: $o^{t-1} = \Theta(u^{t-1}/v - 1)$, then $u^t = \lambda u^{t-1} + I^t - v\,o^{t-1}$."""
    o = fire(u / v_th, v_th=1.0, spike_fn=spike_fn)  # z = u/v - 1 from the previous step's potential
    h = if_charge(x, leak * u)  # leak, then integrate the input current
    return o, reset(h, o, v_th=v_th, v_reset=None)  # subtract v for the spike just emitted


class DietLIF(nn.Module):
    """Multi-step DIET-SNN layer over [T, B, ...] with trainable scalar ``leak`` and ``v_th``; loops :func:`diet_step`."""

    def __init__(self, *, v_th: float, leak: float = 1.0):
        super().__init__()
        if not v_th > 0:
            raise ValueError(f"v_th must be > 0, got {v_th!r}")
        if not 0 < leak <= 1:
            raise ValueError(f"leak must be in (0, 1], got {leak!r}")
        self.v_th = nn.Parameter(torch.tensor(float(v_th)))
        self.leak = nn.Parameter(torch.tensor(float(leak)))

    def forward(self, x_seq: torch.Tensor) -> torch.Tensor:
        spikes, _ = multi_step(diet_step, x_seq, None, v_th=self.v_th, leak=self.leak)
        return spikes  # [T, B, ...]
