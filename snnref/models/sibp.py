r"""Interval bound propagation through spiking layers (S-IBP), the bound used for certified training of SNNs.

For inputs in a box $[\underline x, \overline x]$ every quantity gets a lower and an upper bound. A linear layer maps a box
with centre $c$ and radius $r$ to centre $Wc + b$ and radius $|W|r$. The LIF neuron $H_t = \lambda V_{t-1} + X_t$
($\lambda = 1 - 1/\tau \ge 0$), $S_t = \Theta(H_t - V_{th})$, $V_t = H_t(1 - S_t)$ is monotone in its charge, so

$$\underline H_t = \lambda\underline V_{t-1} + \underline X_t,\quad \overline H_t = \lambda\overline V_{t-1} + \overline X_t,\quad
\underline S_t = \Theta(\underline H_t - V_{th}),\quad \overline S_t = \Theta(\overline H_t - V_{th}),$$

and the reset gives $V_t = 0$ where the neuron surely fires, $V_t \in [\underline H_t, \overline H_t]$ where it surely does not, and
$V_t \in [\min(\underline H_t, 0), V_{th}]$ where it may or may not fire.
Paper: liang2022sibp, S-IBP (the fire function and the temporal membrane update; written from the paper's
description, not its equations, which could not be read).
"""

from __future__ import annotations

import torch

from snnref.neuron import fire, lif_charge
from snnref.surrogate import heaviside


def ibp_linear(lo: torch.Tensor, hi: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None = None
               ) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Bounds of $xW + b$ for $x \in [lo, hi]$: centre $cW + b$, radius $r|W|$."""
    c, r = (hi + lo) / 2, (hi - lo) / 2
    out_c = c @ w if b is None else c @ w + b
    out_r = r @ w.abs()
    return out_c - out_r, out_c + out_r


def ibp_lif(x_lo: torch.Tensor, x_hi: torch.Tensor, *, tau: float, v_th: float = 1.0
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Spike and membrane bounds ``(s_lo, s_hi, v_lo, v_hi)`` [T, ...] of an LIF layer (hard reset to 0) for inputs in a box."""
    if not tau >= 1:
        raise ValueError(f"tau must be >= 1 so that the leak factor 1 - 1/tau is non-negative, got {tau!r}")
    v_lo, v_hi = torch.zeros_like(x_lo[0]), torch.zeros_like(x_hi[0])
    out = []
    for xl, xh in zip(x_lo, x_hi):
        h_lo = lif_charge(xl, v_lo, tau=tau, decay_input=False)
        h_hi = lif_charge(xh, v_hi, tau=tau, decay_input=False)
        s_lo, s_hi = fire(h_lo, v_th=v_th, spike_fn=heaviside), fire(h_hi, v_th=v_th, spike_fn=heaviside)
        unstable = s_hi - s_lo  # 1 where the neuron may or may not fire
        v_lo = torch.where(unstable > 0, torch.clamp(h_lo, max=0.0), h_lo * (1 - s_lo))
        # unstable means h_hi >= v_th: not firing leaves V < v_th, firing resets it to 0
        v_hi = torch.where(unstable > 0, torch.full_like(h_hi, v_th), h_hi * (1 - s_hi))
        out.append((s_lo, s_hi, v_lo, v_hi))
    return tuple(torch.stack(z) for z in zip(*out))  # type: ignore[return-value]
