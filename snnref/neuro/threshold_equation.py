r"""Threshold equation of Platkiewicz & Brette (2010) and the exponential integrate-and-fire neuron it implies.

With the sodium activation curve approximated by an exponential near spike initiation,
$I_{Na} \approx g_{Na} h (E_{Na} - V_a) e^{(V - V_a)/k_a}$, the membrane equation becomes an exponential
integrate-and-fire (EIF) neuron whose threshold (the voltage where $dF/dV = 0$) is

$$\theta = V_a - k_a \log\frac{g_{Na}(E_{Na} - V_a)}{g_{tot}\,k_a} - k_a \log h,$$

with $g_{tot} = g_L + \sum_i g_i$ the total non-sodium conductance and $h$ the sodium inactivation variable.
Units: voltages in mV, conductances relative to any common unit; time is in steps (``tau`` = membrane
time constant / dt).
"""

from __future__ import annotations

import math

import torch

from snnref.neuron import fire, lif_charge, reset
from snnref.surrogate import SpikeFn, atan_spike


def threshold_equation(
    h_na: torch.Tensor, *, v_a: float, k_a: float, g_na: float, g_l: float, e_na: float, g_extra: float = 0.0
) -> torch.Tensor:
    r"""Spike threshold $\theta = V_a - k_a\log\frac{g_{Na}(E_{Na}-V_a)}{(g_L + g_{extra})k_a} - k_a\log h$.

    Paper: platkiewicz2010threshold, the threshold equation (Results, "A threshold equation").
    """
    if not k_a > 0:
        raise ValueError(f"k_a must be > 0, got {k_a!r}")
    g_tot = g_l + g_extra
    return v_a - k_a * math.log(g_na * (e_na - v_a) / (g_tot * k_a)) - k_a * torch.log(h_na)


def sodium_current(v: torch.Tensor, h_na: torch.Tensor, *, v_a: float, k_a: float, g_na: float, g_l: float,
                   e_na: float) -> torch.Tensor:
    r"""Exponential Na current over $g_L$ (in mV): $\frac{g_{Na}}{g_L} h (E_{Na} - V_a) e^{(V - V_a)/k_a}$."""
    return g_na / g_l * h_na * (e_na - v_a) * torch.exp((v - v_a) / k_a)


def eif_threshold_step(
    x: torch.Tensor,
    v: torch.Tensor,
    *,
    h_na: torch.Tensor,
    tau: float,
    e_l: float,
    v_a: float,
    k_a: float,
    g_na: float,
    g_l: float,
    e_na: float,
    v_spike: float = 0.0,
    v_reset: float = -70.0,
    spike_fn: SpikeFn = atan_spike,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""One Euler step of $\tau\dot V = E_L - V + I_{Na}(V, h)/g_L + X$; spike when $V \ge V_{spike}$, reset to $V_r$.

    Equivalently $\tau\dot V = E_L - V + k_a e^{(V-\theta)/k_a} + X$ with $\theta$ from :func:`threshold_equation`.
    ``x`` is the input current over $g_L$ (mV). Paper: platkiewicz2010threshold, membrane equation with the exponential
    approximation of the Na current.
    """
    i_na = sodium_current(v, h_na, v_a=v_a, k_a=k_a, g_na=g_na, g_l=g_l, e_na=e_na)
    h = lif_charge(x + i_na, v, tau=tau, v_rest=e_l)
    s = fire(h, v_th=v_spike, spike_fn=spike_fn)
    return s, reset(h, s, v_th=v_spike, v_reset=v_reset)
