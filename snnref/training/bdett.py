r"""BDETT: a bioinspired dynamic threshold, the mean of an energy part and a temporal part, recomputed every step.

For layer $l$ with membrane potentials $v_i(t)$ and thresholds $\Theta_i(t)$:

- dynamic energy threshold (DET), rising with a neuron's potential relative to its layer,
  $E_i(t) = \eta\,(v_i(t) - V_m(t)) + V_\theta(t) + \ln\!\big(1 + e^{(v_i(t) - V_m(t))/\psi}\big)$, with the layer's
  reference levels $V_m(t) = \mu(v(t)) - 0.2\,(\max v(t) - \min v(t))$ and
  $V_\theta(t) = \mu(\Theta(t)) - 0.2\,(\max\Theta(t) - \min\Theta(t))$;
- dynamic temporal threshold (DTT), falling with the rate of depolarization,
  $T_i(t+1) = a(t) + e^{-(v_i(t+1) - v_i(t))/C}$ with $a(t) = -e^{-|\mu(\Theta(t))|}$;
- the threshold of the next step, $\Theta_i(t+1) = \frac{1}{2}\big(E_i(t) + T_i(t+1)\big)$.

The neuron is the current-based LIF of the authors' networks (PopSAN): $c_t = c_{t-1}/2 + x_t$ (core
:func:`~snnref.neuron.lif_charge`, $\tau_c = 2$, input not decayed), $v_t = \frac{3}{4}v_{t-1}(1 - s_{t-1}) + c_t$
(core hard :func:`~snnref.neuron.reset` to 0 of the previous potential, then :func:`~snnref.neuron.lif_charge` with
$\tau_v = 4$), $s_t = \Theta(v_t - \Theta_t)$ (core :func:`~snnref.neuron.fire`, rectangular surrogate of width 1;
the code fires on $v > \Theta$, snnref on $v \ge \Theta$). As in the code, the threshold carries no gradient.

Paper: ding2022bdett, Eqs. (1)-(5). The paper's text was not available here: the structure (Eq. 1 the mean of DET at $t$
and DTT at $t+1$; Eq. 2-4 DET with 20 % reference levels; DTT a single exponential of the depolarization with
$b = 1$ and $a$ an exponential decay of the layer's mean threshold) is from a reading note on the arXiv version
(EzraZephyr/SNN-Paper-Annotations); the exact forms and constants ($\eta = 0.01$, $\psi = 4$ or 6, $C = 3$, 0.2) are
from the co-author's code ``Zyunduo/dynamic-threshold`` (``sddpg_networks.py``, ``popsan.py``), which computes
$a = -e^{-|\mu(\Theta)|}$ but then uses $-1$ in its place.
"""

from __future__ import annotations

from functools import partial

import torch
from torch import nn

from snnref.neuron import fire, lif_charge, multi_step, reset
from snnref.surrogate import rectangular_spike

BDETTState = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]  # (c, v, s, Theta, E)


def reference_level(u: torch.Tensor, *, bias: float = 0.2) -> torch.Tensor:
    r"""A layer's reference level $\mu(u) - \text{bias}\,(\max u - \min u)$ over all its neurons (Eqs. 3-4)."""
    return u.mean() - bias * (u.max() - u.min())


def energy_threshold(v: torch.Tensor, theta: torch.Tensor, *, eta: float = 0.01, psi: float = 4.0,
                     bias: float = 0.2) -> torch.Tensor:
    r"""DET $E_i = \eta(v_i - V_m) + V_\theta + \ln(1 + e^{(v_i - V_m)/\psi})$; rises with the potential (Eq. 2)."""
    d = v - reference_level(v, bias=bias)
    return eta * d + reference_level(theta, bias=bias) + torch.log1p(torch.exp(d / psi))


def temporal_threshold(v_next: torch.Tensor, v: torch.Tensor, theta: torch.Tensor, *, C: float = 3.0) -> torch.Tensor:
    r"""DTT $T_i(t+1) = -e^{-|\mu(\Theta(t))|} + e^{-(v_i(t+1) - v_i(t))/C}$; drops after fast rises (Eq. 4-5)."""
    a = -torch.exp(-theta.mean().abs())
    return a + torch.exp(-(v_next - v) / C)


def bdett_init_state(x0: torch.Tensor, *, theta0: float = 0.5) -> BDETTState:
    """All potentials, currents and spikes 0; threshold and DET start at ``theta0`` (0.5 in the authors' code)."""
    z = torch.zeros_like(x0)
    return z, z, z, z + theta0, z + theta0


def bdett_step(x: torch.Tensor, state: BDETTState, *, eta: float = 0.01, psi: float = 4.0, C: float = 3.0,
               bias: float = 0.2, alpha: float = 1.0) -> tuple[torch.Tensor, BDETTState]:
    r"""One step of a current-based LIF layer with the BDETT threshold; returns $(s_t, (c_t, v_t, s_t, \Theta_t, E_t))$.

    $\Theta_t = \frac{1}{2}(E_{t-1} + T_t)$, $s_t = \Theta(v_t - \Theta_t)$, then $E_t$ from $(v_t, \Theta_t)$.
    Paper: ding2022bdett, Eq. (1).
    """
    c, v, s, theta, e = state
    c = lif_charge(x, c, tau=2.0, decay_input=False)
    h = lif_charge(c, reset(v, s, v_th=theta, v_reset=0.0), tau=4.0, decay_input=False)
    # Eq. (1): the mean of the last DET and the new DTT; the threshold carries no gradient
    theta_t = 0.5 * (e + temporal_threshold(h, v, theta, C=C)).detach()
    s_t = fire(h, v_th=theta_t, spike_fn=partial(rectangular_spike, alpha=alpha))
    e_t = energy_threshold(h.detach(), theta_t, eta=eta, psi=psi, bias=bias)
    return s_t, (c, h, s_t, theta_t, e_t)


class BDETTLIF(nn.Module):
    """Multi-step current-based LIF layer over [T, B, N] with the BDETT threshold; holds parameters, loops."""

    def __init__(self, *, eta: float = 0.01, psi: float = 4.0, C: float = 3.0, theta0: float = 0.5):
        super().__init__()
        for name, value in (("psi", psi), ("C", C)):
            if not value > 0:
                raise ValueError(f"{name} must be > 0, got {value!r}")
        self.eta, self.psi, self.C, self.theta0 = eta, psi, C, theta0

    def forward(self, x_seq: torch.Tensor) -> torch.Tensor:
        state = bdett_init_state(x_seq[0], theta0=self.theta0)
        spikes, _ = multi_step(bdett_step, x_seq, state, eta=self.eta, psi=self.psi, C=self.C)
        return spikes  # [T, B, N]
