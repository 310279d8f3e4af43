r"""A fast multi-step LIF/IF layer: the same neuron as :func:`snnref.neuron.lif_step`, with a hand-written
backward through time.

The readable loop (:func:`snnref.neuron.multi_step` over :func:`snnref.neuron.lif_step`) builds one autograd node per
elementwise operation per time step. Here the forward pass runs without a graph and keeps only $H_t$ and $S_t$;
the backward pass runs the one recurrence that is left, from the last step to the first:

$$\frac{\partial L}{\partial H_t} = \frac{\partial L}{\partial S_t}\,\sigma'(H_t - V_{th})
  + \frac{\partial L}{\partial V_t}\,\frac{\partial V_t}{\partial H_t},\qquad
  \frac{\partial L}{\partial V_{t-1}} = \left(1 - \tfrac{1}{\tau}\right)\frac{\partial L}{\partial H_t},\qquad
  \frac{\partial L}{\partial X_t} = c\,\frac{\partial L}{\partial H_t},$$

with $\partial V_t/\partial H_t = (1 - S_t) + (V_{reset} - H_t)\,\sigma'_t$ for the hard reset,
$1 - V_{th}\,\sigma'_t$ for the soft reset, and $c = 1/\tau$ (``decay_input``) or 1. IF is the case $\tau = \infty$
without input decay. Tested against the readable loop: identical spikes, input gradients within 1e-6.
"""

from __future__ import annotations

import math

import torch

from snnref.surrogate import SURROGATES


class _LIFSequence(torch.autograd.Function):
    # Both passes go step by step on [B, ...] slices: a slice stays in cache, where whole-sequence temporaries of
    # large layers would not, and no autograd node is created per operation.
    @staticmethod
    def forward(ctx, x_seq, tau, v_th, v_reset, decay_input, surrogate, alpha):  # type: ignore[override]
        keep = 1.0 - 1.0 / tau  # leak factor (1 for IF)
        gain = 1.0 / tau if decay_input else 1.0
        drift = (0.0 if v_reset is None else v_reset) * (1.0 - keep)  # the leak towards the resting potential
        h_seq = torch.empty_like(x_seq)
        fired = torch.empty(x_seq.shape, dtype=torch.bool)
        v = torch.zeros_like(x_seq[0])
        for t in range(x_seq.shape[0]):
            h = torch.add(v.mul_(keep), x_seq[t], alpha=gain, out=h_seq[t])  # charge
            if drift:
                h.add_(drift)
            s = torch.ge(h, v_th, out=fired[t])  # fire
            if v_reset is None:  # reset
                torch.sub(h, s.to(h.dtype), alpha=v_th, out=v)
            else:
                v.copy_(h).masked_fill_(s, v_reset)
        ctx.save_for_backward(h_seq, fired)
        ctx.params = (keep, gain, v_th, v_reset, surrogate, alpha)
        return fired.to(x_seq.dtype)

    @staticmethod
    def backward(ctx, grad_s):  # type: ignore[override]
        h_seq, fired = ctx.saved_tensors
        keep, gain, v_th, v_reset, surrogate, alpha = ctx.params
        surrogate_grad = SURROGATES[surrogate][1]
        grad_h = torch.empty_like(h_seq)
        last = h_seq.shape[0] - 1
        # Small sequences: the per-step terms for all steps at once (fewer op dispatches). Large ones: step by step,
        # so that each slice's temporaries stay in cache.
        whole = h_seq.numel() <= _WHOLE_SEQUENCE_LIMIT
        if whole:
            sg_all = surrogate_grad(h_seq - v_th, alpha)
            dv_all = 1.0 - v_th * sg_all if v_reset is None else (v_reset - h_seq).mul_(sg_all).add_(~fired)
        dv_dh = None if whole else torch.empty_like(h_seq[0])
        sg_buf = None if whole else torch.empty_like(h_seq[0])
        for t in range(last, -1, -1):
            if whole:
                sg = sg_all[t]
            elif surrogate == "atan":  # surrogate.atan_grad, (alpha/2) / (1 + (pi/2 alpha x)^2), in one reused buffer
                sg = torch.sub(h_seq[t], v_th, out=sg_buf).mul_(0.5 * math.pi * alpha).square_().add_(1.0)
                sg = sg.reciprocal_().mul_(0.5 * alpha)
            else:
                sg = surrogate_grad(h_seq[t] - v_th, alpha)  # sigma'_t
            g = torch.mul(grad_s[t], sg, out=grad_h[t])  # through this step's own spike
            if t < last:  # dL/dV_T = 0: the final potential is not an output
                if whole:
                    dv_dh = dv_all[t]
                elif v_reset is None:
                    torch.mul(sg, -v_th, out=dv_dh).add_(1.0)
                else:
                    torch.sub(v_reset, h_seq[t], out=dv_dh).mul_(sg).add_(fired[t].logical_not())
                g.addcmul_(dv_dh, grad_h[t + 1], value=keep)  # + dV_t/dH_t * dH_{t+1}/dV_t * dL/dH_{t+1}
        return grad_h.mul_(gain), None, None, None, None, None, None


#: Below this many elements the backward pass computes its per-step terms for the whole sequence at once.
_WHOLE_SEQUENCE_LIMIT = 1 << 20


def lif_multi_step(
    x_seq: torch.Tensor,
    *,
    tau: float = 2.0,
    v_th: float = 1.0,
    v_reset: float | None = 0.0,
    decay_input: bool = True,
    surrogate: str = "atan",
    alpha: float = 2.0,
) -> torch.Tensor:
    """Spikes [T, B, ...] of an LIF layer from V_0 = 0 (``tau=math.inf, decay_input=False`` gives IF)."""
    if not tau >= 1:
        raise ValueError(f"tau must be >= 1, got {tau!r}")
    if surrogate not in SURROGATES:
        raise ValueError(f"surrogate must be one of {sorted(SURROGATES)}, got {surrogate!r}")
    if math.isinf(tau) and decay_input:
        raise ValueError("tau=inf (IF) needs decay_input=False: the input would be scaled by 1/tau = 0")
    return _LIFSequence.apply(x_seq, tau, v_th, v_reset, decay_input, surrogate, alpha)
