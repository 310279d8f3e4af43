r"""Efficient-coding spiking network: a neuron fires only when its spike lowers the coding loss (Koren & Panzeri 2022).

The population reads out $\hat x_t = D r_t$ from leaky spike traces $r_t = (1 - 1/\tau) r_{t-1} + s_t$ and
greedily minimises $L = \lVert x - \hat x\rVert^2 + \mu\lVert r\rVert^2$. With the membrane potential and threshold

$$V_i = D_i^\top(x - D r) - \mu r_i,\qquad T_i = \tfrac12\left(\lVert D_i\rVert^2 + \mu\right),$$

a spike of neuron $i$ changes the loss by exactly $-2(V_i - T_i)$, so it fires when $V_i \ge T_i$ (at most one
neuron per step: the one with the largest $V_i - T_i$). The quadratic cost $\mu$ acts as spike-triggered adaptation.
"""

from __future__ import annotations

import torch

from snnref.neuron import fire, lif_charge
from snnref.surrogate import SpikeFn, atan_spike


def efficient_coding_potential(x: torch.Tensor, r: torch.Tensor, *, D: torch.Tensor, mu: float) -> torch.Tensor:
    r"""$V = D^\top(x - D r) - \mu r$ for ``x`` [B, K], ``r`` [B, N], decoder ``D`` [K, N]. Paper: koren2022efficient."""
    return (x - r @ D.T) @ D - mu * r


def efficient_coding_step(
    x: torch.Tensor, r: torch.Tensor, *, D: torch.Tensor, mu: float, tau: float, spike_fn: SpikeFn = atan_spike
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""One step: leak the traces, compute $V$, let the neuron with the largest $V_i - T_i \ge 0$ fire; returns ``(s, r)``.

    $r \leftarrow (1 - 1/\tau) r$; $V = D^\top(x - Dr) - \mu r$; $T = \frac12(\lVert D_i\rVert^2 + \mu)$;
    $s = \Theta(V - T)\,[i = \arg\max(V - T)]$; $r \leftarrow r + s$. Paper: koren2022efficient (loss, membrane
    potential and threshold of the efficient spiking network).
    """
    if not mu >= 0:
        raise ValueError(f"mu must be >= 0, got {mu!r}")
    r = lif_charge(torch.zeros_like(r), r, tau=tau)  # leak of the spike trace: r - r / tau
    v = efficient_coding_potential(x, r, D=D, mu=mu)
    v_th = 0.5 * ((D * D).sum(0) + mu)  # [N]
    s = fire(v, v_th=v_th, spike_fn=spike_fn)
    winner = torch.nn.functional.one_hot((v - v_th).argmax(-1), v.shape[-1]).to(s.dtype)
    s = s * winner  # greedy: one spike per step
    return s, r + s
