r"""Blocks: simulating adaptive LIF neurons with an absolute refractory period block by block (Taylor et al., 2023).

The ALIF neuron (decay $\beta$, adaptation decay $p$, adaptation strength $b$, refractory period $R$ steps):

$$h_t = \beta v_{t-1} + x_t\,[\text{not refractory}],\quad s_t = \Theta(h_t - (1 + b\,a_t)),\quad
v_t = h_t(1 - s_t),\quad a_{t+1} = p\,a_t + s_t.$$

After a spike the input is blocked for $R$ steps and $v$ stays 0, so a neuron spikes at most once in any $R + 1$
consecutive steps. The time axis is therefore cut into blocks of $L = R + 1$ steps; inside a block the potential
without reset is a closed-form sum, $h_i = \beta^{i+1}v_0 + \sum_{j \le i}\beta^{i-j}x_j$, and only the block's first
threshold crossing is kept. The sequential loop shrinks from $T$ to $\lceil T/L \rceil$ iterations.
Paper: taylor2023blocks, the blocks reinterpretation of the ALIF model.
"""

from __future__ import annotations

import torch

from snnref.neuron import fire, lif_charge, reset
from snnref.surrogate import SpikeFn

ALIFState = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


def alif_step(
    x: torch.Tensor, state: ALIFState, *, beta: float, p: float, b: float, t_ref: int, spike_fn: SpikeFn
) -> tuple[torch.Tensor, ALIFState]:
    """One standard (sequential) ALIF step; ``state = (v, a, r)`` with ``r`` the steps since the last spike."""
    v, a, r = state
    x = x * (r >= t_ref)  # absolute refractory period: input blocked for t_ref steps after a spike
    h = lif_charge(x, v, tau=1 / (1 - beta), decay_input=False)  # beta * v + x
    v_th = 1 + b * a
    s = fire(h, v_th=v_th, spike_fn=spike_fn)
    return s, (reset(h, s, v_th=v_th, v_reset=0.0), p * a + s, torch.where(s > 0, 0.0, r + 1))


def alif_initial_state(like: torch.Tensor, *, t_ref: int) -> ALIFState:
    """Rest: $v = 0$, $a = 0$, not refractory."""
    return torch.zeros_like(like), torch.zeros_like(like), torch.full_like(like, float(t_ref))


def alif_blocks(
    x_seq: torch.Tensor, *, beta: float, p: float, b: float, t_ref: int, spike_fn: SpikeFn
) -> torch.Tensor:
    """Spikes [T, B, ...] of ALIF neurons from rest, computed block by block (``t_ref + 1`` steps per block)."""
    if t_ref < 1:
        raise ValueError(f"t_ref must be >= 1 step, got {t_ref!r}")
    L, T = t_ref + 1, x_seq.shape[0]
    k = torch.arange(L, dtype=x_seq.dtype)
    i = k.view(L, *([1] * (x_seq.dim() - 1)))  # [L, 1, ...], step index inside a block
    kernel = torch.tril(beta ** (k.view(L, 1) - k.view(1, L)))  # [L, L]: beta^(i-j) for j <= i
    v0, a, blocked = torch.zeros_like(x_seq[0]), torch.zeros_like(x_seq[0]), torch.zeros_like(x_seq[:L])
    out = []
    for start in range(0, T, L):
        xb = x_seq[start:start + L] * (1 - blocked[: min(L, T - start)])  # [l, B, ...]
        n = xb.shape[0]
        # potential without reset and threshold without a new spike, for every step of the block at once
        h = torch.tensordot(kernel[:n, :n], xb, dims=1) + beta ** (i[:n] + 1) * v0
        s = fire(h, v_th=1 + b * a * p ** i[:n], spike_fn=spike_fn)
        # keep the first crossing only: no spike at an earlier step of the block
        first = s * (torch.cumsum(s, 0) - s == 0).to(s.dtype).detach()
        out.append(first)
        fired = first.sum(0)  # 0 or 1
        v0 = h[-1] * (1 - fired)
        a = a * p**n + (first * p ** (n - 1 - i[:n])).sum(0)
        # a spike at step k blocks the next block's steps j with n + j <= k + t_ref
        blocks_next = (n + k.view(1, L) <= k[:n].view(n, 1) + t_ref).to(x_seq.dtype)  # [n, L]
        blocked = torch.tensordot(blocks_next.T, first, dims=1)  # [L, B, ...]
    return torch.cat(out)
