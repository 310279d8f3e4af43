r"""MDC-SAN: population coding of the state plus the second-order dynamic neuron (DN) of the spiking actor.

Network scale: each state dimension $s_i$ drives $P$ input units with Gaussian receptive fields (learnable
$\mu_{ij}$, $\sigma_{ij}$), $A_{ij} = \exp\!\big(-(s_i - \mu_{ij})^2 / (2\sigma_{ij}^2)\big)$.
Neuron scale: a DN keeps a synaptic current $c$, a membrane potential $v$ and a second variable $u$; a spike of the
previous step resets $v$ to $\theta_r$ and bumps $u$ by $\theta_s$, then $v$ and $u$ take one Euler step of an
Izhikevich-type system and the neuron fires where $v$ reaches $V_{th}$:

$$c_t = \lambda_c c_{t-1} + X_t,\quad \hat v = v_{t-1}(1 - S_{t-1}) + \theta_r S_{t-1},\quad \hat u = u_{t-1} + \theta_s S_{t-1},$$
$$v_t = \hat v + (\hat v^2 - \hat v - \hat u + c_t),\quad u_t = \hat u + (\theta_v \hat v - \theta_u \hat u),\quad S_t = \Theta(v_t - V_{th}).$$

Paper: zhang2022mdcsan (dynamic neurons, population coding). The paper's text was not reachable: the update and the
constants ($\theta_v=-0.172$, $\theta_u=0.529$, $\theta_r=0.021$, $\theta_s=0.132$, $V_{th}=0.5$, $\lambda_c=0.5$)
follow the ILC-SAN code's re-implementation of MDC-SAN (``mdcsan.py``); see the note's Limitations.
"""

from __future__ import annotations

import torch
from torch import nn

from snnref.neuron import fire, multi_step, reset
from snnref.surrogate import SpikeFn, rectangular_spike

# ILC-SAN's constants for the MDC-SAN dynamic neuron.
THETA_V, THETA_U, THETA_R, THETA_S = -0.172, 0.529, 0.021, 0.132
V_TH, C_DECAY = 0.5, 0.5

DNState = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]


def population_encode(obs: torch.Tensor, *, mu: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    r"""Gaussian receptive fields $A_{ij} = \exp(-(s_i-\mu_{ij})^2/(2\sigma_{ij}^2))$: obs [B, N], mu/sigma [N, P] -> [B, N*P]."""
    a = torch.exp(-0.5 * (obs.unsqueeze(-1) - mu) ** 2 / sigma**2)  # [B, N, P]
    return a.flatten(1)


def dn_step(
    x: torch.Tensor,
    state: DNState,
    *,
    theta_v: float,
    theta_u: float,
    theta_r: float,
    theta_s: float,
    v_th: float,
    c_decay: float,
    spike_fn: SpikeFn = rectangular_spike,
) -> tuple[torch.Tensor, DNState]:
    r"""One DN step; ``state = (c, v, u, S_prev)``; returns ``(S_t, (c_t, v_t, u_t, S_t))`` (equations in the module docstring)."""
    c, v, u, s_prev = state
    c = c_decay * c + x
    # the previous step's spike resets v to theta_r (the hard-reset identity of the core) and bumps u by theta_s
    v = reset(v, s_prev, v_th=v_th, v_reset=theta_r)
    u = u + theta_s * s_prev
    v_next = v + (v * v - v - u + c)
    u_next = u + (theta_v * v - theta_u * u)
    s = fire(v_next, v_th=v_th, spike_fn=spike_fn)
    return s, (c, v_next, u_next, s)


class DynamicNeuron(nn.Module):
    """Multi-step DN layer over [T, B, ...]; holds the constants and loops :func:`dn_step` from a zero state."""

    def __init__(
        self,
        *,
        theta_v: float = THETA_V,
        theta_u: float = THETA_U,
        theta_r: float = THETA_R,
        theta_s: float = THETA_S,
        v_th: float = V_TH,
        c_decay: float = C_DECAY,
        spike_fn: SpikeFn = rectangular_spike,
    ):
        super().__init__()
        if not v_th > 0:
            raise ValueError(f"v_th must be > 0, got {v_th!r}")
        if not 0 <= c_decay < 1:
            raise ValueError(f"c_decay must be in [0, 1), got {c_decay!r}")
        self.params = dict(theta_v=theta_v, theta_u=theta_u, theta_r=theta_r, theta_s=theta_s, v_th=v_th,
                           c_decay=c_decay, spike_fn=spike_fn)

    def forward(self, x_seq: torch.Tensor) -> tuple[torch.Tensor, list[DNState]]:
        zero = torch.zeros_like(x_seq[0])
        return multi_step(dn_step, x_seq, (zero, zero, zero, zero), **self.params)
