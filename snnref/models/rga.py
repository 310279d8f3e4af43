r"""Rate Gradient Approximation (RGA): backpropagate through an LIF layer via its firing-rate curve.

Forward is the exact LIF layer of the attacked SNN, $H_t = \lambda V_{t-1} + X_t$, $S_t = \Theta(H_t - 1)$,
hard reset to 0. Backward ignores the time structure: every $X_t$ receives the slope of a piecewise-linear
rate curve $r(\bar X)$ evaluated at the time-averaged input $\bar X = \frac{1}{T}\sum_t X_t$,

$$\frac{\partial \mathcal{L}}{\partial X_t} = \frac{\partial \mathcal{L}}{\partial S_t}\, r'(\bar X),\qquad
r'(\bar X) = \begin{cases}\gamma & 0 \le \bar X \le 1-\lambda\\
\dfrac{1-\gamma(1-\lambda)}{\lambda + e} & 1-\lambda < \bar X \le 1 + e\\ 0 & \text{otherwise.}\end{cases}$$

$r$ rises from 0 at $\bar X=0$ to 1 (always firing) at $\bar X = 1+e$; $\gamma$ keeps a small slope below
$1-\lambda$, where a constant input never fires, so that the attack gradient does not vanish.
Paper: bu2023rga (rate-gradient surrogate for LIF with leak $\lambda$; written from the official code,
``RateBp`` in ``models/layers.py``, since the equation number could not be checked). The official forward
fires on $H_t - 1 > 0$; here the package convention $\ge$ is used.
"""

from __future__ import annotations

import math

import torch

from snnref.neuron import lif_step, multi_step
from snnref.surrogate import heaviside


def rga_grad(x_mean: torch.Tensor, *, lam: float, gamma: float = 0.2, e: float = 1.0) -> torch.Tensor:
    r"""Slope $r'(\bar X)$ of the RGA rate curve: $\gamma$ on $[0, 1-\lambda]$, $\frac{1-\gamma(1-\lambda)}{\lambda+e}$ up to $1+e$."""
    low = (x_mean >= 0) & (x_mean <= 1 - lam)
    high = (x_mean > 1 - lam) & (x_mean <= 1 + e)
    return gamma * low.to(x_mean.dtype) + (1 - gamma * (1 - lam)) / (lam + e) * high.to(x_mean.dtype)


class _RGASpike(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x_seq: torch.Tensor, lam: float, gamma: float, e: float) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(x_seq)
        ctx.params = (lam, gamma, e)
        # H_t = lam * V_{t-1} + X_t is the decay_input=False charge with 1 - 1/tau = lam (lam = 1: IF)
        tau = math.inf if lam == 1.0 else 1.0 / (1.0 - lam)
        spikes, _ = multi_step(lif_step, x_seq, tau=tau, v_th=1.0, v_reset=0.0,
                               decay_input=False, spike_fn=heaviside)
        return spikes

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):  # type: ignore[override]
        (x_seq,) = ctx.saved_tensors
        lam, gamma, e = ctx.params
        return grad_out * rga_grad(x_seq.mean(0), lam=lam, gamma=gamma, e=e), None, None, None


def rga_spike(x_seq: torch.Tensor, *, lam: float, gamma: float = 0.2, e: float = 1.0) -> torch.Tensor:
    """LIF spikes of ``x_seq`` [T, B, ...] forward; the rate-curve slope at the mean input backward."""
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"lam must be in [0, 1] (leak factor per step), got {lam!r}")
    if not 0.0 <= gamma * (1 - lam) < 1.0:
        raise ValueError(f"gamma must keep gamma*(1-lam) in [0, 1), got gamma={gamma!r}")
    if not e >= 0:
        raise ValueError(f"e must be >= 0, got {e!r}")
    return _RGASpike.apply(x_seq, lam, gamma, e)
