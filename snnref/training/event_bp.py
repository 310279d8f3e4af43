r"""Event-driven backpropagation: gradients only at spike times (Zhu et al., NeurIPS 2022).

Forward, a current-based LIF (dual-exponential synaptic kernel) whose traces restart after each spike, so
$u(t) = \sum_{t' \in (t^{last}, t]} I(t')\,\epsilon(t - t')$ with
$\epsilon(k) = \frac{\theta_s}{\theta_s - \theta_m}\left[(1-\theta_m)^{k+1} - (1-\theta_s)^{k+1}\right]$,
$\theta = 1/\tau$. Backward, a gradient $\partial L/\partial t^m_j$ on each output spike time is passed to the membrane
potential, $\partial t/\partial u = -1/\Delta u(t^m)$ ($\Delta u$ = rise of $u$ in that step), and from there to the inputs
received since the previous spike:
$$\frac{\partial L}{\partial W_{ji}} = \sum_m \frac{\partial L}{\partial t^m_j}\,\frac{-1}{\Delta u_j(t^m)}
\sum_{t'} \epsilon(t^m - t')\,x_i(t'), \qquad
\frac{\partial L}{\partial t_i(t')} = x_i(t')\sum_j W_{ji}\,\frac{\partial L}{\partial t^m_j}\,\frac{-1}{\Delta u_j(t^m)}\,
\bigl(-\Delta\epsilon(t^m - t')\bigr),$$
with $\Delta\epsilon(k) = \epsilon(k) - \epsilon(k-1)$, $\epsilon(-1) = 0$: moving an input spike one step later changes
$u(t^m)$ by $-W\Delta\epsilon$. $\Delta\epsilon$ turns negative for inputs long before the spike (the reverse gradient
problem); the paper's backward kernel replaces it, for the input-time path only, by $\kappa(k) = \theta_g(1-\theta_g)^{k+1}$
and $\Delta u$ by $\theta_g\sum_{t'} I(t')(1-\theta_g)^{t^m - t' + 1}$, which keeps the sum of gradients invariant.
Shapes [T, B, N]. Paper: zhu2022eventbp, event-driven backpropagation and backward kernel.
"""

from __future__ import annotations

from functools import partial
from typing import Callable

import torch

from snnref.neuron import fire, multi_step, reset


def dual_exp_eps(k: torch.Tensor, *, tau_m: float, tau_s: float) -> torch.Tensor:
    r"""The synaptic kernel $\epsilon(k) = \frac{\theta_s}{\theta_s - \theta_m}\left[(1-\theta_m)^{k+1} - (1-\theta_s)^{k+1}\right]$, $\theta = 1/\tau$."""
    return ((1 - 1 / tau_m) ** (k + 1) - (1 - 1 / tau_s) ** (k + 1)) * tau_m / (tau_m - tau_s)


def dual_exp_d_eps(k: torch.Tensor, *, tau_m: float, tau_s: float) -> torch.Tensor:
    r"""Its one-step difference $\Delta\epsilon(k) = \epsilon(k) - \epsilon(k-1)$ ($\epsilon(-1) = 0$ by the formula)."""
    return dual_exp_eps(k, tau_m=tau_m, tau_s=tau_s) - dual_exp_eps(k - 1, tau_m=tau_m, tau_s=tau_s)


def exp_backward_kernel(k: torch.Tensor, *, tau_g: float) -> torch.Tensor:
    r"""The backward kernel $\kappa(k) = \theta_g(1-\theta_g)^{k+1}$, $\theta_g = 1/\tau_g$."""
    return (1 - 1 / tau_g) ** (k + 1) / tau_g


