r"""Weighted spikes (phase coding): a spike at phase $k$ of a $K$-phase period carries the weight $2^{-k}$.

Phase function (the paper's Eq. 6): $\Pi(t) = 2^{-(1 + \mathrm{mod}(t - 1, K))}$, so one period sends a $K$-bit binary
fraction. The input is encoded by its binary expansion, $b_k(x) = \lfloor 2^k x \rfloor \bmod 2$ at phase $k$,
emitted as $\Pi(t)\,b_{k(t)}(x)$. A neuron's threshold follows the same phase, and it emits a weighted spike:

$$H_t = V_{t-1} + I_t,\qquad S_t = \Theta\big(H_t - \Pi(t)\,\theta\big),\qquad V_t = H_t - \Pi(t)\,\theta\,S_t,
\qquad \text{output } \Pi(t)\,\theta\,S_t.$$

Reset by subtraction of exactly what was sent, so $\sum_t \Pi(t)\theta S_t = \sum_t I_t - V_T$. The layer emits
$\theta\,\Pi(t)S_t$ through the shared toolkit (``step`` returns $\Pi(t)S_t$).

Paper: kim2018weighted, Eq. (6) (phase function) and the phase-scaled threshold; encoding table as in the paper's
example (reproduced in SpikingJelly's ``WeightedPhaseEncoder``).
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from snnref.conversion.toolkit import convert
from snnref.neuron import fire, if_charge, reset
from snnref.surrogate import heaviside

WeightedState = tuple[torch.Tensor, int]


def phase_weight(t: int | torch.Tensor, *, K: int) -> float | torch.Tensor:
    r"""$\Pi(t) = 2^{-(1 + \mathrm{mod}(t-1, K))}$ for the 1-based time step $t$. Paper: kim2018weighted, Eq. (6)."""
    return 2.0 ** (-(1 + (t - 1) % K))


def weighted_phase_encode(x: torch.Tensor, *, K: int, T: int) -> torch.Tensor:
    r"""Input $x \in [0, 1)$ [B, ...] -> weighted spikes $\Pi(t)\,b_{k(t)}(x)$ [T, B, ...], repeating every $K$ steps.

    $b_k(x) = \lfloor 2^k x \rfloor \bmod 2$ is the $k$-th bit of the binary fraction of $x$ (first phase = most
    significant bit); one period sums to $\lfloor 2^K x\rfloor / 2^K$.
    """
    if not (isinstance(K, int) and K >= 1):
        raise ValueError(f"K must be an integer >= 1, got {K!r}")
    if not bool(((x >= 0) & (x < 1)).all()):
        raise ValueError("x must lie in [0, 1) for a binary fraction")
    steps = []
    for t in range(T):  # 0-based here; phase k = 1 + t mod K
        k = 1 + t % K
        steps.append(phase_weight(t + 1, K=K) * (torch.floor(x * 2.0**k) % 2))
    return torch.stack(steps)  # [T, B, ...]


def weighted_init_state(x0: torch.Tensor, v_th: Any, v0_frac: float) -> WeightedState:
    """$(V_0, t) = (\\varphi\\theta, 0)$: the membrane and the number of steps taken so far."""
    return torch.zeros_like(x0).add(v0_frac * v_th), 0


def weighted_spike_step(x: torch.Tensor, state: WeightedState, *, v_th: float | torch.Tensor = 1.0,
                        v_reset: float | None = None, K: int = 8) -> tuple[torch.Tensor, WeightedState]:
    r"""One phase-coded IF step; returns ``(Pi(t) * S_t, (V_t, t))``: threshold and reset both scaled by $\Pi(t)$."""
    if v_reset is not None:
        raise ValueError(f"weighted-spike neurons reset by subtraction (v_reset=None), got v_reset={v_reset!r}")
    v, t_prev = state
    w = phase_weight(t_prev + 1, K=K)
    h = if_charge(x, v)
    s = fire(h, v_th=w * v_th, spike_fn=heaviside)
    return w * s, (reset(h, s, v_th=w * v_th, v_reset=None), t_prev + 1)


def convert_weighted(model: nn.Sequential, thresholds: list[float], *, K: int, **convert_kwargs: Any) -> nn.Sequential:
    r"""The toolkit's conversion with weighted-spike neurons of period $K$; feed :func:`weighted_phase_encode` input.

    Biases are spread evenly over the phases ($b/K$ per step), so one period adds $b$ (an assumption, see the note).
    A layer's output summed over one period approximates its ANN activation, so the time-averaged read-out is the
    ANN output divided by $K$.
    """
    if not (isinstance(K, int) and K >= 1):
        raise ValueError(f"K must be an integer >= 1, got {K!r}")
    spread = copy.deepcopy(model)
    with torch.no_grad():
        for m in spread:
            if type(m) in (nn.Linear, nn.Conv2d) and m.bias is not None:
                m.bias.div_(K)
    return convert(spread, thresholds=thresholds, step=weighted_spike_step, step_params={"K": K},
                   init_state=weighted_init_state, v_reset=None, **convert_kwargs)
