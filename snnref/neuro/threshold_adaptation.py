r"""Spike threshold predicted from the membrane potential (Fontaine, Peña & Brette 2014).

The threshold relaxes towards a steady-state function of the voltage,
$\tau_\theta\,\dot\theta = \theta_\infty(V) - \theta$, and a spike is predicted where $V \ge \theta$. The steady
state has a low slope $b$ below a knee $V_i$ and a high slope $a$ above it; snnref uses a smooth knee of width $k$:

$$\theta_\infty(V) = \theta_i + b\,(V - V_i) + (a - b)\,k\log\!\left(1 + e^{(V - V_i)/k}\right).$$

Applied to a recorded trace $V_t$ (``v_seq`` [T, B, ...], time in steps), this gives the predicted threshold
and spikes; $V - \theta$ is the *effective signal*, from which slow fluctuations are filtered out.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from snnref.neuro.dynamic_threshold import threshold_filter
from snnref.neuron import fire, multi_step
from snnref.surrogate import SpikeFn, atan_spike


def theta_inf(v: torch.Tensor, *, theta_i: float, v_i: float, a: float, b: float, k: float) -> torch.Tensor:
    r"""Steady-state threshold $\theta_i + b(V - V_i) + (a - b)\,k\log(1 + e^{(V - V_i)/k})$.

    Paper: fontaine2014adaptation, steady-state threshold function (Fig. 2a; slopes of Fig. 6a-b).
    """
    if not k > 0:
        raise ValueError(f"k must be > 0, got {k!r}")
    return theta_i + b * (v - v_i) + (a - b) * k * F.softplus((v - v_i) / k)


def threshold_tracking_step(
    v: torch.Tensor, theta: torch.Tensor, *, tau_theta: float, theta_i: float, v_i: float, a: float, b: float,
    k: float, spike_fn: SpikeFn = atan_spike,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""$\theta_t = \theta_{t-1} + (\theta_\infty(V_t) - \theta_{t-1})/\tau_\theta$; predicted spike $\Theta(V_t - \theta_t)$.

    Paper: fontaine2014adaptation, threshold model $\tau_\theta\dot\theta = \theta_\infty(V) - \theta$.
    """
    target = theta_inf(v, theta_i=theta_i, v_i=v_i, a=a, b=b, k=k)
    theta = threshold_filter(target, theta, tau_theta=tau_theta)
    return fire(v, v_th=theta, spike_fn=spike_fn), theta


def predict_threshold(v_seq: torch.Tensor, **params: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Predicted spikes and thresholds [T, B, ...] for a voltage trace, starting at $\\theta_\\infty(V_0)$."""
    shape = {k: params[k] for k in ("theta_i", "v_i", "a", "b", "k")}
    spikes, thetas = multi_step(threshold_tracking_step, v_seq, theta_inf(v_seq[0], **shape), **params)
    return spikes, torch.stack(thetas)
