r"""SEENN-I: per-sample early exit in time by thresholding the confidence of the running mean output.

After $t$ steps the SNN's prediction is the running mean of its outputs, $f_t(x) = \frac1t\sum_{i=1}^t O_i(x)$.
SEENN-I stops at the first step whose softmax confidence reaches the threshold $\alpha$,

$$\hat T(x) = \min\Big(\{\,t \le T : \max_k \mathrm{softmax}(f_t(x))_k \ge \alpha\,\} \cup \{T\}\Big),$$

and answers $\arg\max_k f_{\hat T(x)}(x)_k$. Because an SNN is causal, stopping at $\hat T$ costs only $\hat T$ steps.
Paper: li2023seenn, SEENN-I (confidence-score thresholding; equation number not checked).
"""

from __future__ import annotations

from typing import Any, Callable

import torch


def running_confidence(out_seq: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Running mean $f_t$ of ``out_seq`` [T, B, K] and its confidence $\max_k \mathrm{softmax}(f_t)_k$, [T, B]."""
    f = out_seq.cumsum(0) / torch.ones_like(out_seq).cumsum(0)  # [T, B, K]: the sum of the first t outputs over t
    return f, f.softmax(-1).amax(-1)


def seenn_exit(out_seq: torch.Tensor, *, alpha: float) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Exit step $\hat T$ (1-based, [B]) and prediction [B] of SEENN-I from all T outputs [T, B, K]."""
    f, conf = running_confidence(out_seq)
    confident = conf >= alpha  # [T, B]
    confident[-1] = True  # the last step always counts as confident: samples that never reach alpha use all T steps
    t_exit = confident.to(torch.int64).argmax(0)  # first True (argmax returns the first maximum)
    pred = f[t_exit, torch.arange(f.shape[1])].argmax(-1)  # sample b answers with f at its own exit step
    return t_exit + 1, pred


def seenn_run(
    step: Callable[[torch.Tensor, Any], tuple[torch.Tensor, Any]], x_seq: torch.Tensor, state: Any, *, alpha: float
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Run ``step(x_t, state) -> (out_t, state)`` only until every sample has exited; returns (t_exit, pred, steps run)."""
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"alpha must be in (0, 1], got {alpha!r}")
    outs: list[torch.Tensor] = []
    for x in x_seq:
        out, state = step(x, state)
        outs.append(out)
        _, conf = running_confidence(torch.stack(outs))
        if bool((conf >= alpha).any(0).all()):
            break
    out_seq = torch.stack(outs)
    t_exit, pred = seenn_exit(out_seq, alpha=alpha)
    return t_exit, pred, len(outs)
