r"""Surrogate module learning (SML): the loss that trains an SNN together with its ANN surrogate modules.

Surrogate modules are small ANN heads attached to intermediate SNN features; their outputs $s_1..s_n$ give the
early layers a gradient path that skips the later spiking layers. With the SNN output $f$, labels $y$,
temperature $\tau$ and $p_\tau(z) = \mathrm{softmax}(z/\tau)$:

$$
L = (1-\lambda)\,\frac{\mathrm{CE}(f, y) + \alpha\sum_i \mathrm{CE}(s_i, y)}{1 + n\alpha}
  + \lambda\,\frac{\sum_i \mathrm{KL}\big(\overline{p_\tau(f)}\,\|\,p_\tau(s_i)\big) + \mathrm{KL}\big(\overline{p_\tau(s_i)}\,\|\,p_\tau(f)\big)}{2n}
$$

where the overline marks a detached target: each KL term pulls only its second argument, so the surrogate
modules learn to imitate the SNN and the SNN is pulled towards its surrogates.

Paper: deng2023sml (the SML loss); official code ``functions/loss_functions.py`` (``SBDistillationLoss``,
defaults $\tau = 3$, $\alpha = 1$, $\lambda = 0.333$).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def soft_kl(student: torch.Tensor, teacher: torch.Tensor, *, tau: float) -> torch.Tensor:
    r"""$\mathrm{KL}(\overline{p_\tau(\mathrm{teacher})}\,\|\,p_\tau(\mathrm{student}))$, batch mean; the teacher is detached."""
    return F.kl_div(input=F.log_softmax(student / tau, dim=1), target=F.softmax(teacher.detach() / tau, dim=1),
                    reduction="batchmean")


def sml_loss(
    snn_out: torch.Tensor, surrogate_outs: list[torch.Tensor], target: torch.Tensor,
    *, tau: float = 3.0, alpha: float = 1.0, lam: float = 0.333,
) -> torch.Tensor:
    """The SML loss for logits ``snn_out`` [B, K], surrogate logits (each [B, K]) and labels ``target`` [B]."""
    n = len(surrogate_outs)
    if n < 1:
        raise ValueError(f"surrogate_outs must hold at least one output, got {n}")
    hard = F.cross_entropy(input=snn_out, target=target) + alpha * sum(
        F.cross_entropy(input=s, target=target) for s in surrogate_outs)
    hard = hard / (1 + n * alpha)
    soft = sum(soft_kl(s, snn_out, tau=tau) + soft_kl(snn_out, s, tau=tau) for s in surrogate_outs) / (2 * n)
    return (1 - lam) * hard + lam * soft
