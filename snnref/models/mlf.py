r"""Multi-level firing (MLF): $K$ LIF neurons with staggered thresholds share one input; the unit emits their spike sum.

Level $k$ charges $H^k_t = \lambda U^k_{t-1} + X_t$ (decay factor $\lambda$), fires $S^k_t = \Theta(H^k_t - V^k_{th})$ and
resets hard, $U^k_t = H^k_t(1 - S^k_t)$; the unit outputs $O_t = \sum_k S^k_t$. With thresholds spaced by the width $a$ of
the rectangular surrogate, $V^k_{th} = V_{th} + (k-1)a$, the surrogate windows tile $[V_{th} - a/2, V_{th} + (K-\frac12)a)$,
so the gradient does not vanish for large membrane potentials. The official code fires on $H > V_{th}$; the core's
$H \ge V_{th}$ differs only at exact equality.

Paper: feng2022mlf.
"""

from __future__ import annotations

from functools import partial

import torch

from snnref.neuron import fire, lif_charge, reset
from snnref.surrogate import rectangular_spike


def mlf_step(
    x: torch.Tensor, u: tuple[torch.Tensor, ...], *, v_ths: tuple[float, ...], decay: float, a: float
) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
    r"""One MLF step over the $K$ levels; returns ``(O_t, (U^1_t, ..., U^K_t))`` with $O_t = \sum_k S^k_t$."""
    out, new_u = torch.zeros_like(x), []
    for v_th, u_k in zip(v_ths, u):
        h = lif_charge(x, u_k, tau=1.0 / (1.0 - decay), decay_input=False)  # H = decay * U + X
        s = fire(h, v_th=v_th, spike_fn=partial(rectangular_spike, alpha=a))
        out = out + s
        new_u.append(reset(h, s, v_th=v_th, v_reset=0.0))
    return out, tuple(new_u)


def mlf(x_seq: torch.Tensor, *, v_th: float = 0.6, levels: int = 3, decay: float = 0.25, a: float = 1.0) -> torch.Tensor:
    r"""MLF unit over [T, B, ...] with thresholds $V_{th} + (k-1)a$, $k = 1..K$; returns $O$ [T, B, ...] in $\{0..K\}$.

    Paper: feng2022mlf (MLF unit).
    """
    if levels < 1:
        raise ValueError(f"levels must be >= 1, got {levels!r}")
    if not 0 <= decay < 1:
        raise ValueError(f"decay must be in [0, 1), got {decay!r}")
    v_ths = tuple(v_th + k * a for k in range(levels))
    u = tuple(torch.zeros_like(x_seq[0]) for _ in range(levels))
    outs = []
    for x in x_seq:
        o, u = mlf_step(x, u, v_ths=v_ths, decay=decay, a=a)
        outs.append(o)
    return torch.stack(outs)
