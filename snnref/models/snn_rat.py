r"""SNN-RAT: regularized adversarial training of SNNs (orthogonal weight retraction + FGSM examples).

Adversarial training feeds the SNN examples crafted against it; SNN-RAT adds a constraint on how much every layer can
amplify a perturbation of its input spikes, by keeping its weight matrix close to orthogonal (Parseval-style). After
each optimiser step every weight $W$ (conv kernels reshaped to rows) is retracted,

$$W \leftarrow (1+\beta)\,W - \beta\,W W^\top W = W - \beta\,\nabla_W \tfrac14\big\|W W^\top - I\big\|_F^2,$$

and the training examples are FGSM adversaries $x' = \mathrm{clip}_{[0,1]}\big(x + \epsilon\,\mathrm{sign}(\nabla_x
\mathcal L)\big)$, whose input gradient may come from BPTT with a surrogate or from the rate approximation (BPTR),
which backpropagates through an IF layer as if it were ReLU-like on its firing rate:
$\partial\mathcal L/\partial x_t = \partial\mathcal L/\partial s_t\cdot[\bar s > 0]$.
Paper: ding2022snnrat (equation numbers not checked); the formulas follow the official code (``utils.py``
``orthogonal_retraction``, ``attack/fgsm``, ``models/layers.py`` ``RateBp``).
"""

from __future__ import annotations

import torch

from snnref.neuron import if_step, multi_step
from snnref.surrogate import heaviside


def orthogonal_retraction(w: torch.Tensor, *, beta: float) -> torch.Tensor:
    r"""$(1+\beta)W - \beta W W^\top W$ for ``w`` [out, ...] flattened to [out, fan_in]; same shape as ``w``."""
    if not beta > 0:
        raise ValueError(f"beta must be > 0, got {beta!r}")
    m = w.reshape(w.shape[0], -1)
    return ((1 + beta) * m - beta * (m @ m.T) @ m).reshape(w.shape)


def fgsm(x: torch.Tensor, grad: torch.Tensor, *, eps: float) -> torch.Tensor:
    r"""FGSM example $\mathrm{clip}_{[0,1]}(x + \epsilon\,\mathrm{sign}(g))$ from the input gradient $g$.

    Differentiable in $x$ (identity inside $[0, 1]$); the official code detaches the result before training on it.
    """
    if not eps >= 0:
        raise ValueError(f"eps must be >= 0, got {eps!r}")
    return torch.clamp(x + eps * grad.sign(), min=0.0, max=1.0)


def rate_bp_if(x_seq: torch.Tensor) -> torch.Tensor:
    r"""IF spikes [T, B, ...] (threshold 1, hard reset to 0) with the BPTR backward $g_t \cdot [\bar s > 0]$."""
    # forward: the ordinary spiking layer (the Heaviside step carries no gradient)
    s, _ = multi_step(step=if_step, x_seq=x_seq, v_th=1.0, v_reset=0.0, spike_fn=heaviside)
    # the rate approximation: the gradient reaches x_t wherever the neuron fired at all in the window
    fired = (s.mean(0, keepdim=True) > 0).to(x_seq.dtype)
    return s + (x_seq - x_seq.detach()) * fired
