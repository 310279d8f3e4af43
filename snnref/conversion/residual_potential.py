r"""SRP: silence neurons whose residual membrane potential says their ANN output is zero (Hao et al., AAAI 2023).

Unevenness error is largest where the ANN outputs 0 but the IF neuron still fires, because positive input
arrived early and negative input late. SRP runs the converted SNN for $\tau$ pre-simulation steps from
$V_0 = \theta/2$ with reset by subtraction, keeps a neuron only where its residual potential is positive,
$m = [V_\tau > 0]$, then restarts the membrane at $\theta/2$ and emits $m\,S_t$ for the remaining steps.

Paper: hao2023srp
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from snnref.neuron import if_step

#: residual-potential margin of the official code (1e-3 in units of the threshold)
MARGIN = 1e-3


class SRPState(NamedTuple):
    v: torch.Tensor      # membrane potential
    t: int               # steps taken so far
    mask: torch.Tensor   # m = [V_tau > 0] once t >= tau; all ones (every neuron kept) before


def srp_init_state(x0: torch.Tensor, v_th: float | torch.Tensor, v0_frac: float = 0.5) -> SRPState:
    r"""Initial state: $V_0 = \varphi\theta$ (the paper uses $\varphi = \frac12$), $t = 0$, mask of ones (nothing silenced yet)."""
    return SRPState(torch.zeros_like(x0) + v0_frac * v_th, 0, torch.ones_like(x0))


def srp_step(x: torch.Tensor, state: SRPState, *, v_th: float | torch.Tensor, tau: int, v_reset: float | None = None,
             v0_frac: float = 0.5) -> tuple[torch.Tensor, SRPState]:
    r"""One soft-reset IF step with the SRP mask; returns ``(spike, state)``.

    For $t \le \tau$: ordinary IF with reset by subtraction. At $t = \tau$: $m = [V_\tau > 10^{-3}\theta]$ and
    $V \leftarrow \varphi\theta$. For $t > \tau$: the emitted spike is $m\,S_t$. Paper: hao2023srp (official ``MPLayer``).
    """
    if tau < 1:
        raise ValueError(f"tau must be >= 1, got {tau!r}")
    s, v = if_step(x, state.v, v_th=v_th, v_reset=v_reset)
    t, mask = state.t + 1, state.mask
    s = s * mask   # all ones until the mask is taken at t = tau, so the pre-simulation is unmasked
    if t == tau:
        # the residual potential after the pre-simulation decides which neurons stay
        mask = (v > MARGIN * v_th).to(x.dtype)
        v = torch.zeros_like(v) + v0_frac * v_th
    return s, SRPState(v, t, mask)
