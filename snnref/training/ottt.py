r"""OTTT: online training through time with presynaptic eligibility traces (Xiao et al., NeurIPS 2022).

Neurons are LIF with soft reset, $u^t = \lambda(u^{t-1} - V_{th}s^{t-1}) + W x^t$, $\lambda = 1 - 1/\tau$, and the
gradient is never carried back through time: the potential and the reset are detached at every step. Instead each
presynaptic input keeps a trace $\hat a^t = \lambda \hat a^{t-1} + x^t$, and the weight gradient is accumulated
online from the instantaneous error at each step:

$$\nabla_W L = \sum_t \left(\frac{\partial L^t}{\partial u^t}\right)^{\!\top} \hat a^t .$$

For one layer this equals backpropagation through time with the reset detached, at $O(1)$ memory in $T$.
Paper: xiao2022ottt, OTTT gradients.
"""

from __future__ import annotations

import torch

from snnref.neuron import lif_step
from snnref.surrogate import SpikeFn


def presynaptic_trace(a_hat: torch.Tensor, x: torch.Tensor, *, tau: float) -> torch.Tensor:
    r"""$\hat a^t = (1 - 1/\tau)\,\hat a^{t-1} + x^t$."""
    return (1 - 1 / tau) * a_hat + x


def ottt_step(
    x: torch.Tensor, v: torch.Tensor, *, tau: float, v_th: float, spike_fn: SpikeFn
) -> tuple[torch.Tensor, torch.Tensor]:
    """One online LIF step: soft reset, reset and carried potential detached (no gradient through time)."""
    return lif_step(x, v.detach(), tau=tau, v_th=v_th, v_reset=None, decay_input=False, spike_fn=spike_fn,
                    detach_reset=True)


class _TraceLinear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, a_hat: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(a_hat, weight)
        return x @ weight.T

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):  # type: ignore[override]
        a_hat, weight = ctx.saved_tensors
        # the weight sees the presynaptic trace instead of the instantaneous input
        return grad_out @ weight, None, grad_out.T @ a_hat


def ottt_linear(x: torch.Tensor, a_hat: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    r"""$W x^t$ forward; backward gives $\partial L/\partial W = g^\top \hat a^t$ (and $g W$ for the input)."""
    return _TraceLinear.apply(x, a_hat, weight)
