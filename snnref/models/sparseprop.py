r"""SparseProp: exact event-based simulation of a sparse LIF network in O(log N) per spike.

Between spikes, $\tau \dot V = -V + I$ with $I > \theta$. In the phase $\phi = \ln\frac{I}{I - V}$ the dynamics are
linear, $\dot\phi = \omega = 1/\tau$; a neuron fires at $\phi_{th} = \ln\frac{I}{I - \theta}$ and resets to $\phi = 0$
($V = 0$). An input spike of weight $J$ moves the phase along the phase transition curve

$$g(\phi) = -\ln\Big(e^{-\phi} - \frac{J}{I}\Big) \qquad (V \mapsto V + J).$$

SparseProp never advances all $N$ phases: it stores $\psi_i = \phi_i - \omega t$, which is constant between the
neuron's own events, keeps the $\psi$ in a priority queue (next spiker = largest $\psi$, at
$t_s = (\phi_{th} - \psi_{\max})/\omega$), and updates only the spiking neuron and its $K$ targets.
Paper: engelken2023sparseprop, Eq. (12) (the LIF phase transition curve, as cited in the official
``LIF_SparseProp.jl``, which normalises the phase so that $\phi_{th} = 1$) and Fig. 1 (change of reference frame).
"""

from __future__ import annotations

import heapq
import math

import torch


def lif_phase(v: torch.Tensor, *, I: float) -> torch.Tensor:
    r"""Phase $\phi = \ln\frac{I}{I - V}$ of a membrane potential (time to reach $V$ from 0, in units of $\tau$)."""
    return torch.log(I / (I - v))


def lif_potential(phi: torch.Tensor, *, I: float) -> torch.Tensor:
    r"""Membrane potential $V = I(1 - e^{-\phi})$ of a phase."""
    return I * (1 - torch.exp(-phi))


def lif_ptc(phi: torch.Tensor, J: float | torch.Tensor, *, I: float) -> torch.Tensor:
    r"""Phase transition curve $g(\phi) = -\ln(e^{-\phi} - J/I)$: the phase after an input of weight $J$."""
    return -torch.log(torch.exp(-phi) - J / I)


def sparseprop_simulate(
    targets: list[list[int]], J: float, v0: torch.Tensor, t_end: float, *, I: float, theta: float = 1.0,
    tau: float = 1.0, max_spikes: int | None = None,
) -> list[tuple[float, int]]:
    """Exact spike times ``[(t, neuron)]`` up to ``t_end`` of an LIF network; ``targets[i]`` lists i's postsynaptic cells.

    ``max_spikes`` stops the run after that many spikes (a guard against runaway activity); ``None``: no limit.
    """
    if not I > theta:
        raise ValueError(f"I must exceed theta (tonic firing), got I={I!r}, theta={theta!r}")
    if not J < I - theta:
        raise ValueError(f"J must stay below I - theta so that V + J < I, got J={J!r}")
    if not tau > 0:
        raise ValueError(f"tau must be > 0, got {tau!r}")
    omega, phi_th = 1.0 / tau, math.log(I / (I - theta))
    psi = lif_phase(v0.to(torch.float64), I=I).tolist()  # psi_i = phi_i - omega * t, at t = 0
    heap = [(-p, i) for i, p in enumerate(psi)]
    heapq.heapify(heap)
    t, spikes = 0.0, []
    while heap:
        neg, i = heapq.heappop(heap)
        if -neg != psi[i]:
            continue  # stale entry: neuron i was updated after this was pushed
        t = max(t, (phi_th + neg) / omega)  # an input may already have pushed i past threshold
        if t > t_end or (max_spikes is not None and len(spikes) >= max_spikes):
            break
        spikes.append((t, i))
        psi[i] = -omega * t  # reset: phi = 0
        heapq.heappush(heap, (-psi[i], i))
        for k in targets[i]:
            phi_k = lif_ptc(torch.tensor(psi[k] + omega * t, dtype=torch.float64), J, I=I).item()
            psi[k] = phi_k - omega * t
            heapq.heappush(heap, (-psi[k], k))
    return spikes
