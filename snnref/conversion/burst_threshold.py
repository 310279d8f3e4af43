r"""Burst spikes by a growing threshold: each consecutive spike is $\beta$ times heavier, so stored charge drains fast.

An IF neuron with base threshold $\theta$ keeps a burst factor $g_t$ (its threshold is $g_t\theta$):

$$H_t = V_{t-1} + X_t,\qquad S_t = \Theta(H_t - g_t\theta),\qquad V_t = H_t - g_t\theta\,S_t,\qquad
g_{t+1} = \begin{cases}\beta\,g_t & S_t = 1\\ 1 & S_t = 0\end{cases},\quad g_1 = 1,$$

and the spike it sends carries its threshold, $g_t\theta S_t$. While the neuron keeps firing, its spikes weigh
$\theta, \beta\theta, \beta^2\theta, \dots$ (a burst); the first silent step resets the threshold to $\theta$. Reset by
subtraction conserves charge, $V_T + \sum_t g_t\theta S_t = V_0 + \sum_t X_t$. With $\beta = 1$ it is the plain IF
neuron. The layer emits $\theta\,(g_t S_t)$ through the shared toolkit.

Paper: park2019burst (burst spikes of the hybrid coding scheme), as in the authors' released code
``seongsikpark/SNN-neural-coding``, ``lib_snn.py``, ``Neuron.fire_burst`` (threshold doubled after each spike,
``vth * 2.0``, i.e. $\beta = 2$, reset to ``vth_init`` otherwise; output ``vth`` on a spike; reset by subtraction).
The paper's text was not available here, so no equation number is given.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from snnref.conversion.toolkit import convert
from snnref.neuron import fire, if_charge, reset
from snnref.surrogate import heaviside

BurstState = tuple[torch.Tensor, torch.Tensor]  # (V, g): membrane potential, burst factor of the threshold


def burst_init_state(x0: torch.Tensor, v_th: Any, v0_frac: float) -> BurstState:
    """$(V_0, g_1) = (\\varphi\\theta, 1)$: membrane at ``v0_frac`` of the threshold, no burst under way."""
    return torch.zeros_like(x0).add(v0_frac * v_th), torch.ones_like(x0)


def burst_threshold_step(x: torch.Tensor, state: BurstState, *, v_th: float | torch.Tensor = 1.0,
                         v_reset: float | None = None, beta: float = 2.0) -> tuple[torch.Tensor, BurstState]:
    r"""One burst step; returns $(g_t S_t, (V_t, g_{t+1}))$: the spike weighted by its burst factor, and the state.

    $S_t = \Theta(V_{t-1} + X_t - g_t\theta)$, $V_t = H_t - g_t\theta S_t$, $g_{t+1} = \beta g_t$ after a spike, else 1.
    Paper: park2019burst (burst spike), official ``fire_burst``.
    """
    if v_reset is not None:
        raise ValueError(f"burst neurons reset by subtraction (v_reset=None), got v_reset={v_reset!r}")
    v, g = state
    h = if_charge(x, v)
    # the threshold of this step is g_t * theta
    s = fire(h, v_th=g * v_th, spike_fn=heaviside)
    v_next = reset(h, s, v_th=g * v_th, v_reset=None)
    # a spike multiplies the next threshold by beta; a silent step restores the base threshold
    g_next = beta * g * s + (1 - s)
    return g * s, (v_next, g_next)


def burst_charge(k: int | torch.Tensor, *, v_th: float = 1.0, beta: float = 2.0) -> float | torch.Tensor:
    r"""Charge sent by the first $k$ spikes of a burst, $\theta(1 + \beta + \dots + \beta^{k-1}) =
    \theta\frac{\beta^k - 1}{\beta - 1}$ ($k\theta$ at $\beta = 1$): a stored charge $a$ at least this large leaves
    in $k$ steps."""
    if beta == 1:
        return k * v_th
    return v_th * (beta**k - 1) / (beta - 1)


def convert_burst_threshold(model: nn.Sequential, thresholds: list[float], *, beta: float = 2.0,
                            **convert_kwargs: Any) -> nn.Sequential:
    r"""The toolkit's conversion with burst neurons of burst constant $\beta \ge 1$ (reset by subtraction)."""
    if not beta >= 1:
        raise ValueError(f"beta must be >= 1 (a burst never lowers the threshold), got {beta!r}")
    return convert(model, thresholds, step=burst_threshold_step, step_params={"beta": beta}, v_reset=None,
                   init_state=burst_init_state, **convert_kwargs)
