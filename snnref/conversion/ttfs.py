r"""Time-to-first-spike (TTFS) conversion: each neuron fires at most once, and early means large.

An IF neuron integrates its input current $z_t$, fires the first time $V_t \ge \theta$ and is then refractory for
the rest of the simulation. From its spike on it sends a constant post-synaptic current (a step, not a pulse):

$$H_t = V_{t-1} + (1 - P_{t-1})\,z_t,\qquad S_t = \Theta(H_t - \theta),\qquad
V_t = H_t(1 - S_t),\qquad P_t = P_{t-1} + S_t$$

(after the spike the membrane stays at $0 < \theta$, so $S_t = 0$ and $P_t \le 1$)

so $P_t = \Theta(t - k^*)$ with $k^*$ the step of the first spike, and the analog activation is read as the
instantaneous rate $\hat a = \theta / t^*$, $t^* = k^*\Delta t$ (inverse time to first spike). With time step
$\Delta t$ every current is scaled by $\Delta t$, so a constant analog input $z > 0$ fires at
$k^* = \lceil \theta/(z\Delta t) \rceil$ and $\hat a \to z$ as $\Delta t \to 0$. The layer emits
$\theta\,\Delta t\,P_t$ through the shared toolkit.

Paper: rueckauer2018ttfs (TTFS code), as in the official SNN toolbox backend
``snntoolbox/simulation/backends/inisim/ttfs.py`` (refractory after one spike, PSP = ``dt`` after the spike); the
paper's text was not available, so no equation number is given.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from snnref.conversion.toolkit import convert
from snnref.neuron import fire, if_charge, reset
from snnref.surrogate import heaviside

TTFSState = tuple[torch.Tensor, torch.Tensor]


def ttfs_init_state(x0: torch.Tensor, v_th: Any, v0_frac: float) -> TTFSState:
    """$(V_0, P_0) = (\\varphi\\theta, 0)$: membrane at ``v0_frac`` of the threshold, nobody has fired yet."""
    return torch.zeros_like(x0).add(v0_frac * v_th), torch.zeros_like(x0)


def ttfs_step(x: torch.Tensor, state: TTFSState, *, v_th: float | torch.Tensor = 1.0,
              v_reset: float | None = 0.0, dt: float = 1.0) -> tuple[torch.Tensor, TTFSState]:
    r"""One TTFS step; returns ``(dt * P_k, (V_k, P_k))``: the step PSP $\Delta t\,\Theta(k - k^*)$ and the state.

    $H_k = V_{k-1} + (1 - P_{k-1}) I_k$, $S_k = \Theta(H_k - \theta)$, $V_k = H_k(1 - S_k)$, $P_k = P_{k-1} + S_k$:
    a neuron that has fired ignores its input and cannot fire again; reset to zero, as in the official code.
    Paper: rueckauer2018ttfs.
    """
    if v_reset is None:
        raise ValueError("TTFS neurons reset to a value (v_reset=0.0), got v_reset=None")
    v, p = state
    # refractory for the rest of the simulation: input is blocked after the first spike
    h = if_charge(x * (1 - p), v)
    s = fire(h, v_th=v_th, spike_fn=heaviside)
    p_next = p + s
    # the PSP is dt per step from the spike on (official code: psp = dt where last_spiketime > 0)
    return dt * p_next, (reset(h, s, v_th=v_th, v_reset=v_reset), p_next)


def first_spike_step(p_seq: torch.Tensor) -> torch.Tensor:
    r"""$k^*$ (1-based step of the first spike) from a step-shaped output [T, B, ...]; ``inf`` where it never fired."""
    n_before = sum(p <= 0 for p in p_seq)  # steps before the first spike, per neuron
    # dividing by 0 where the neuron never fired (n_before = T) gives inf
    return (n_before.to(p_seq.dtype) + 1) / (n_before < len(p_seq)).to(p_seq.dtype)


def ttfs_decode(k_star: torch.Tensor, *, v_th: float | torch.Tensor = 1.0, dt: float = 1.0) -> torch.Tensor:
    r"""$\hat a = \theta / t^*$ with $t^* = k^*\Delta t$: the activation read as the inverse time to first spike."""
    return v_th / (k_star * dt)


def convert_ttfs(model: nn.Sequential, thresholds: list[float], *, dt: float = 1.0,
                 **convert_kwargs: Any) -> nn.Sequential:
    r"""The toolkit's conversion with TTFS neurons and time step $\Delta t$ (one spike each, reset to zero).

    As in the official simulator, every current is multiplied by $\Delta t$: the analog input (here through the first
    weighted layer), every bias, and the PSP $\Delta t\,\Theta(t - t^*)$. Feed the unscaled input for $T$ steps.
    """
    if not dt > 0:
        raise ValueError(f"dt must be > 0, got {dt!r}")
    scaled = copy.deepcopy(model)
    weighted = [m for m in scaled if type(m) in (nn.Linear, nn.Conv2d)]
    with torch.no_grad():
        weighted[0].weight.mul_(dt)  # the analog input current, through the first weighted layer
        for m in weighted:
            if m.bias is not None:
                m.bias.mul_(dt)
    return convert(scaled, thresholds=thresholds, step=ttfs_step, step_params={"dt": dt}, init_state=ttfs_init_state,
                   v_reset=0.0, **convert_kwargs)
