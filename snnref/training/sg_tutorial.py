r"""The current-based LIF network of the surrogate-gradient tutorial, written as a recurrent cell.

$$
I[n+1] = \alpha I[n] + W x[n], \qquad
U[n+1] = \beta U[n] + I[n] - \vartheta S[n], \qquad
S[n] = \Theta(U[n] - \vartheta)
$$

with $\alpha = e^{-\Delta t/\tau_{syn}}$, $\beta = e^{-\Delta t/\tau_{mem}}$ (the tutorial takes $\vartheta = 1$). Unrolled in
time this is an RNN, so BPTT applies once $\Theta'$ is replaced by a surrogate derivative. Here the synaptic
current is the core's non-decaying-input leaky charge with leak factor $\alpha$ (i.e. $\tau = 1/(1-\alpha)$), the
membrane likewise with $\beta$; the spike of step $n$ is decided on $U[n]$ and subtracted after the leak.

Paper: neftci2019surrogate (the discrete-time LIF dynamics and BPTT with a surrogate gradient).
"""

from __future__ import annotations

import torch

from snnref.neuron import fire, lif_charge, multi_step, reset
from snnref.surrogate import SpikeFn, fast_sigmoid_spike


def cuba_lif_step(
    x: torch.Tensor,
    state: tuple[torch.Tensor, torch.Tensor],
    *,
    alpha: float,
    beta: float,
    v_th: float = 1.0,
    spike_fn: SpikeFn = fast_sigmoid_spike,
    detach_reset: bool = False,
) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    r"""One step; ``x`` is the weighted input $Wx[n]$, ``state = (I[n], U[n])``; returns $(S[n], (I[n+1], U[n+1]))$."""
    i, u = state
    s = fire(u, v_th=v_th, spike_fn=spike_fn)
    # leak factor 1 - 1/tau = alpha (synapse) or beta (membrane)
    i_next = lif_charge(x, i, tau=1 / (1 - alpha), decay_input=False)
    h = lif_charge(i, u, tau=1 / (1 - beta), decay_input=False)
    u_next = reset(h, s, v_th=v_th, v_reset=None, detach_reset=detach_reset)
    return s, (i_next, u_next)


def cuba_lif_run(
    x_seq: torch.Tensor, *, alpha: float, beta: float, v_th: float = 1.0,
    spike_fn: SpikeFn = fast_sigmoid_spike, detach_reset: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run over ``x_seq`` [T, B, N] from zero state; returns spikes and membrane potentials $U[n]$, both [T, B, N]."""
    if not (0 <= alpha < 1 and 0 <= beta < 1):
        raise ValueError(f"alpha and beta must lie in [0, 1), got alpha={alpha!r}, beta={beta!r}")
    zero = torch.zeros_like(x_seq[0])
    spikes, states = multi_step(cuba_lif_step, x_seq, (zero, zero), alpha=alpha, beta=beta, v_th=v_th,
                                spike_fn=spike_fn, detach_reset=detach_reset)
    # states[n] = (I[n+1], U[n+1]); the potential each spike was decided on is the one before the step
    potentials = torch.stack([zero] + [u for _, u in states[:-1]])
    return spikes, potentials
