r"""Binary-weight spiking networks by conversion (Lu & Sengupta, Frontiers in Neuroscience 2020).

A binary network stores each weight as $\pm1$ with one real scale per output unit (XNOR-Net style):
$\tilde W = \alpha B$, $B = \mathrm{sign}(W)$, $\alpha = \frac{1}{n}\lVert W\rVert_1$. In the converted SNN
the scale need not be multiplied at all: an IF neuron that receives $\alpha B s_t$ and fires at $V_{th}$
spikes exactly when one that receives $B s_t$ fires at $V_{th}/\alpha$, so the synapses stay purely binary.
Neurons use reset by subtraction (soft reset), as in the paper's converted networks.

Paper: lu2020bsnn
"""

from __future__ import annotations

import torch

from snnref.neuron import if_step
from snnref.surrogate import SpikeFn, atan_spike


def xnor_binarize(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Best binary approximation $W \approx \alpha B$ per output unit (row 0 of ``w``); returns ``(alpha, B)``.

    $B = \mathrm{sign}(W)$ (with $\mathrm{sign}(0) = +1$), $\alpha = \frac{1}{n}\sum_i |W_i|$ over the $n$ weights
    of each output unit: the minimiser of $\lVert W - \alpha B\rVert_2^2$ over $\alpha > 0$, $B \in \{\pm1\}^n$.

    Paper: lu2020bsnn (binarisation of Rastegari et al. 2016, used for all but the first and last layer).
    """
    b = torch.where(w >= 0, torch.ones_like(w), -torch.ones_like(w))
    # one scale per output unit: mean absolute weight over its fan-in
    alpha = w.abs().flatten(1).mean(dim=1)
    return alpha, b


def binary_if_step(
    x: torch.Tensor,
    v: torch.Tensor,
    *,
    alpha: torch.Tensor | float,
    v_th: float | torch.Tensor,
    spike_fn: SpikeFn = atan_spike,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Soft-reset IF step driven by the binary-synapse current $x_t = B s_t$, with the scale folded into the threshold.

    $U_t = U_{t-1} + B s_t$; $S_t = \Theta(U_t - V_{th}/\alpha)$; $U_t \leftarrow U_t - (V_{th}/\alpha) S_t$.
    Its spikes equal those of $V_t = V_{t-1} + \alpha B s_t$ with threshold $V_{th}$, and $V_t = \alpha U_t$.
    ``alpha`` must broadcast against ``x`` (e.g. shape ``[N]`` for ``x`` of shape ``[B, N]``).

    Paper: lu2020bsnn
    """
    alpha_t = torch.as_tensor(alpha, dtype=x.dtype)
    if not bool((alpha_t > 0).all()):
        raise ValueError(f"alpha must be > 0, got {alpha!r}")
    return if_step(x, v, v_th=v_th / alpha_t, v_reset=None, spike_fn=spike_fn)
