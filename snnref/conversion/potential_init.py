r"""Optimized initial membrane potential for converted SNNs (Bu et al., AAAI 2022).

A soft-reset IF neuron with threshold $\theta$ started at $V_0 = \varphi\theta$ and fed a constant current $z$
outputs $\frac{\theta}{T}\mathrm{clip}(\lfloor Tz/\theta + \varphi\rfloor, 0, T)$. For $z$ spread uniformly over a
quantization step the error against $\mathrm{clip}(z, 0, \theta)$ has mean $\frac{\theta}{T}(\varphi - \frac12)$ and
mean square $\frac{\theta^2}{3T^2}\big((1-\varphi)^3 + \varphi^3\big)$: both are optimal at $\varphi = \frac12$, where the
expected error vanishes. Starting every neuron at $\theta/2$ therefore costs nothing and removes the bias of the
usual $V_0 = 0$.

Paper: bu2022opi
"""

from __future__ import annotations

from typing import Sequence

from torch import nn

from snnref.conversion.toolkit import convert

OPTIMAL_V0_FRAC = 0.5


def expected_error(v0_frac: float, *, v_th: float, T: int) -> float:
    r"""$\mathbb{E}[\phi - \mathrm{clip}(z, 0, \theta)] = \frac{\theta}{T}(\varphi - \frac12)$ for $z$ uniform within a step."""
    return v_th / T * (v0_frac - 0.5)


def expected_squared_error(v0_frac: float, *, v_th: float, T: int) -> float:
    r"""$\mathbb{E}[(\phi - \mathrm{clip}(z, 0, \theta))^2] = \frac{\theta^2}{3T^2}\big((1-\varphi)^3 + \varphi^3\big)$, minimal at $\varphi = \frac12$."""
    if not 0 <= v0_frac <= 1:
        raise ValueError(f"v0_frac must be in [0, 1], got {v0_frac!r}")
    return (v_th / T) ** 2 * ((1 - v0_frac) ** 3 + v0_frac**3) / 3


def convert_opi(model: nn.Sequential, thresholds: Sequence[float]) -> nn.Sequential:
    r"""Convert with soft reset and every membrane potential initialised to $V_0 = \theta^l/2$. Paper: bu2022opi."""
    return convert(model, thresholds, v_reset=None, v0_frac=OPTIMAL_V0_FRAC)
