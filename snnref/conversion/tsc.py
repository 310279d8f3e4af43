r"""Temporal-Switch-Coding (TSC): a value is sent as two spikes whose distance in time encodes its magnitude.

A pixel $p \in [-1, 1]$ (clipped to that range) in a window of $T$ steps is quantised to

$$p^* = \lfloor |p|\,(T-1) \rfloor + 1,$$

and, when $p^* \ge 2$, sent as a spike of sign $\operatorname{sgn}(p)$ at the first step and a spike of the opposite
sign at step $p^*$ (steps counted from 1); with $p^* = 1$ nothing is sent. The first spike switches the input on, the
second switches it off: the running sum of the spikes (the *switch state*) $\sigma_t = \sum_{k \le t} s_k$ equals
$\operatorname{sgn}(p)$ for exactly $p^* - 1$ steps, so the inter-spike interval carries
$\hat p = \frac{1}{T-1}\sum_t \sigma_t = \operatorname{sgn}(p)\,\lfloor |p|(T-1)\rfloor / (T-1)$.

Paper: han2020tsc (Sec. on Temporal-Switch-Coding). The paper's text was not available here: the discretisation
above is the one restated, with a citation of the paper, by a third-party encoder (``tsc.py`` by Weisong Zhang,
2025); the paper's abstract confirms "two spikes, the time between them proportional to the pixel intensity". The
paper's TSC neuron (how hidden layers re-encode ReLU activations as spike times) is not implemented.
"""

from __future__ import annotations

import torch


def tsc_encode(p: torch.Tensor, *, T: int) -> torch.Tensor:
    r"""Spike train [T, ...] of values in $\{-1, 0, 1\}$: $\operatorname{sgn}(p)$ at step 1, $-\operatorname{sgn}(p)$
    at step $p^* = \lfloor |p|(T-1)\rfloor + 1$, nothing when $p^* < 2$. Paper: han2020tsc (TSC input coding)."""
    if not (isinstance(T, int) and T >= 2):
        raise ValueError(f"T must be an int >= 2 (two spike instants), got {T!r}")
    p = p.clamp(-1.0, 1.0)
    # p^* = floor(|p| (T - 1)) + 1: the step of the switch-off spike
    p_star = torch.floor(p.abs() * (T - 1)) + 1
    # sent only when the two spikes fall on different steps
    sign = torch.sign(p) * (p_star >= 2)
    steps = torch.arange(1, T + 1, dtype=p.dtype).reshape((T,) + (1,) * p.dim())  # [T, 1, ...]
    # switch on at step 1, switch off at step p^*
    return sign * (steps == 1) - sign * (steps == p_star)


def tsc_switch(s_seq: torch.Tensor) -> torch.Tensor:
    r"""Switch state $\sigma_t = \sum_{k \le t} s_k$ over [T, ...]: $\pm 1$ from the first spike until the second."""
    return torch.cumsum(s_seq, dim=0)


def tsc_decode(s_seq: torch.Tensor) -> torch.Tensor:
    r"""$\hat p = \frac{1}{T-1}\sum_t \sigma_t$: the signed inter-spike interval in window units, [T, ...] -> [...]."""
    return tsc_switch(s_seq).sum(dim=0) / (s_seq.shape[0] - 1)
