r"""DASBE: binding by spike timing, with a reconstructive (denoising auto-encoder) attention as feedback.

Every pixel $i$ of a binary image $x$ is a spiking neuron. Within a cycle of $\tau_d$ steps (the cortical delay) its
potential is its input gated by the attention that the ANN fed back for the same phase one cycle earlier, plus
uniform noise; it fires above threshold unless refractory (a counter $f$ set to $R$ by a spike, $R$ silent steps):

$$u_i(t) = x_i\,a_i(t - \tau_d) + \xi_i(t),\ \ \xi \sim U[0, 1),\qquad
s_i(t) = \Theta\big(u_i(t) - V_{th}\big)\,[f_i(t) < 0].$$

A coincidence detector merges the last three steps, $c_i(t) = [s_i(t) + s_i(t-1) + s_i(t-2) > 0]$, and the denoising
auto-encoder, trained on single objects, turns it into the next attention map, $a(t) = \mathrm{Dec}(\mathrm{Enc}(c(t)))$.
With $V_{th} = 1$, a pixel fires with probability $\min(x_i a_i, 1)$: the attention is a firing probability, and
iterating the loop pushes the pixels of one object to fire together at phases where the others are silent.
Paper: zheng2022dasbe (equation numbers not checked); the dynamics follow the official
``clustering_dynamics_for_static_dataset.py``.
"""

from __future__ import annotations

from typing import Callable

import torch

from snnref.neuron import fire


def dasbe_fire(
    x: torch.Tensor, *, a: torch.Tensor, noise: torch.Tensor, f: torch.Tensor, v_th: float, refractory: int
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""One step: spikes $s = \Theta(x a + \xi - V_{th})[f - 1 < 0]$ and the refractory counter after it."""
    f = f - 1
    # charge: the input gated by the fed-back attention, plus uniform noise; fire unless refractory
    s = fire(x * a + noise, v_th=v_th) * (f < 0).to(x.dtype)
    # a spike sets the counter to R: the neuron stays silent for the next R steps
    return s, f + s * (refractory - f)


def coincidence(s: torch.Tensor, *, s_prev: torch.Tensor, s_prev2: torch.Tensor) -> torch.Tensor:
    r"""Coincidence detector $c = [s_t + s_{t-1} + s_{t-2} > 0]$: the input the auto-encoder sees."""
    return (s + s_prev + s_prev2 > 0).to(s.dtype)


def dasbe_cycle(
    x: torch.Tensor,
    context: torch.Tensor,
    noise: torch.Tensor,
    state: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    decoder: Callable[[torch.Tensor], torch.Tensor],
    *,
    v_th: float = 1.0,
    refractory: int = 9,
) -> tuple[torch.Tensor, torch.Tensor, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    r"""One cortical cycle of $\tau_d$ = ``len(context)`` steps: spikes and the attention fed back for the next cycle.

    ``context`` and ``noise`` are [tau_d, ...] (one attention map per phase); ``state`` = (f, s_{t-1}, s_{t-2}).
    """
    if refractory < 0:
        raise ValueError(f"refractory must be >= 0, got {refractory!r}")
    f, s1, s2 = state
    spikes, new_context = [], []
    for t in range(len(context)):
        s, f = dasbe_fire(x, a=context[t], noise=noise[t], f=f, v_th=v_th, refractory=refractory)
        new_context.append(decoder(coincidence(s, s_prev=s1, s_prev2=s2)))
        spikes.append(s)
        s1, s2 = s, s1
    return torch.stack(spikes), torch.stack(new_context), (f, s1, s2)
