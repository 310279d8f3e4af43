r"""Pair-based spike-timing-dependent plasticity (STDP), the unsupervised rule the review by Tavanaei et al. centres on.

A pair of spikes (presynaptic at $t_{pre}$, postsynaptic at $t_{post}$) changes the weight by

$$\Delta W = \begin{cases} A\,e^{-|t_{pre} - t_{post}|/\tau} & t_{pre} - t_{post} \le 0 \\
-B\,e^{-|t_{pre} - t_{post}|/\tau} & t_{pre} - t_{post} > 0 \end{cases}$$

(potentiation when the presynaptic spike comes first or together, depression otherwise), summed over all pairs.
:func:`stdp_step` computes the same sum online with two exponentially decaying spike traces, the form used in
simulations; :func:`stdp_pairs` sums the window over all pairs of two spike trains at once.

Paper: tavanaei2019deep, the STDP rule of its section on learning rules (equation confirmed against standard
renderings of pair-based STDP; see the note).
"""

from __future__ import annotations

import math

import torch

from snnref.neuron import multi_step


def stdp_window(dt: torch.Tensor, *, a: float, b: float, tau: float) -> torch.Tensor:
    r"""$\Delta W(\Delta t)$ for $\Delta t = t_{pre} - t_{post}$: $A e^{-|\Delta t|/\tau}$ if $\Delta t \le 0$, else $-B e^{-|\Delta t|/\tau}$."""
    decay = torch.exp(-dt.abs() / tau)
    return torch.where(dt <= 0, a * decay, -b * decay)


def stdp_pairs(pre: torch.Tensor, post: torch.Tensor, *, a: float, b: float, tau: float) -> torch.Tensor:
    r"""$\Delta W_{ij} = \sum_{t, t'} S^{post}_{t,i}\,S^{pre}_{t',j}\,\Delta W(t' - t)$ for spike trains [T, N_pre], [T, N_post]."""
    steps = torch.arange(len(pre), dtype=pre.dtype)
    t_post, t_pre = torch.meshgrid(steps, steps, indexing="ij")  # [T, T]
    window = stdp_window(t_pre - t_post, a=a, b=b, tau=tau)
    return post.T @ window @ pre  # [N_post, N_pre]


def stdp_step(
    spikes: tuple[torch.Tensor, torch.Tensor],
    state: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    *,
    a: float,
    b: float,
    tau: float,
) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    r"""One online step on ``(pre_t, post_t)`` with state (pre trace, post trace, accumulated $\Delta W$).

    $x^{pre}_t = e^{-1/\tau}x^{pre}_{t-1} + S^{pre}_t$; potentiation $A\,S^{post}_t \otimes x^{pre}_t$ (earlier and
    simultaneous presynaptic spikes); depression $-B\,e^{-1/\tau}x^{post}_{t-1} \otimes S^{pre}_t$ (strictly
    earlier postsynaptic spikes); $x^{post}_t = e^{-1/\tau}x^{post}_{t-1} + S^{post}_t$. Returns ``(dW_t, state)``.
    """
    pre, post = spikes
    x_pre, x_post, dw = state
    d = math.exp(-1 / tau)
    x_pre = d * x_pre + pre
    dw_t = a * torch.outer(post, x_pre) - b * torch.outer(d * x_post, pre)
    x_post = d * x_post + post
    return dw_t, (x_pre, x_post, dw + dw_t)


def stdp_online(pre: torch.Tensor, post: torch.Tensor, *, a: float, b: float, tau: float) -> torch.Tensor:
    """Total $\\Delta W$ [N_post, N_pre] of spike trains [T, N_pre], [T, N_post], computed online with :func:`stdp_step`."""
    # empty traces, one per neuron (shaped like one time step), and no weight change yet
    state = (torch.zeros_like(pre[0]), torch.zeros_like(post[0]), torch.zeros((), dtype=pre.dtype))
    _, states = multi_step(stdp_step, list(zip(pre, post)), state, a=a, b=b, tau=tau)
    return states[-1][2]
