r"""Spike-timing-dependent backpropagation (STDB): a surrogate that decays with the time since the neuron's last spike.

$$\frac{\partial o^t}{\partial u^t} = \alpha\,e^{-\beta\,\Delta t}, \qquad \Delta t = \text{steps since the last spike},$$

used to fine-tune a converted SNN (hybrid training). The neuron is the leaky IF of the official code, shared with
:func:`snnref.conversion.diet_snn.diet_step` (spike read from the previous potential, soft reset) with fixed leak and
threshold; the state carries the last spike time (-1000 before any spike, as in the official code).
Paper: rathi2020enabling, Sec. 3 (STDB), with Poisson rate-coded input.
"""

from __future__ import annotations

import torch
from torch import nn

from snnref.conversion.diet_snn import diet_step
from snnref.neuron import multi_step
from snnref.surrogate import make_spike_function


def stdb_primitive(x: torch.Tensor, alpha: float | torch.Tensor = 0.3) -> torch.Tensor:
    r"""$g(x) = a\,x$ with $a = \alpha e^{-\beta\Delta t}$ per neuron: the stand-in whose slope is the STDB gradient."""
    return alpha * x


def stdb_grad(x: torch.Tensor, alpha: float | torch.Tensor = 0.3) -> torch.Tensor:
    r"""$g'(x) = a = \alpha e^{-\beta\Delta t}$, independent of the potential."""
    return alpha * torch.ones_like(x)


_STDBSpike = make_spike_function(stdb_grad, "STDB")


def stdb_spike(z: torch.Tensor, dt: torch.Tensor, *, alpha: float = 0.3, beta: float = 0.01) -> torch.Tensor:
    r"""Step of $z$ forward; backward $\alpha e^{-\beta\,\Delta t}$."""
    return _STDBSpike.apply(z, alpha * torch.exp(-beta * dt))


def stdb_step(x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor, int], *, v_th: float, leak: float = 1.0,
              alpha: float = 0.3, beta: float = 0.01) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor, int]]:
    """One step; ``state = (u, last_spike_time, t)``. Returns ``(spike, next_state)``."""
    u, last, t = state
    dt = (t - 1) - last  # the official code's t - 1 - spike

    def spike_fn(z: torch.Tensor) -> torch.Tensor:
        return stdb_spike(z, dt, alpha=alpha, beta=beta)

    o, u_next = diet_step(x, u, v_th=v_th, leak=leak, spike_fn=spike_fn)
    last = torch.where(o > 0, torch.full_like(last, t - 1), last)
    return o, (u_next, last, t + 1)


def poisson_input(x: torch.Tensor, T: int, generator: torch.Generator | None = None) -> torch.Tensor:
    r"""Rate coding as in the official code: $\pm 1$ spikes with probability $|x|$ (sign of $x$) -> [T, B, ...]."""
    r = torch.rand((T, *x.shape), generator=generator, dtype=x.dtype)
    return (r <= x.abs()).to(x.dtype) * torch.sign(x)


class STDBLayer(nn.Module):
    """Multi-step layer of STDB neurons over [T, B, ...]; holds fixed ``v_th``, ``leak``, ``alpha``, ``beta``; loops."""

    def __init__(self, *, v_th: float, leak: float = 1.0, alpha: float = 0.3, beta: float = 0.01):
        super().__init__()
        if not v_th > 0:
            raise ValueError(f"v_th must be > 0, got {v_th!r}")
        if not 0 < leak <= 1:
            raise ValueError(f"leak must be in (0, 1], got {leak!r}")
        self.v_th, self.leak, self.alpha, self.beta = v_th, leak, alpha, beta

    def forward(self, x_seq: torch.Tensor) -> torch.Tensor:
        state = (torch.zeros_like(x_seq[0]), torch.full_like(x_seq[0], -1000.0), 0)
        spikes, _ = multi_step(stdb_step, x_seq, state, v_th=self.v_th, leak=self.leak, alpha=self.alpha,
                               beta=self.beta)
        return spikes
