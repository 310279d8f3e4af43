r"""MPBN: batch normalization of the membrane potential before firing, folded into the threshold (Guo et al., 2023).

The LIF potential is normalized right before the fire step; the reset acts on the un-normalized potential:

$$u_t = \lambda_{\text{decay}}\,u_{t-1}(1 - o_{t-1}) + x_t, \qquad
o_t = \Theta\!\left(\gamma\,\frac{u_t - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta - V_{th}\right).$$

At inference ($\mu, \sigma^2$ fixed) and for $\gamma > 0$ this is a plain LIF neuron with the per-channel threshold
$\hat V_{th} = \mu + (V_{th} - \beta)\sqrt{\sigma^2 + \epsilon}/\gamma$ (the re-parameterization), so MPBN costs nothing
at inference. Paper: guo2023mpbn, MPBN and its re-parameterization.
"""

from __future__ import annotations

from typing import Callable

import torch

from snnref.neuron import fire, lif_charge, reset
from snnref.surrogate import SpikeFn


def mpbn_step(
    x: torch.Tensor, v: torch.Tensor, *, decay: float, v_th: float,
    bn: Callable[[torch.Tensor], torch.Tensor], spike_fn: SpikeFn,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""One LIF step with ``bn`` applied to the potential before firing; returns ``(spike, v_next)``, ``v`` un-normalized."""
    h = lif_charge(x, v, tau=1 / (1 - decay), decay_input=False)  # decay * v + x
    s = fire(bn(h), v_th=v_th, spike_fn=spike_fn)
    return s, reset(h, s, v_th=v_th, v_reset=0.0)


def folded_threshold(
    *, v_th: float, mean: torch.Tensor, var: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float
) -> torch.Tensor:
    r"""Per-channel $\hat V_{th} = \mu + (V_{th} - \beta)\sqrt{\sigma^2 + \epsilon}/\gamma$; requires every $\gamma > 0$."""
    if not (weight > 0).all():
        raise ValueError(f"weight (gamma) must be > 0 in every channel to fold into a threshold, got {weight.tolist()!r}")
    return mean + (v_th - bias) * torch.sqrt(var + eps) / weight
