r"""GLIF: the gated leaky integrate-and-fire neuron (Yao et al., NeurIPS 2022).

Three learnable gates in $[0, 1]$ mix two variants of each neuronal behaviour: $\alpha$ mixes exponential and
linear leakage, $\beta$ mixes a constant and a time-dependent synaptic conductance $g_t$, $\gamma$ mixes a hard
and a soft reset. With $f = 1 - \alpha(1 - \tau)$ and the previous spike $O_{t-1}$:

$$U_t = f\,U_{t-1}(1 - \gamma O_{t-1}) - (1 - \gamma)V_R\,O_{t-1} - (1 - \alpha)V_L
+ \bigl(1 - \beta(1 - g_t)\bigr)X_t, \qquad O_t = \Theta(U_t - V_{th}).$$

The reset acts on the next step, as in the official code: the potential carried into step $t$ loses the
whole (decayed) potential with weight $\gamma$ (hard reset) and $V_R$ with weight $1 - \gamma$ (soft reset).
Every parameter (gates, $\tau$, $V_L$, $V_R$, $V_{th}$, $g_t$) is the sigmoid of a learned real number.

Paper: yao2022glif, the GLIF membrane update (confirmed against the official code, ``layers.py``).
"""

from __future__ import annotations

import torch
from torch import nn

from snnref.neuron import fire, multi_step, reset
from snnref.surrogate import SpikeFn, rectangular_spike


def glif_step(
    inp: tuple[torch.Tensor, torch.Tensor],
    state: tuple[torch.Tensor, torch.Tensor],
    *,
    alpha: torch.Tensor,
    beta: torch.Tensor,
    gamma: torch.Tensor,
    tau: torch.Tensor,
    v_l: torch.Tensor,
    v_r: torch.Tensor,
    v_th: torch.Tensor,
    spike_fn: SpikeFn = rectangular_spike,
) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    r"""One GLIF step on ``inp = (X_t, g_t)`` and ``state = (U_{t-1}, O_{t-1})``; returns ``(O_t, (U_t, O_t))``."""
    x, g = inp
    u, o = state
    # exponential leak with weight alpha: f = 1 - alpha (1 - tau)
    decayed = (1 - alpha * (1 - tau)) * u
    # reset by the previous spike, subtracting gamma * (decayed potential) + (1 - gamma) * V_R
    kept = reset(decayed, o, v_th=gamma * decayed + (1 - gamma) * v_r, v_reset=None)
    # linear leak with weight 1 - alpha; input through the gated conductance 1 - beta (1 - g_t)
    h = kept - (1 - alpha) * v_l + (1 - beta * (1 - g)) * x
    s = fire(h, v_th=v_th, spike_fn=spike_fn)
    return s, (h, s)


class GLIF(nn.Module):
    """Multi-step GLIF layer over [T, B, ...] with layer-wise learnable gates and membrane parameters."""

    def __init__(
        self, *, T: int, alpha: float = 0.5, beta: float = 0.5, gamma: float = 0.5, tau: float = 0.25,
        v_l: float | None = None, v_r: float | None = None, v_th: float = 0.5, g: float = 0.5,
        spike_fn: SpikeFn = rectangular_spike,
    ):
        super().__init__()
        if not T >= 1:
            raise ValueError(f"T must be >= 1, got {T!r}")
        # official defaults: V_L = V_th / (2T), V_R = V_th
        v_l = v_th / (2 * T) if v_l is None else v_l
        v_r = v_th if v_r is None else v_r
        values = dict(alpha=alpha, beta=beta, gamma=gamma, tau=tau, v_l=v_l, v_r=v_r, v_th=v_th)
        for name, p in {**values, "g": g}.items():
            if not 0 < p < 1:
                raise ValueError(f"{name} must lie in (0, 1) (it is the sigmoid of a learned parameter), got {p!r}")
        # each parameter is stored as its logit, so sigmoid(raw) is the given value
        self.raw = nn.ParameterDict({k: nn.Parameter(torch.logit(torch.tensor(p))) for k, p in values.items()})
        self.raw_g = nn.Parameter(torch.logit(torch.tensor(g)).repeat(T))  # one conductance per time step
        self.spike_fn = spike_fn

    def params(self) -> dict[str, torch.Tensor]:
        """The constrained parameters (sigmoid of the raw ones)."""
        return {k: torch.sigmoid(p) for k, p in self.raw.items()}

    def forward(self, x_seq: torch.Tensor) -> torch.Tensor:
        zeros = x_seq.new_zeros(())  # U_0 = 0, O_0 = 0 (broadcast to the input's shape by the first step)
        # one (X_t, g_t) pair per step; strict: the layer holds exactly T conductances
        inputs = list(zip(x_seq, torch.sigmoid(self.raw_g), strict=True))
        spikes, _ = multi_step(glif_step, inputs, (zeros, zeros), spike_fn=self.spike_fn, **self.params())
        return spikes  # [T, B, ...]
