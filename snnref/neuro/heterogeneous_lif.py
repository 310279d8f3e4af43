r"""Heterogeneous LIF reservoirs and their memory capacity (Chakraborty & Mukhopadhyay 2023).

Each neuron $i$ has its own integration time constant $\tau_i$ (the core LIF step accepts a tensor $\tau$).
Memory capacity (Jaeger) measures how many past inputs a linear readout of the states can recover:

$$\mathrm{MC} = \sum_{k \ge 1} r^2\!\left(u_{t-k},\ \hat u_{t-k}\right),\qquad \hat u_{t-k} = w_k^\top x_t\ \text{(least squares)}.$$

The paper argues that diversity in the $\tau_i$ raises memory capacity; with identical $\tau$ the neurons of a
reservoir driven by one input carry the same trace and MC collapses.
"""

from __future__ import annotations

import torch

from snnref.neuron import lif_step, multi_step


def sample_time_constants(n: int, *, mean: float, cv: float, generator: torch.Generator | None = None) -> torch.Tensor:
    r"""$\tau_i \sim \mathrm{Gamma}$ with the given mean and coefficient of variation, shifted to keep $\tau_i \ge 1$."""
    if not mean > 1:
        raise ValueError(f"mean must be > 1 (steps), got {mean!r}")
    if cv == 0:
        return torch.full((n,), float(mean))
    k = 1 / cv**2  # shape; the scale sets the mean of the part above 1
    g = torch._standard_gamma(torch.full((n,), k, dtype=torch.float64), generator=generator)
    return 1 + g * (mean - 1) / k


def reservoir_states(u: torch.Tensor, w_in: torch.Tensor, tau: torch.Tensor, *, v_th: float) -> torch.Tensor:
    """Membrane states [T, N] of heterogeneous LIF neurons driven by ``u`` [T] through ``w_in`` [N]."""
    x_seq = u[:, None, None] * w_in  # [T, 1, N]
    _, states = multi_step(lif_step, x_seq, tau=tau, v_th=v_th)
    return torch.stack(states)[:, 0]


def memory_capacity(states: torch.Tensor, u: torch.Tensor, *, max_delay: int, washout: int) -> torch.Tensor:
    r"""$\sum_{k=1}^{K} r^2(u_{t-k}, \hat u_{t-k})$ with least-squares readouts from ``states`` [T, N]. Paper: chakraborty2023heterogeneous."""
    if not washout >= max_delay:
        raise ValueError(f"washout must be >= max_delay, got washout={washout!r}, max_delay={max_delay!r}")
    x = states[washout:]
    x = torch.cat([x, torch.ones(x.shape[0], 1, dtype=x.dtype)], 1)  # bias column
    total = torch.zeros((), dtype=states.dtype)
    for k in range(1, max_delay + 1):
        target = u.roll(k)[washout:]  # u_{t-k} for t >= washout (no wrap-around since washout >= k)
        pred = x @ torch.linalg.lstsq(x, target.unsqueeze(1)).solution[:, 0]
        total = total + torch.corrcoef(torch.stack([pred, target]))[0, 1] ** 2
    return total
