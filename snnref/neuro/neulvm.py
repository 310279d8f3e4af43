r"""Mesoscopic population of hidden escape-noise neurons and the likelihood of an observed neuron (Wang et al. 2022).

neuLVM replaces a large pool of unobserved spiking neurons by the activity $A_t$ of a homogeneous population.
Each neuron is a discrete-time spike-response neuron with escape noise: its potential is a shared input
potential $h_t$ plus a refractory kernel $\eta(a)$ of its age $a$ (steps since its last spike), and it fires with

$$P_t(a) = 1 - \exp\!\big(-\Delta t\, c\, e^{(h_t + \eta(a) - \vartheta)/\Delta_u}\big).$$

The population is tracked by its age density $q_t(a)$ (fraction of neurons of age $a$; the last bin holds all
older neurons), which obeys the discrete refractory-density (renewal) equation

$$\bar A_t = \sum_a q_t(a) P_t(a),\qquad q_{t+1}(0) = \bar A_t,\qquad q_{t+1}(a+1) = q_t(a)\big(1 - P_t(a)\big),$$

while $h_t$ integrates the external input and the recurrent drive $J\,A_{t-1}$ with the LIF charge of the core.
An observed neuron driven by the same $h_t$ has the Bernoulli log-likelihood
$\log p(s \mid A) = \sum_t s_t\log P_t(a_t) + (1 - s_t)\log(1 - P_t(a_t))$, the term neuLVM maximises.
Tensors are time-first ``[T, B]``; ages are the last axis of ``q`` ``[B, K]``.
"""

from __future__ import annotations

import torch

from snnref.neuron import lif_charge


def escape_probability(u: torch.Tensor, *, c: float, theta: float | torch.Tensor, delta_u: float,
                       dt: float) -> torch.Tensor:
    r"""$P = 1 - \exp(-\Delta t\,c\,e^{(u - \vartheta)/\Delta_u})$: spike probability in one step of length $\Delta t$.

    Paper: wang2022neulvm (exponential escape rate of the spike-response neurons).
    """
    return -torch.expm1(-dt * c * torch.exp((u - theta) / delta_u))


def population_step(
    x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor], *, eta: torch.Tensor, J: float, tau: float, c: float,
    theta: float, delta_u: float, dt: float,
) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    r"""One step of the mean-field population; state ``(q, h)`` with ``q`` [B, K], ``h`` [B]; returns ``(A_bar, state)``.

    $h_t = h_{t-1} + \frac{1}{\tau}(x_t + J A_{t-1} - h_{t-1})$ with $A_{t-1} = q_t(0)$;
    $\bar A_t = \sum_a q_t(a) P_t(a)$; $q_{t+1}(0) = \bar A_t$, $q_{t+1}(a+1) = q_t(a)(1 - P_t(a))$, the last
    age bin keeping its own survivors. Paper: wang2022neulvm (mesoscopic population of hidden neurons).
    """
    q, h = state
    h = lif_charge(x + J * q[..., 0], h, tau=tau)
    p = escape_probability(h.unsqueeze(-1) + eta, c=c, theta=theta, delta_u=delta_u, dt=dt)  # [B, K]
    a_bar = (q * p).sum(-1)
    survive = q * (1 - p)
    q_next = torch.cat([a_bar[..., None], survive[..., :-2], survive[..., -2:].sum(-1, keepdim=True)], dim=-1)
    return a_bar, (q_next, h)


def observed_log_likelihood(s: torch.Tensor, h: torch.Tensor, *, eta: torch.Tensor, c: float,
                            theta: float | torch.Tensor, delta_u: float, dt: float) -> torch.Tensor:
    r"""$\sum_t s_t\log P_t(a_t) + (1 - s_t)\log(1 - P_t(a_t))$ for spikes ``s`` and potentials ``h`` [T, B]; returns [B].

    The age $a_t$ counts steps since the neuron's own last spike (0 right after it, capped at $K-1$; the
    neuron starts in the last bin). Paper: wang2022neulvm, Eq. (4b) part (a) (observed spikes given $A$).
    """
    K = eta.shape[0]
    age = torch.full(s.shape[1:], K - 1, dtype=torch.long)
    total = torch.zeros(s.shape[1:], dtype=h.dtype)
    for s_t, h_t in zip(s, h):
        p = escape_probability(h_t + eta[age], c=c, theta=theta, delta_u=delta_u, dt=dt)
        total = total + s_t * torch.log(p) + (1 - s_t) * torch.log1p(-p)
        age = torch.where(s_t > 0, torch.zeros_like(age), (age + 1).clamp(max=K - 1))
    return total
