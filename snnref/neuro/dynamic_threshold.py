r"""Dynamic spike threshold that tracks the membrane potential (Azouz & Gray 2000), on the LIF core.

The threshold relaxes towards a voltage-dependent target with time constant $\tau_\theta$ (in steps):

$$\theta_t = \theta_{t-1} + \frac{1}{\tau_\theta}\big(\theta_0 + \alpha\,(H_t - V_{rest}) - \theta_{t-1}\big),$$

so a slow depolarisation drags the threshold up with it, while a fast one (synchronous inputs) outruns it:
the threshold at spike onset falls as the rate of depolarisation rises, and the neuron detects coincidences.
"""

from __future__ import annotations

import torch

from snnref.neuron import fire, lif_charge, multi_step, reset
from snnref.surrogate import SpikeFn, atan_spike


def threshold_filter(target: torch.Tensor, theta: torch.Tensor, *, tau_theta: float) -> torch.Tensor:
    r"""One step of $\tau_\theta\dot\theta = \theta_\infty - \theta$: $\theta_t = \theta_{t-1} + (\theta_\infty - \theta_{t-1})/\tau_\theta$.

    The same Euler step as the LIF charge with $V_{rest} = 0$. Paper: azouz2000dynamic (threshold adaptation).
    """
    return lif_charge(target, theta, tau=tau_theta, v_rest=0.0)


def dynamic_threshold_step(
    x: torch.Tensor,
    state: tuple[torch.Tensor, torch.Tensor],
    *,
    tau: float,
    tau_theta: float,
    theta_0: float,
    alpha: float,
    v_rest: float = 0.0,
    v_reset: float = 0.0,
    spike_fn: SpikeFn = atan_spike,
) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    r"""One LIF step whose threshold tracks the charged potential; state is ``(v, theta)``.

    $H_t = V_{t-1} + \frac{1}{\tau}(X_t - (V_{t-1} - V_{rest}))$;
    $\theta_t = \theta_{t-1} + \frac{1}{\tau_\theta}(\theta_0 + \alpha(H_t - V_{rest}) - \theta_{t-1})$;
    $S_t = \Theta(H_t - \theta_t)$; hard reset to $V_{reset}$. ``theta_0`` is the threshold at rest.
    Paper: azouz2000dynamic (threshold falls with the rate of depolarisation).
    """
    v, theta = state
    h = lif_charge(x, v, tau=tau, v_rest=v_rest)
    theta = threshold_filter(theta_0 + alpha * (h - v_rest), theta, tau_theta=tau_theta)
    s = fire(h, v_th=theta, spike_fn=spike_fn)
    return s, (reset(h, s, v_th=theta, v_reset=v_reset), theta)


class DynamicThresholdLIF(torch.nn.Module):
    """Multi-step LIF with a membrane-tracking threshold over [T, B, ...]; holds parameters and loops."""

    def __init__(self, *, tau: float, tau_theta: float, theta_0: float, alpha: float, v_rest: float = 0.0,
                 v_reset: float = 0.0):
        super().__init__()
        if not tau >= 1:
            raise ValueError(f"tau must be >= 1 (steps), got {tau!r}")
        if not tau_theta >= 1:
            raise ValueError(f"tau_theta must be >= 1 (steps), got {tau_theta!r}")
        if not 0 <= alpha < 1:
            raise ValueError(f"alpha must be in [0, 1), got {alpha!r}")
        self.p = dict(tau=tau, tau_theta=tau_theta, theta_0=theta_0, alpha=alpha, v_rest=v_rest, v_reset=v_reset)

    def forward(self, x_seq: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns spikes [T, B, ...] and thresholds [T, B, ...]."""
        state = (torch.full_like(x_seq[0], self.p["v_rest"]), torch.full_like(x_seq[0], self.p["theta_0"]))
        spikes, states = multi_step(dynamic_threshold_step, x_seq, state, **self.p)
        return spikes, torch.stack([theta for _, theta in states])
