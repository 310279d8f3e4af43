r"""DSR: differentiation on spike representation for IF neurons (forward: spikes; backward: their rate map).

Forward, an IF neuron with reset by subtraction emits spikes of height $V_{th}$ when $V \ge \alpha V_{th}$.
Its spike representation, the average output $r = \frac{1}{T}\sum_t o_t$, is close to a clipped average input,

$$
r \approx \operatorname{clamp}\Big(\frac{1}{T}\sum_{t=1}^{T} x_t,\ 0,\ V_{th}\Big),
$$

and DSR backpropagates through this map instead of through the spikes: every $x_t$ receives
$\frac{1}{T}\sum_s \partial L/\partial o_s$ where $0 \le \bar x \le V_{th}$ (else 0), and $V_{th}$ receives
$\sum \partial L/\partial o$ over the neurons with $\bar x > V_{th}$. With $\alpha = \frac{1}{2}$ and inputs in
$[0, V_{th}]$ the representation error is at most $V_{th}/(2T)$.

Paper: meng2022dsr (spike representation of IF neurons and its gradient); official code
``cifar/modules/neuron.py`` (``IFFunction``, $\alpha = 0.5$).
"""

from __future__ import annotations

import torch

from snnref.neuron import fire, if_charge, reset
from snnref.surrogate import heaviside


class _DSRIF(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x_seq: torch.Tensor, v_th: torch.Tensor, alpha: float) -> torch.Tensor:  # type: ignore[override]
        v = torch.zeros_like(x_seq[0])
        out = []
        for x in x_seq:
            h = if_charge(x, v)
            s = fire(h, v_th=alpha * v_th, spike_fn=heaviside)
            # spike height V_th, subtracted from the potential
            v = reset(h, s, v_th=v_th, v_reset=None)
            out.append(s * v_th)
        ctx.save_for_backward(x_seq, v_th)
        return torch.stack(out)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):  # type: ignore[override]
        x_seq, v_th = ctx.saved_tensors
        T = x_seq.shape[0]
        x_bar = x_seq.mean(0)
        g_sum = grad_out.sum(0)
        # d clamp(x_bar, 0, V_th) / d x_bar, spread evenly over the T inputs
        inside = (x_bar >= 0) & (x_bar <= v_th)
        grad_x = (g_sum * inside.to(g_sum.dtype) / T).expand_as(x_seq)
        grad_v_th = (g_sum * (x_bar > v_th).to(g_sum.dtype)).sum().reshape(v_th.shape)
        return grad_x, grad_v_th, None


def dsr_if(x_seq: torch.Tensor, *, v_th: float | torch.Tensor = 1.0, alpha: float = 0.5) -> torch.Tensor:
    """IF spikes (height ``v_th``) over ``x_seq`` [T, B, ...]; gradients from the spike representation."""
    if not 0 < alpha <= 1:
        raise ValueError(f"alpha must be in (0, 1], got {alpha!r}")
    v_th_t = torch.as_tensor(v_th, dtype=x_seq.dtype)
    return _DSRIF.apply(x_seq, v_th_t, alpha)
