r"""STBP: the iterative LIF neuron and the four derivative approximations of Wu et al. (2018).

$$u^{t+1} = \tau\,u^{t}(1 - o^{t}) + W o^{t+1}_{\text{pre}} + b, \qquad o^{t+1} = [\,u^{t+1} \ge V_{th}\,],$$
with $\tau \in (0, 1)$ a per-step decay factor (not a time constant). On the core: ``lif_step`` with
``decay_input=False``, ``v_reset=0`` and time constant $1/(1-\tau)$, whose charge $\tau V^t + X^{t+1}$ of the post-reset
state $V^t = u^t(1-o^t)$ is $u^{t+1}$; $\partial o/\partial u$ is one of the unit-area curves $h_1..h_4$.
Paper: wu2018stbp, Sec. 2 (iterative LIF; derivative approximations of Fig. 3B).
"""

from __future__ import annotations

import math
from functools import partial

import torch
from torch import nn

from snnref.neuron import lif_step, multi_step
from snnref.surrogate import SpikeFn, make_spike_function, rectangular_spike, sigmoid_spike, triangle_spike


def gaussian_primitive(x: torch.Tensor, alpha: float) -> torch.Tensor:
    r"""$g(x) = \frac{1}{2}\left(1 + \operatorname{erf}\frac{x}{\sqrt{2\alpha}}\right)$, the Gaussian CDF of variance $\alpha$."""
    return 0.5 * (1 + torch.erf(x / math.sqrt(2 * alpha)))


def gaussian_grad(x: torch.Tensor, alpha: float) -> torch.Tensor:
    r"""STBP's $h_4$: $g'(x) = \frac{1}{\sqrt{2\pi\alpha}}\,e^{-x^2/(2\alpha)}$ (unit area, variance $\alpha = a_4$)."""
    return torch.exp(-x * x / (2 * alpha)) / math.sqrt(2 * math.pi * alpha)


_GaussianSpike = make_spike_function(gaussian_grad, "Gaussian")


def gaussian_spike(x: torch.Tensor, alpha: float) -> torch.Tensor:
    """Step forward, Gaussian ($h_4$) surrogate backward."""
    return _GaussianSpike.apply(x, alpha)


def stbp_spike_fn(curve: str, a: float) -> SpikeFn:
    r"""Spike function with backward $h_i$ (``curve``), width ``a``: $h_1 = \frac{1}{a_1}[|x| < \frac{a_1}{2}]$,
    $h_2 = (\frac{\sqrt{a_2}}{2} - \frac{a_2}{4}|x|)^+$, $h_3 = \frac{1}{a_3}\sigma(\frac{x}{a_3})(1 - \sigma(\frac{x}{a_3}))$,
    $h_4 = \mathcal{N}(x; 0, a_4)$, with $x = u - V_{th}$."""
    if not a > 0:
        raise ValueError(f"a must be > 0, got {a!r}")
    if curve == "h1":
        return partial(rectangular_spike, alpha=a)
    if curve == "h2":
        return partial(triangle_spike, alpha=2 / math.sqrt(a))  # half-width 2/sqrt(a2): peak sqrt(a2)/2
    if curve == "h3":
        return partial(sigmoid_spike, alpha=1 / a)
    if curve == "h4":
        return partial(gaussian_spike, alpha=a)
    raise ValueError(f"curve must be one of 'h1', 'h2', 'h3', 'h4', got {curve!r}")


def stbp_step(x: torch.Tensor, v: torch.Tensor, *, tau: float, v_th: float, spike_fn: SpikeFn) -> tuple[torch.Tensor, torch.Tensor]:
    r"""One step: $u^{t+1} = \tau V^t + x^{t+1}$, $o^{t+1} = [u^{t+1} \ge V_{th}]$, returns $(o^{t+1}, u^{t+1}(1 - o^{t+1}))$."""
    return lif_step(x, v, tau=1 / (1 - tau), v_th=v_th, v_reset=0.0, decay_input=False, spike_fn=spike_fn)


class STBPLIF(nn.Module):
    """Multi-step STBP LIF layer over [T, B, ...]; holds the decay, threshold and surrogate, loops with :func:`stbp_step`."""

    def __init__(self, *, tau: float, v_th: float, curve: str, a: float):
        super().__init__()
        if not 0 < tau < 1:
            raise ValueError(f"tau (the decay factor) must be in (0, 1), got {tau!r}")
        if not v_th > 0:
            raise ValueError(f"v_th must be > 0, got {v_th!r}")
        self.tau, self.v_th, self.spike_fn = tau, v_th, stbp_spike_fn(curve, a)

    def forward(self, x_seq: torch.Tensor) -> torch.Tensor:
        spikes, _ = multi_step(stbp_step, x_seq, tau=self.tau, v_th=self.v_th, spike_fn=self.spike_fn)
        return spikes  # [T, B, N]


def stbp_loss(out_spikes: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    r"""$L = \frac{1}{2S}\sum_{s=1}^{S}\left\lVert y_s - \frac{1}{T}\sum_{t=1}^{T} o_s^{t,N}\right\rVert_2^2$ on [T, S, C] output spikes."""
    return 0.5 * ((y - out_spikes.mean(dim=0)) ** 2).sum(dim=-1).mean()  # rate over T: [S, C]
