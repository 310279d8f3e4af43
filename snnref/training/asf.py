r"""ASF-BP: backpropagation through the accumulated spiking flow of a layer instead of through its spike trains.

Over a window of $T$ steps a layer with weights $W$ receives the accumulated input $I = W X$, where $X = \sum_t x_t$
is the accumulated presynaptic spike count, and emits the accumulated output $O = \sum_t s_t$. ASF-BP keeps the true
$O$ in the forward pass and, backward, treats the layer as the "equivalent network"

$$
O \approx k\,\mathrm{ReLU}(I),\qquad \frac{\partial O}{\partial I} := k\,[I > 0],\qquad
k = \frac{\sum_{c} O_c}{\sum_{c} I_c}\ \text{ over the neurons with } I_c \ge O_c,
$$

where the adaptive linear estimate $k$ is refreshed as an exponential moving average ($k \leftarrow 0.6\,k_{new} + 0.4\,k$).

Paper: wu2021asf (accumulated spiking flow, equivalent network, adaptive linear estimation); official code
``lenet5.py`` (``ave``, ``grad_cal``, the forward's ``out - out.detach() + tem``).
"""

from __future__ import annotations

import torch


def asf_scale(total_out: torch.Tensor, total_in: torch.Tensor) -> float:
    r"""$k = \sum_c O_c / \sum_c I_c$ over neurons with $I_c \ge O_c$ (1 when that input sum is below $10^{-3}$)."""
    sel = total_in >= total_out
    denom = total_in[sel].sum()
    if denom < 1e-3:
        return 1.0
    return (total_out[sel].sum() / denom).item()


def update_scale(k_old: float, k_new: float, *, momentum: float = 0.4) -> float:
    r"""$k \leftarrow (1-m)\,k_{new} + m\,k_{old}$ with $m = 0.4$ in the official code."""
    return (1 - momentum) * k_new + momentum * k_old


def asf_linear(x_total: torch.Tensor, weight: torch.Tensor, total_out: torch.Tensor, *, k: float) -> torch.Tensor:
    r"""Value: the true accumulated output $O$; gradient: that of $k\,[I>0]\,I$ with $I = X W^\top$."""
    i_total = x_total @ weight.T
    # the equivalent network's output; only its gradient is used
    eq = i_total * (k * (i_total.detach() > 0).to(i_total.dtype))
    return eq - eq.detach() + total_out.detach()
