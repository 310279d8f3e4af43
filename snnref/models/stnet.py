r"""STNet's spiking branch: an STBP-style LIF whose threshold is set from the transformer's spatial features.

**Neuron** (the membrane is kept before reset; the reset is applied when the next input arrives):
$u_t = \lambda\,u_{t-1}(1 - o_{t-1}) + I_t$, $o_t = \Theta(u_t - V_{th})$, with decay $\lambda = 0.2$ and the
rectangular surrogate $\partial o/\partial u = [\,|u - V_{th}| < \frac12\,]$. The temporal feature of a layer is the mean
membrane $\frac{1}{T}\sum_t u_t$. The official code fires on $u > V_{th}$; the core fires on $\ge$ (they differ only
where $u$ equals $V_{th}$ exactly).

**Dynamic threshold** from the transformer's feature map $F$ [B, C, H, W]: $\bar F = \mathrm{mean}_c(F \odot
\mathrm{GAP}(F))$ [B, 1, H, W]; its batch mean $M$ is scaled to $[0, 255]$ and histogrammed into 256 bins with
frequencies $p_i$ (counts over $HW$); with the entropy per occupied bin $E = -\sum_i p_i\log(p_i + 10^{-8}) /
|\{i: p_i > 0\}|$,
$$V_{th} = \theta_0\big(\mathrm{mean}(\sigma(\bar F)) + \gamma E\big),\qquad \theta_0 = 0.3,\ \gamma = 10.$$

Paper: zhang2022stnet (SNN branch of the SNNformer feature extractor; official ``snn3.py``).
"""

from __future__ import annotations

import torch

from snnref.neuron import fire, lif_charge, reset
from snnref.surrogate import SpikeFn, rectangular_spike


def dynamic_threshold(f: torch.Tensor, *, theta0: float = 0.3, gamma: float = 10.0, eps: float = 1e-8) -> torch.Tensor:
    r"""$V_{th} = \theta_0(\mathrm{mean}\,\sigma(\bar F) + \gamma E)$ from a feature map [B, C, H, W] (a scalar tensor).

    Detached: in the official code the threshold is a global read inside the spike function, so no gradient reaches
    the feature map through it.
    """
    f_bar = (f * f.mean(dim=(2, 3), keepdim=True)).mean(dim=1, keepdim=True)  # [B, 1, H, W]
    m = f_bar.mean(dim=0).flatten()  # batch-mean map, [H * W]
    scaled = (m - m.min()) / (m.max() - m.min()) * 255
    p = torch.histc(scaled, bins=256, min=0, max=255) / m.numel()
    entropy = (p * -torch.log(p + eps)).sum() / torch.count_nonzero(p)
    return (theta0 * (torch.sigmoid(f_bar).mean() + gamma * entropy)).detach()


def stnet_step(
    x: torch.Tensor,
    state: tuple[torch.Tensor, torch.Tensor],
    *,
    v_th: float | torch.Tensor,
    decay: float = 0.2,
    spike_fn: SpikeFn = rectangular_spike,
) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    r"""$u_t = \lambda u_{t-1}(1 - o_{t-1}) + I_t$, $o_t = \Theta(u_t - V_{th})$; state $(u_t, o_t)$, returns ``(o_t, (u_t, o_t))``."""
    u_prev, o_prev = state
    v = reset(u_prev, o_prev, v_th=v_th, v_reset=0.0)  # hard reset of the previous step, u (1 - o)
    # decay * v + I: the core's leaky charge without input scaling, with 1 / tau = 1 - decay
    u = lif_charge(x, v, tau=1 / (1 - decay), decay_input=False)
    o = fire(u, v_th=v_th, spike_fn=spike_fn)
    return o, (u, o)
