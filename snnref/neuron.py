r"""The shared neuron core: charge, fire, reset, and the multi-step loop.

Every spiking neuron here is three steps per time step $t$:

- **charge** $H_t = f(V_{t-1}, X_t)$ (integrate the input; IF has no leak, LIF leaks towards rest);
- **fire** $S_t = \Theta(H_t - V_{th})$, with a surrogate gradient in the backward pass;
- **reset** $V_t = H_t(1 - S_t) + V_{reset}S_t$ (hard, to $V_{reset}$) or $V_t = H_t - V_{th}S_t$ (soft, by subtraction).

A step is a pure function ``step(x, v, *, params) -> (spike, v_next)``; :func:`multi_step` runs one over a
time-first sequence ``[T, B, ...]``. The modules :class:`IF` and :class:`LIF` only hold parameters and loop.
Papers that change one of the three steps import the other two from here.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import nn

from snnref.surrogate import SpikeFn, atan_spike


def if_charge(x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    r"""Integrate-and-fire charge, $H_t = V_{t-1} + X_t$."""
    return v + x


def lif_charge(
    x: torch.Tensor, v: torch.Tensor, *, tau: float | torch.Tensor, v_rest: float = 0.0, decay_input: bool = True
) -> torch.Tensor:
    r"""Leaky charge with time constant $\tau$ (Euler step of $\tau\,\dot V = -(V - V_{rest}) + X$).

    decay_input: $H_t = V_{t-1} + \frac{1}{\tau}\left(X_t - (V_{t-1} - V_{rest})\right)$;
    otherwise: $H_t = V_{t-1} - \frac{1}{\tau}(V_{t-1} - V_{rest}) + X_t$.
    """
    if decay_input:
        return v + (x - (v - v_rest)) / tau
    return v - (v - v_rest) / tau + x


def fire(h: torch.Tensor, *, v_th: float | torch.Tensor, spike_fn: SpikeFn = atan_spike) -> torch.Tensor:
    r"""$S_t = \Theta(H_t - V_{th})$: fires where $H_t \ge V_{th}$; ``spike_fn`` sets the backward pass."""
    return spike_fn(h - v_th)


def reset(
    h: torch.Tensor,
    s: torch.Tensor,
    *,
    v_th: float | torch.Tensor,
    v_reset: float | None = 0.0,
    detach_reset: bool = False,
) -> torch.Tensor:
    r"""Hard reset $V_t = H_t(1 - S_t) + V_{reset}S_t$, or soft reset $V_t = H_t - V_{th}S_t$ when ``v_reset is None``.

    ``detach_reset`` stops the gradient through $S_t$ in the reset path (SpikingJelly's ``detach_reset``).
    """
    if detach_reset:
        s = s.detach()
    if v_reset is None:
        return h - v_th * s
    return h * (1 - s) + v_reset * s


def if_step(
    x: torch.Tensor,
    v: torch.Tensor,
    *,
    v_th: float | torch.Tensor = 1.0,
    v_reset: float | None = 0.0,
    spike_fn: SpikeFn = atan_spike,
    detach_reset: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""One integrate-and-fire step; returns ``(spike, v_next)``.

    $H_t = V_{t-1} + X_t$; $S_t = \Theta(H_t - V_{th})$; reset hard (to ``v_reset``) or soft (``v_reset=None``).
    """
    h = if_charge(x, v)
    s = fire(h, v_th=v_th, spike_fn=spike_fn)
    return s, reset(h, s, v_th=v_th, v_reset=v_reset, detach_reset=detach_reset)


def lif_step(
    x: torch.Tensor,
    v: torch.Tensor,
    *,
    tau: float | torch.Tensor,
    v_th: float | torch.Tensor = 1.0,
    v_reset: float | None = 0.0,
    decay_input: bool = True,
    spike_fn: SpikeFn = atan_spike,
    detach_reset: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""One leaky integrate-and-fire step; returns ``(spike, v_next)``.

    charge $H_t = V_{t-1} + \frac{1}{\tau}(X_t - (V_{t-1} - V_{rest}))$ with $V_{rest} = V_{reset}$
    (0 for soft reset); fire $S_t = \Theta(H_t - V_{th})$; reset hard or soft (``v_reset=None``).
    """
    v_rest = 0.0 if v_reset is None else v_reset
    h = lif_charge(x, v, tau=tau, v_rest=v_rest, decay_input=decay_input)
    s = fire(h, v_th=v_th, spike_fn=spike_fn)
    return s, reset(h, s, v_th=v_th, v_reset=v_reset, detach_reset=detach_reset)


def multi_step(
    step: Callable[..., tuple[torch.Tensor, Any]], x_seq: torch.Tensor, state: Any = None, **params: Any
) -> tuple[torch.Tensor, list[Any]]:
    """Run ``step`` over ``x_seq`` [T, B, ...] from ``state`` (zeros when None).

    Returns the spikes stacked to [T, B, ...] and the list of the T states after each step.
    A state may be a tensor (the membrane potential) or any structure the step understands.
    """
    if state is None:
        state = torch.zeros_like(x_seq[0])
    spikes, states = [], []
    for x in x_seq:
        s, state = step(x, state, **params)
        spikes.append(s)
        states.append(state)
    return torch.stack(spikes), states


def _check_positive(name: str, value: float) -> None:
    if not value > 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")


class IF(nn.Module):
    """Multi-step integrate-and-fire layer over [T, B, ...]; holds parameters, loops with :func:`if_step`."""

    def __init__(self, *, v_th: float = 1.0, v_reset: float | None = 0.0, spike_fn: SpikeFn = atan_spike):
        super().__init__()
        _check_positive("v_th", v_th)
        self.v_th, self.v_reset, self.spike_fn = v_th, v_reset, spike_fn

    def forward(self, x_seq: torch.Tensor, v0: torch.Tensor | None = None) -> torch.Tensor:
        spikes, _ = multi_step(if_step, x_seq, v0, v_th=self.v_th, v_reset=self.v_reset, spike_fn=self.spike_fn)
        return spikes


class LIF(nn.Module):
    """Multi-step leaky integrate-and-fire layer over [T, B, ...]; holds parameters, loops with :func:`lif_step`."""

    def __init__(
        self,
        *,
        tau: float = 2.0,
        v_th: float = 1.0,
        v_reset: float | None = 0.0,
        decay_input: bool = True,
        spike_fn: SpikeFn = atan_spike,
    ):
        super().__init__()
        if not tau >= 1:
            raise ValueError(f"tau must be >= 1 (1/tau is the leak per step), got {tau!r}")
        _check_positive("v_th", v_th)
        self.tau, self.v_th, self.v_reset, self.decay_input, self.spike_fn = tau, v_th, v_reset, decay_input, spike_fn

    def forward(self, x_seq: torch.Tensor, v0: torch.Tensor | None = None) -> torch.Tensor:
        spikes, _ = multi_step(
            lif_step, x_seq, v0, tau=self.tau, v_th=self.v_th, v_reset=self.v_reset,
            decay_input=self.decay_input, spike_fn=self.spike_fn,
        )
        return spikes
