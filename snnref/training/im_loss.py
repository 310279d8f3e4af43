r"""IM-Loss: information maximization loss, and the tanh surrogate of ESG (Guo et al., NeurIPS 2022).

A binary spike carries at most $\ln 2$ nats, reached when it fires with probability $\frac{1}{2}$. If a layer's
membrane potentials are spread symmetrically around their mean, $P(U \ge V_{th}) = \frac{1}{2}$ exactly when the mean
sits on the threshold, so the loss pulls each layer's mean potential $\overline{U}^l$ onto $V_{th}$:

$$\mathcal{L}_{IM} = \frac{1}{L}\sum_{l=1}^{L}\left(\overline{U}^l - V_{th}\right)^2, \qquad
\mathcal{L} = \mathcal{L}_{CE} + \lambda\,\mathcal{L}_{IM}.$$

The spike's backward pass uses the tanh surrogate of the evolutionary surrogate gradient (ESG),
$\varphi(x) = \frac{1}{2}\tanh(Kx) + \frac{1}{2}$ on $x = U - V_{th}$, whose sharpness $K$ the paper raises during
training (the schedule is not reproduced here).

Paper: guo2022imloss, the IM-Loss (confirmed against the official code, ``models/distrloss_layer.py``).
"""

from __future__ import annotations

from typing import Sequence

import torch

from snnref.surrogate import make_spike_function


def im_loss(potentials: Sequence[torch.Tensor], *, v_th: float) -> torch.Tensor:
    r"""$\frac{1}{L}\sum_l (\overline{U}^l - V_{th})^2$ over the layers' membrane potentials (each of any shape)."""
    means = torch.stack([u.mean() for u in potentials])  # [L]
    return means.sub(v_th).pow(2).mean()


def esg_primitive(x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    r"""$\varphi(x) = \frac{1}{2}\tanh(Kx) + \frac{1}{2}$ with $K$ = ``alpha``."""
    return 0.5 * torch.tanh(alpha * x) + 0.5


def esg_grad(x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    r"""$\varphi'(x) = \frac{K}{2}\left(1 - \tanh^2(Kx)\right)$."""
    return 0.5 * alpha * (1 - torch.tanh(alpha * x) ** 2)


_ESGSpike = make_spike_function(esg_grad, "ESG")


def esg_spike(x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """Step forward, tanh (ESG) surrogate backward with sharpness ``alpha`` = K."""
    return _ESGSpike.apply(x, alpha)
