r"""Word embeddings as spike trains and a spiking TextCNN layer (Lv et al., ICLR 2023).

Each embedding value $e$ is standardised with the mean $\mu$ and standard deviation $\sigma$ of all values in the
pre-trained table, clipped to $[-b, b]$ and shifted into $[0, 1]$:

$$p = \frac{\mathrm{clip}\big((e - \mu)/\sigma,\, -b,\, b\big) + b}{2b}, \qquad S_t \sim \mathrm{Bernoulli}(p),$$

so the expected firing rate $\mathbb{E}[S_t] = p$ is the (positive) embedding the tailored ANN was trained on.
The spiking TextCNN convolves the spike matrix [words x dims] with filters spanning $k$ words and all dims,
average-pools over positions (the tailored network's replacement of max-pooling) and feeds the result to a LIF
neuron, $H_t = \beta V_{t-1} + I_t$ with $\beta = 1 - 1/\tau$, soft reset (snnTorch ``Leaky``, threshold 1).
Paper: lv2023textcnn, the word-embedding encoding and the tailored network (section and equation numbers not
checked). The form and $b = 3$ follow the official ``data_preprocess/tensor_encoder.py``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from snnref.neuron import if_step, lif_step, multi_step
from snnref.surrogate import SpikeFn, fast_sigmoid_spike


def embedding_to_rate(e: torch.Tensor, *, mu: float, sigma: float, b: float = 3.0) -> torch.Tensor:
    r"""$p = (\mathrm{clip}((e-\mu)/\sigma, -b, b) + b) / (2b)$, the firing probability in $[0, 1]$."""
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0, got {sigma!r}")
    if not b > 0:
        raise ValueError(f"b must be > 0, got {b!r}")
    z = ((e - mu) / sigma).clamp(-b, b)
    return (z + b) / (2 * b)


def rate_encode(p: torch.Tensor, *, T: int, generator: torch.Generator | None = None) -> torch.Tensor:
    r"""Bernoulli spike train [T, ...] with $P(S_t = 1) = p$ independently at every step."""
    if T < 1:
        raise ValueError(f"T must be >= 1, got {T!r}")
    u = torch.rand((T, *p.shape), generator=generator, dtype=p.dtype)
    return (u < p).to(p.dtype)


def text_conv_current(s: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    r"""$I = \frac{1}{L-k+1}\sum_{j} (W \star S)_j + c$: conv over $k$ words x all dims, mean over positions.

    s [T, B, L, D] spikes; weight [F, k, D]; bias [F]; returns [T, B, F].
    """
    T, B, L, D = s.shape
    y = F.conv2d(s.reshape(T * B, 1, L, D), weight[:, None], bias)  # [T*B, F, L-k+1, 1]
    return y.mean(dim=(2, 3)).reshape(T, B, -1)


def spiking_text_conv(
    s: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor,
    *,
    tau: float | None = 20.0,
    v_th: float = 1.0,
    spike_fn: SpikeFn = fast_sigmoid_spike,
) -> torch.Tensor:
    r"""Spikes [T, B, F] of the pooled conv features: LIF ($\beta = 1 - 1/\tau$), IF if ``tau is None``; soft reset."""
    if tau is not None and not tau > 1:
        raise ValueError(f"tau must be > 1 (beta = 1 - 1/tau in (0, 1)), got {tau!r}")
    i = text_conv_current(s, weight, bias)
    if tau is None:
        return multi_step(if_step, i, v_th=v_th, v_reset=None, spike_fn=spike_fn)[0]
    return multi_step(lif_step, i, tau=tau, v_th=v_th, v_reset=None, decay_input=False, spike_fn=spike_fn)[0]
