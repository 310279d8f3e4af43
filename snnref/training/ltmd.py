r"""LTMD: the learnable-thresholding LIF neuron and moderate dropout (Wang, Cheng & Lim, NeurIPS 2022).

Learnable thresholding: each layer learns one $w$, its threshold is $V_{th} = \tanh(w)$, on the STBP neuron
$u^{t} = \tau\,u^{t-1}(1 - o^{t-1}) + x^{t}$, $o^{t} = \Theta(u^{t} - \tanh(w))$, rectangular surrogate of width 1.

Moderate dropout keeps neuron $i$ with a probability that grows with its firing rate $d_i$ (mean over time):
$$\hat d_i = \frac{d_i - \min_j d_j}{\max_j d_j - \min_j d_j},\qquad
q_i = \mathrm{clamp}\!\left(1 - \frac{r\,(1 - \hat d_i)}{1 - \overline{\hat d}}, 0, 1\right),$$
so that the mean drop probability is the dropout rate $r$; one Bernoulli($q_i$) mask, divided by $q_i$, is
shared by all time steps. Both follow the official code (``layersnew.py``, ``modelnew.py``).

Paper: wang2022ltmd (learnable thresholding; moderate dropout).
"""

from __future__ import annotations

import torch
from torch import nn

from snnref.neuron import multi_step
from snnref.surrogate import SpikeFn, rectangular_spike
from snnref.training.stbp import stbp_step


def lt_step(x: torch.Tensor, v: torch.Tensor, *, w: torch.Tensor, tau: float,
            spike_fn: SpikeFn = rectangular_spike) -> tuple[torch.Tensor, torch.Tensor]:
    r"""One learnable-threshold step: the STBP step with $V_{th} = \tanh(w)$; returns ``(spike, v_next)``.

    Paper: wang2022ltmd (learnable thresholding).
    """
    return stbp_step(x, v, tau=tau, v_th=torch.tanh(w), spike_fn=spike_fn)


class LTNeuron(nn.Module):
    """Multi-step LIF layer over [T, B, ...] with a learnable threshold tanh(w); ``kappa`` is the initial w."""

    def __init__(self, *, kappa: float = 0.5, tau: float = 0.25, spike_fn: SpikeFn = rectangular_spike):
        super().__init__()
        if not kappa > 0:
            raise ValueError(f"kappa (the initial w, threshold tanh(kappa)) must be > 0, got {kappa!r}")
        if not 0 < tau < 1:
            raise ValueError(f"tau (the decay factor) must be in (0, 1), got {tau!r}")
        self.w = nn.Parameter(torch.tensor(float(kappa)))
        self.tau, self.spike_fn = tau, spike_fn

    def forward(self, x_seq: torch.Tensor) -> torch.Tensor:
        spikes, _ = multi_step(lt_step, x_seq, w=self.w, tau=self.tau, spike_fn=self.spike_fn)
        return spikes  # [T, B, ...]


def moderate_keep_prob(d: torch.Tensor, *, r: float) -> torch.Tensor:
    r"""Keep probabilities $q_i = \mathrm{clamp}(1 - r(1 - \hat d_i)/(1 - \overline{\hat d}), 0, 1)$ from rates ``d``.

    Paper: wang2022ltmd (moderate dropout, ``dropout_layer`` of the official code).
    """
    d_hat = (d - d.min()) / (d.max() - d.min())
    # q <= 1 by construction, so only the lower clamp can act
    return torch.clamp(1 - (1 - d_hat) * r / (1 - d_hat.mean()), min=0.0)


def moderate_dropout(x_seq: torch.Tensor, *, r: float, generator: torch.Generator | None = None) -> torch.Tensor:
    r"""Moderate dropout of ``x_seq`` [T, B, N]: one mask Bernoulli($q$)/$q$ per neuron, the same at every step."""
    if not 0 <= r < 1:
        raise ValueError(f"r (the dropout rate) must be in [0, 1), got {r!r}")
    q = moderate_keep_prob(x_seq.mean(0), r=r)  # [B, N]
    mask = torch.bernoulli(q, generator=generator)
    return x_seq * (mask / torch.where(q > 0, q, torch.ones_like(q)))  # broadcast over T
