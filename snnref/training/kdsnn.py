r"""Response-based knowledge distillation from an ANN teacher into an SNN student (KDSNN).

The SNN student is trained with surrogate gradients; its logits are the output layer averaged over the $T$ time
steps, $z_S = \frac{1}{T}\sum_t o_t$. A fixed, trained ANN teacher with logits $z_T$ supplies soft targets
$p_\tau(z_T)$, $p_\tau(z) = \mathrm{softmax}(z/\tau)$ at temperature $\tau$, and the student minimises

$$
L = (1-\alpha)\,\mathrm{CE}(z_S, y) + \alpha\,\tau^2\,\mathrm{KL}\big(p_\tau(z_T)\,\|\,p_\tau(z_S)\big).
$$

The teacher's logits are detached (only the student learns). The factor $\tau^2$ keeps the soft term's gradient on
the scale of the hard term's as $\tau$ grows (Hinton et al. 2015). Logits have shape ``[..., K]``: the KL is summed
over the classes and, like the cross-entropy, averaged over every leading dimension.

No weights are converted: despite the paper's title, this is a training method (an ANN teaches an SNN).
Paper: xu2023kdsnn (response-based distillation, in Hinton's form; the paper text was not available, see the note).
"""

from __future__ import annotations

import torch
from torch import nn


def rate_logits(out_seq: torch.Tensor) -> torch.Tensor:
    r"""The student's logits $z_S = \frac{1}{T}\sum_{t=1}^{T} o_t$: the output ``[T, B, K]`` averaged over time."""
    return out_seq.mean(dim=0)  # [B, K]


def soft_target_kl(student: torch.Tensor, teacher: torch.Tensor, *, tau: float) -> torch.Tensor:
    r"""$\mathrm{KL}(p_\tau(z_T)\,\|\,p_\tau(z_S))$ over the last axis, averaged over the others; $z_T$ detached."""
    log_q = torch.log_softmax(student / tau, dim=-1)
    log_p = torch.log_softmax(teacher.detach() / tau, dim=-1)  # the teacher is fixed: no gradient reaches it
    return (log_p.exp() * (log_p - log_q)).sum(dim=-1).mean()


def kd_loss(student: torch.Tensor, teacher: torch.Tensor, target: torch.Tensor, *, alpha: float,
            tau: float) -> torch.Tensor:
    r"""The distillation loss: cross-entropy with the labels plus the softened teacher's KL, weighted by $\alpha$.

    $L = (1-\alpha)\,\mathrm{CE}(z_S, y) + \alpha\tau^2\,\mathrm{KL}(p_\tau(z_T)\|p_\tau(z_S))$ for logits ``[..., K]``
    (``student``, ``teacher``) and labels ``[...]`` (``target``).
    Paper: xu2023kdsnn, response-based distillation (equation number not checked: the text was not available).
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
    if not tau > 0:
        raise ValueError(f"tau must be > 0, got {tau!r}")
    log_q1 = torch.log_softmax(student, dim=-1)
    # hard term: cross-entropy with the labels at temperature 1
    ce = -log_q1.gather(dim=-1, index=target.unsqueeze(-1)).mean()
    return (1 - alpha) * ce + alpha * tau**2 * soft_target_kl(student, teacher, tau=tau)


class KDSNNLoss(nn.Module):
    """Holds $\\alpha$, $\\tau$; ``forward(out_seq [T, B, K], teacher_logits [B, K], target [B])`` is the KD loss."""

    def __init__(self, *, alpha: float = 0.5, tau: float = 4.0):
        super().__init__()
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
        if not tau > 0:
            raise ValueError(f"tau must be > 0, got {tau!r}")
        self.alpha, self.tau = alpha, tau

    def forward(self, out_seq: torch.Tensor, teacher_logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return kd_loss(rate_logits(out_seq), teacher_logits, target, alpha=self.alpha, tau=self.tau)
