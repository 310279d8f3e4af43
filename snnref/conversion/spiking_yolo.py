r"""Spiking-YOLO's signed neuron with imbalanced threshold and channel-wise normalization (Kim et al., AAAI 2020).

Leaky ReLU $f(z) = z$ for $z \ge 0$, $\alpha z$ for $z < 0$ is carried by a signed IF neuron whose negative threshold is
$1/\alpha$ times larger: it emits $+1$ when $V \ge V_{th}$ and $-1$ when $V \le -V_{th}/\alpha$, resetting by the threshold it
crossed, so negative input $z$ produces $\alpha|z|T/V_{th}$ negative spikes. Channel-wise normalization divides each
output channel by its own high-percentile activation $\lambda^l_i$ (and rescales the next layer by $\lambda^{l-1}_j$), so
weak channels fire at useful rates.

Paper: kim2020spikingyolo
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from snnref.conversion.toolkit import activation_values
from snnref.neuron import if_charge
from snnref.surrogate import heaviside


def ibt_step(x: torch.Tensor, v: torch.Tensor, *, v_th: float | torch.Tensor, alpha: float, v_reset: None = None
             ) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Signed IF step with imbalanced threshold; returns ``(spike, v_next)``, spike in $\{-1, 0, 1\}$.

    $H_t = V_{t-1} + x_t$; $S^+ = \Theta(H_t - V_{th})$; $S^- = \Theta(-V_{th}/\alpha - H_t)$;
    $V_t = H_t - V_{th}S^+ + \frac{V_{th}}{\alpha}S^-$. Paper: kim2020spikingyolo (IBT, $V_{th,neg} = -V_{th}/\alpha$).
    """
    if not 0 < alpha <= 1:
        raise ValueError(f"alpha (the leaky-ReLU slope) must be in (0, 1], got {alpha!r}")
    if v_reset is not None:
        raise ValueError(f"the signed neuron resets by subtraction; v_reset must be None, got {v_reset!r}")
    h = if_charge(x, v)
    pos = heaviside(h - v_th)
    neg = heaviside(-v_th / alpha - h)
    return pos - neg, h - v_th * pos + (v_th / alpha) * neg


def channel_wise_normalize(model: nn.Sequential, x: torch.Tensor, *, p: float = 99.9, per_channel: bool = True,
                           activations: tuple[type, ...] = (nn.ReLU, nn.LeakyReLU)) -> tuple[nn.Sequential, list[torch.Tensor]]:
    r"""$W^l_{ij} \leftarrow W^l_{ij}\,\lambda^{l-1}_j/\lambda^l_i$, $b^l_i \leftarrow b^l_i/\lambda^l_i$ with $\lambda^l_i$ the $p$-th percentile of channel $i$.

    Percentiles are taken over samples (and positions) of the ANN's activation; ``per_channel=False`` uses one
    $\lambda^l$ per layer (the usual layer-wise normalization) for comparison. A ``Flatten`` repeats each channel's
    $\lambda$ over its positions. Returns the normalized copy (convert it with thresholds 1) and the $\lambda^l$.
    Paper: kim2020spikingyolo (channel-wise normalization).
    """
    if not 0 < p <= 100:
        raise ValueError(f"p must be in (0, 100], got {p!r}")
    lams = []
    for a in activation_values(model, x, activations=activations):
        chans = a.transpose(0, 1).flatten(1)   # [C, samples*positions]
        lam = torch.quantile(chans, p / 100, dim=1)
        lams.append(lam if per_channel else torch.full_like(lam, torch.quantile(chans, p / 100).item()))
    out = copy.deepcopy(model)
    prev = torch.ones(1, dtype=x.dtype)   # lambda^0 = 1: the input is not rescaled
    k = 0
    for m in out:
        if not isinstance(m, (nn.Linear, nn.Conv2d)):
            continue
        # the read-out after the last activation keeps lambda = 1, so it stays in ANN units
        lam = lams[k] if k < len(lams) else torch.ones(m.weight.shape[0], dtype=x.dtype)
        if isinstance(m, nn.Linear) and prev.numel() not in (1, m.in_features):
            # after Flatten, channel j covers in_features / C consecutive inputs
            prev = prev.repeat_interleave(m.in_features // prev.numel())
        w = m.weight.view(m.weight.shape[0], m.weight.shape[1], -1)   # [out, in, kernel positions], shares storage
        with torch.no_grad():
            w.mul_(torch.outer(1 / lam, prev).unsqueeze(-1))   # lambda^{l-1}_j / lambda^l_i
            if m.bias is not None:
                m.bias.div_(lam)
        prev, k = lam, k + 1
    return out, lams
