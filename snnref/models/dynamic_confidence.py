r"""Dynamic Confidence: stop an SNN's inference as soon as the confidence decoded from its output exceeds a threshold.

The output layer's values are accumulated over time and scaled by a fixed factor $s$ (the official code divides by
30), $Y_t(x) = \frac1s\sum_{i=1}^t O_i(x)$; the confidence at step $t$ is the top softmax probability
$C_t(x) = \max_k \mathrm{softmax}(Y_t(x))_k$. The inference stops at

$$\hat t(x) = \min\Big(\{\,t \le T : C_t(x) > c_{th}\,\} \cup \{T\}\Big)$$

and answers $\arg\max_k Y_{\hat t}(x)_k$. Because $Y_t$ is a sum, a steady output makes $C_t$ grow with $t$: the
confidence reflects both the output's margin and how long the evidence has been accumulated. The threshold
$c_{th}$ is the only parameter. The "potential" of an SNN is the oracle that stops each input at the first step whose
prediction is correct.

Paper: li2023dynamicconfidence (confidence decoding and termination rule; taken from the official code, equation
numbers not checked).
"""

from __future__ import annotations

import torch


def temporal_confidence(out_seq: torch.Tensor, *, s: float = 30.0) -> tuple[torch.Tensor, torch.Tensor]:
    r"""$Y_t = \frac1s\sum_{i \le t} O_i$ [T, B, K] from outputs ``out_seq`` [T, B, K], and $C_t = \max_k \mathrm{softmax}(Y_t)_k$ [T, B]."""
    if not s > 0:
        raise ValueError(f"s must be > 0, got {s!r}")
    y = out_seq.cumsum(0) / s
    return y, y.softmax(-1).amax(-1)


def dynamic_confidence_exit(out_seq: torch.Tensor, *, c_th: float, s: float = 30.0) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Exit step $\hat t$ (1-based, [B]) and prediction [B]: the first $t$ with $C_t > c_{th}$, else $T$."""
    y, conf = temporal_confidence(out_seq, s=s)
    stop = conf > c_th  # [T, B]
    stop[-1] = True  # the last step always terminates: inputs that never become confident run all T steps
    t_exit = stop.to(torch.int64).argmax(0)  # argmax returns the first True
    pred = torch.take_along_dim(y, t_exit[None, :, None], dim=0).argmax(-1).squeeze(0)  # Y at the exit step
    return t_exit + 1, pred


def latency_accuracy(out_seq: torch.Tensor, target: torch.Tensor, *, c_th: float, s: float = 30.0) -> tuple[float, float]:
    """Mean exit step and accuracy of Dynamic Confidence on a labelled set (one point of the latency-accuracy curve)."""
    t_exit, pred = dynamic_confidence_exit(out_seq, c_th=c_th, s=s)
    return t_exit.to(out_seq.dtype).mean().item(), (pred == target).to(out_seq.dtype).mean().item()


def oracle_exit(out_seq: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The SNN's potential: stop at the first $t$ whose prediction $\arg\max_k Y_t$ is correct (else at $T$).

    Returns (exit step [B], correct [B] as bool). The scale $s > 0$ does not change an argmax, so it is not needed.
    """
    correct_t = out_seq.cumsum(0).argmax(-1) == target  # [T, B]
    stop = correct_t.clone()
    stop[-1] = True  # never correct: charged the full T
    return stop.to(torch.int64).argmax(0) + 1, correct_t.any(0)