def srm_step(x: torch.Tensor, state: tuple, *, tau_m: float, tau_s: float, tau_g: float, v_th: float) -> tuple[torch.Tensor, tuple]:
    r"""One step; state $(s_m, s_s, s_g, u^{last}, \Delta u, \Delta u_g)$: traces $s \leftarrow (s + I)(1 - \theta)$,
    $u = \frac{\theta_s(s_m - s_s)}{\theta_s - \theta_m}$, $\Delta u_g = \theta_g s_g$; every trace restarts after a spike."""
    syn_m, syn_s, syn_g, u_last, _, _ = state
    syn_m, syn_s, syn_g = (syn_m + x) * (1 - 1 / tau_m), (syn_s + x) * (1 - 1 / tau_s), (syn_g + x) * (1 - 1 / tau_g)
    u = (syn_m - syn_s) * tau_m / (tau_m - tau_s)  # theta_s / (theta_s - theta_m) = tau_m / (tau_m - tau_s)
    s = fire(u, v_th=v_th)
    new = tuple(reset(v, s, v_th=v_th, v_reset=0.0) for v in (syn_m, syn_s, syn_g, u))  # restart after a spike
    return s, (*new, u - u_last, syn_g / tau_g)


def srm_forward(
    i_seq: torch.Tensor, *, tau_m: float, tau_s: float, tau_g: float, v_th: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""Spikes, $\Delta u$ and $\Delta u_g$ (each [T, B, N]) for input currents $I$ [T, B, N]."""
    z = torch.zeros_like(i_seq[0])
    spikes, states = multi_step(step=srm_step, x_seq=i_seq, state=(z,) * 6, tau_m=tau_m, tau_s=tau_s, tau_g=tau_g, v_th=v_th)
    return spikes, torch.stack([st[4] for st in states]), torch.stack([st[5] for st in states])


def event_backward(
    grad_t: torch.Tensor, spikes: torch.Tensor, du_w: torch.Tensor, du_t: torch.Tensor, *,
    eps: Callable[[torch.Tensor], torch.Tensor], kernel_t: Callable[[torch.Tensor], torch.Tensor], max_inv: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Per input time $t'$, with $t^m$ the first spike at or after $t'$ and $c = \mathrm{clamp}(-1/\Delta u, -\text{max\_inv}, 0)$:
    $(g_W, g_t) = \bigl(\frac{\partial L}{\partial t^m}c(\Delta u_w)\,\epsilon(t^m - t'),\; \frac{\partial L}{\partial t^m}c(\Delta u_t)\,(-\kappa(t^m - t'))\bigr)$."""
    g_uw, g_ut, lag = 0.0, 0.0, 0.0  # nothing flows back from after a neuron's last spike
    g_w, g_in = torch.zeros_like(spikes), torch.zeros_like(spikes)
    for t in reversed(range(spikes.shape[0])):
        o = spikes[t]
        # dt/du = -1 / (du/dt) at the spike; a spike at t starts a new window
        g_uw = g_uw * (1 - o) + grad_t[t] * o * torch.clamp(-1 / du_w[t], min=-max_inv, max=0.0)
        g_ut = g_ut * (1 - o) + grad_t[t] * o * torch.clamp(-1 / du_t[t], min=-max_inv, max=0.0)
        lag = (lag + 1) * (1 - o)  # steps from t to the next spike, t^m - t
        g_w[t] = g_uw * eps(lag)
        g_in[t] = g_ut * -kernel_t(lag)
    return g_w, g_in


def event_driven_linear_grads(
    x: torch.Tensor, weight: torch.Tensor, grad_t: torch.Tensor, *, tau_m: float, tau_s: float, v_th: float,
    max_inv: float, tau_g: float, backward_kernel: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""For a layer $I = x W^\top$ with input spikes $x$ [T, B, N_in]: $(\partial L/\partial W, \partial L/\partial t_{in})$ from
    output-spike-time gradients; the input-time path uses the backward kernel, or $\Delta\epsilon$ if not ``backward_kernel``."""
    spikes, du, du_g = srm_forward(x @ weight.T, tau_m=tau_m, tau_s=tau_s, tau_g=tau_g, v_th=v_th)
    eps = partial(dual_exp_eps, tau_m=tau_m, tau_s=tau_s)
    du_t, kernel_t = ((du_g, partial(exp_backward_kernel, tau_g=tau_g)) if backward_kernel
                      else (du, partial(dual_exp_d_eps, tau_m=tau_m, tau_s=tau_s)))
    g_w, g_in = event_backward(grad_t=grad_t * spikes, spikes=spikes, du_w=du, du_t=du_t, eps=eps, kernel_t=kernel_t,
                               max_inv=max_inv)
    return torch.einsum("tbj,tbi->ji", g_w, x), (g_in @ weight) * x
