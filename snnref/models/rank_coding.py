r"""Rank-coding (RC) training and inference for recurrent networks: read the output at its first threshold crossing.

A recurrent network emits an output vector $y_t \in [0, 1]^K$ at every step (e.g. a softmax or sigmoid readout of an
LSTM). Treating each output unit as a neuron that "spikes" when it crosses the threshold $\theta$,

$$S_{t,k} = \Theta(y_{t,k} - \theta),\qquad t^* = \min\big(\{\,t : \textstyle\max_k S_{t,k} = 1\,\} \cup \{T\}\big),\qquad
\mathcal L = \ell\big(y_{t^*}, c\big),$$

the network's answer is the first unit to spike (rank order, only the first rank is used) and the loss $\ell$
(cross-entropy against the label $c$) is applied at $t^*$ only. $t^*$ itself is not differentiated: the gradient
flows back through time from $y_{t^*}$, so both the forward and the backward pass can stop at $t^*$. Learning then
also rewards answering *early*, because a confident output before $t^*$ moves the crossing forward.
Time is 1-based in the equation and 0-based in the code.
Paper: jeffares2022rankcoding, RC-training (equation numbers not checked); the mechanism follows the official
``Demo.ipynb`` (spikes computed without gradient, the output gathered at the first spike, the last step when no output
spikes). The entropy regulariser weighted by $\beta$ is not implemented.
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from snnref.neuron import fire


def _check_theta(theta: float) -> None:
    if not 0.0 < theta <= 1.0:
        raise ValueError(f"theta must be in (0, 1] (outputs are probabilities), got {theta!r}")


def first_crossing(out_seq: torch.Tensor, *, theta: float) -> tuple[torch.Tensor, torch.Tensor]:
    r"""$t^*$ ([B], 0-based) and whether any unit spiked ([B] bool) for outputs ``out_seq`` [T, B, K]."""
    _check_theta(theta)
    with torch.no_grad():
        # S_{t,k} = Theta(y_{t,k} - theta): the output units fire like neurons with threshold theta
        s = fire(out_seq, v_th=theta).amax(-1)  # [T, B]: did any unit spike at t
        spiked = s.amax(0) > 0
        t_star = s.argmax(0)  # argmax returns the first maximum: the first spike
        # samples that never spike answer at the last step T
        t_star[~spiked] = len(out_seq) - 1
    return t_star, spiked


def rank_coded_readout(out_seq: torch.Tensor, *, theta: float) -> tuple[torch.Tensor, torch.Tensor]:
    r"""$(y_{t^*}, t^*)$: the output [B, K] at each sample's first threshold crossing (differentiable in $y$)."""
    t_star, _ = first_crossing(out_seq, theta=theta)
    return out_seq[t_star, torch.arange(len(t_star))], t_star


def rank_coded_run(
    step: Callable[[torch.Tensor, Any], tuple[torch.Tensor, Any]], x_seq: torch.Tensor, state: Any, *, theta: float
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Run ``step(x_t, state) -> (y_t, state)`` only until every sample has spiked; returns (y_star, t_star, steps run)."""
    _check_theta(theta)
    outs: list[torch.Tensor] = []
    for x in x_seq:
        y, state = step(x, state)
        outs.append(y)
        _, spiked = first_crossing(torch.stack(outs), theta=theta)
        # every sample has its answer: the rest of the sequence is never computed
        if bool(spiked.all()):
            break
    y_star, t_star = rank_coded_readout(torch.stack(outs), theta=theta)
    return y_star, t_star, len(outs)
