r"""Temporal efficient training (TET): a loss on every time step's output instead of on their mean.

For outputs $O(t)$, $t = 1..T$ (logits, ``[T, B, K]``) and labels $y$:

$$
\mathcal{L}_{TET} = \frac{1}{T}\sum_{t=1}^{T}\mathcal{L}_{CE}\big(O(t), y\big),\qquad
\mathcal{L} = (1-\lambda)\,\mathcal{L}_{TET} + \lambda\,\frac{1}{T}\sum_{t=1}^{T}\mathrm{MSE}\big(O(t), \phi\big)
$$

versus standard direct training (SDT), $\mathcal{L}_{SDT} = \mathcal{L}_{CE}\big(\frac{1}{T}\sum_t O(t), y\big)$. Under SDT every
time step receives the same gradient; under TET step $t$ receives $\frac{1}{T}(\mathrm{softmax}(O(t)) - e_y)$, which
re-weights the steps by how wrong each one is. The MSE term keeps outputs near $\phi$ (a regularizer, weight $\lambda$).

Paper: deng2022tet (the TET loss and the SDT comparison); official code ``TET_loss`` (defaults $\phi = 1$,
$\lambda = 10^{-3}$). Time is the first axis here (the official code puts it second).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def tet_loss(outputs: torch.Tensor, target: torch.Tensor, *, lam: float = 1e-3, phi: float = 1.0) -> torch.Tensor:
    r"""$(1-\lambda)\frac{1}{T}\sum_t \mathrm{CE}(O(t), y) + \lambda\,\mathrm{MSE}(O, \phi)$ for ``outputs`` [T, B, K]."""
    T = outputs.shape[0]
    loss_tet = sum(F.cross_entropy(input=outputs[t], target=target) for t in range(T)) / T
    # the mean over all T*B*K entries equals the mean over t of the per-step MSE
    loss_mse = ((outputs - phi) ** 2).mean()
    return (1 - lam) * loss_tet + lam * loss_mse


def sdt_loss(outputs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    r"""Standard direct training: $\mathrm{CE}\big(\frac{1}{T}\sum_t O(t), y\big)$."""
    return F.cross_entropy(input=outputs.mean(0), target=target)
