r"""NeuNorm: neuron normalization by an auxiliary neuron per position (Wu et al., AAAI 2019).

At each spatial position $(i, j)$ of a spiking layer with $F$ feature maps, an auxiliary neuron leaks with factor
$k_{\tau 2}$ and integrates the average spike of the $F$ maps; each spike is lowered by a learnable multiple $a_f(i,j)$
of it before it reaches the next layer:

$$x^{t+1}(i,j) = k_{\tau 2}\,x^{t}(i,j) + \frac{v}{F}\sum_{f=1}^{F} o^{t+1}_f(i,j), \qquad
\hat o^{t+1}_f(i,j) = o^{t+1}_f(i,j) - a_f(i,j)\,x^{t+1}(i,j).$$

The next layer is the iterative LIF of STBP, $u^{t+1} = k_{\tau 1}u^{t}(1 - o^{t}) + W * \hat o^{t+1}$
(:func:`snnref.training.stbp.stbp_step` with ``tau`` $= k_{\tau 1}$). Shapes: spikes [T, B, F, ...], auxiliary state
[B, 1, ...], $a$ of shape [F, ...].
Paper: wu2019neunorm, Sec. "Neuron Normalization (NeuNorm)".
"""

from __future__ import annotations

import torch
from torch import nn

from snnref.neuron import multi_step


def neunorm_aux_step(o: torch.Tensor, x: torch.Tensor, *, k_tau2: float, v: float) -> torch.Tensor:
    r"""Auxiliary neuron, $x^{t+1} = k_{\tau 2}x^{t} + \frac{v}{F}\sum_f o^{t+1}_f$, on spikes [B, F, ...] and state [B, 1, ...]."""
    return k_tau2 * x + v * o.mean(dim=1, keepdim=True)  # (v/F) sum over the F maps


def neunorm_step(
    o: torch.Tensor, x: torch.Tensor, *, a: torch.Tensor, k_tau2: float, v: float
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""One NeuNorm step; returns $(\hat o^{t+1} = o^{t+1} - a\,x^{t+1},\; x^{t+1})$."""
    x = neunorm_aux_step(o, x, k_tau2=k_tau2, v=v)
    return o - a * x, x


class NeuNorm(nn.Module):
    """NeuNorm over spikes [T, B, F, ...]: holds the learnable scale $a$ [F, ...] and loops with :func:`neunorm_step`."""

    def __init__(self, shape: tuple[int, ...], *, k_tau2: float, v: float, a_init: float = 0.0):
        super().__init__()
        if not 0 <= k_tau2 < 1:
            raise ValueError(f"k_tau2 (the auxiliary neuron's decay) must be in [0, 1), got {k_tau2!r}")
        if not v > 0:
            raise ValueError(f"v must be > 0, got {v!r}")
        self.k_tau2, self.v = k_tau2, v
        self.a = nn.Parameter(torch.full(size=shape, fill_value=float(a_init)))

    def forward(self, o_seq: torch.Tensor) -> torch.Tensor:
        # x^0 = 0; the first step broadcasts it to [B, 1, ...], one auxiliary neuron per position
        o_hat, _ = multi_step(step=neunorm_step, x_seq=o_seq, state=0.0, a=self.a, k_tau2=self.k_tau2, v=self.v)
        return o_hat  # [T, B, F, ...]
