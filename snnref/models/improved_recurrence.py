r"""Spiking neurons with improved inherent recurrence: a gated synaptic current and multi-level outputs.

The synaptic current, the path that carries information (and gradients) through time, is updated like a GRU state,

$$F[n] = \sigma(X[n]W_{fi} + Y[n-1]W_{fr}),\quad C[n] = \mathrm{ReLU}(X[n]W_{ci} + Y[n-1]W_{cr}),\quad
I[n] = F[n] \odot I[n-1] + (1 - F[n]) \odot C[n],$$

(v1 drops the recurrent terms $Y[n-1]W_{\cdot r}$). The membrane potential integrates the current and keeps what the
output has not yet sent, $U[n] = R[n-1] + I[n]$, $Y[n] = Q(U[n])$, $R[n] = U[n] - Y[n]$ (integrate, fire, soft reset
by the output). The output is multi-level: $Q(u) = \Delta q$ with $q = \mathrm{clamp}(\mathrm{trunc}(u/\Delta), \pm q_{max})$
set to 0 where $|q| \le \theta$, so only large potentials emit; its gradient is passed straight through.

Paper: ponghiran2022inherent (improved dynamics v1/v2 and the multi-bit output mapping; the equations follow the
official code and a course reproduction that quotes the paper; equation numbers not checked).
"""

from __future__ import annotations

import torch

from snnref.neuron import if_charge, reset


def multilevel_output(u: torch.Tensor, *, delta: float, theta: int, q_max: int) -> torch.Tensor:
    r"""$Q(u) = \Delta q$, $q = \mathrm{clamp}(\mathrm{trunc}(u/\Delta), -q_{max}, q_{max})$, 0 where $|q| \le \theta$; backward $\partial Q/\partial u = 1$."""
    q = torch.trunc(u / delta).clamp(-q_max, q_max)
    q = torch.where(q.abs() > theta, q, torch.zeros_like(q))
    # straight-through estimator: forward the quantized value, backward the identity
    return u + (delta * q - u).detach()


def improved_step(
    x_f: torch.Tensor,
    x_c: torch.Tensor,
    state: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    *,
    w_fr: torch.Tensor | None,
    w_cr: torch.Tensor | None,
    delta: float,
    theta: int,
    q_max: int,
) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    r"""One step from the input projections $X W_{fi}$, $X W_{ci}$ [B, H] and the state $(I, R, Y)$; returns $(Y, \text{state})$.

    ``w_fr = w_cr = None`` gives v1 (gates from the input only); weights [H, H] give v2.
    """
    i_prev, r_prev, y_prev = state
    if w_fr is not None:
        x_f = x_f + y_prev @ w_fr
    if w_cr is not None:
        x_c = x_c + y_prev @ w_cr
    f = torch.sigmoid(x_f)  # forget gate
    i = f * i_prev + (1 - f) * torch.relu(x_c)  # gated synaptic current
    u = if_charge(i, r_prev)  # U = R + I
    y = multilevel_output(u, delta=delta, theta=theta, q_max=q_max)
    return y, (i, reset(u, y, v_th=1.0, v_reset=None), y)  # R = U - Y


def improved_layer(
    xf_seq: torch.Tensor, xc_seq: torch.Tensor, *, w_fr: torch.Tensor | None = None, w_cr: torch.Tensor | None = None,
    delta: float = 0.25, theta: int = 0, q_max: int = 7,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Runs ``improved_step`` over [T, B, H] projections from a zero state; returns outputs Y and currents I, [T, B, H]."""
    if not delta > 0:
        raise ValueError(f"delta must be > 0, got {delta!r}")
    if not 0 <= theta < q_max:
        raise ValueError(f"theta must satisfy 0 <= theta < q_max, got theta={theta!r}, q_max={q_max!r}")
    zeros = torch.zeros_like(xf_seq[0])
    state = (zeros, zeros, zeros)
    ys, currents = [], []
    for x_f, x_c in zip(xf_seq, xc_seq):
        y, state = improved_step(x_f, x_c, state, w_fr=w_fr, w_cr=w_cr, delta=delta, theta=theta, q_max=q_max)
        ys.append(y)
        currents.append(state[0])
    return torch.stack(ys), torch.stack(currents)
