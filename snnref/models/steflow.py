r"""STE-FlowNet's two building blocks: the Gaussian-weighted event image and the convolutional GRU.

**Input representation.** The events between two frames are cut into $n$ slices of equal event count. Inside a slice,
timestamps are normalised to $\hat t_k = (t_k - t_{min}) / (t_{max} - t_{min}) \in [0, 1]$; per polarity, each event
gets the Gaussian density of its normalised time, rescaled so the weights of the $N$ events sum to $N$, and each pixel
accumulates the rounded-up weights of its events:
$$w_k = \lambda\,\mathcal{N}(\hat t_k;\ \mu, \sigma^2),\quad \lambda = \frac{N}{\sum_j \mathcal{N}(\hat t_j; \mu,
\sigma^2)},\quad I(x, y) = \sum_{k:\,(x_k, y_k) = (x, y)} \lceil w_k \rceil,$$
with $\mu$, $\sigma$ the mean and (unbiased) standard deviation of the $\hat t_k$ of that polarity, $\sigma \leftarrow
\sigma + \epsilon$ (and $\sigma = 1$ for a single event). Events near the slice's temporal centre count more than
stragglers.

**Recurrence.** A series of slices is read by convolutional GRUs:
$z_t = \sigma(W_z * [h_{t-1}, x_t])$, $r_t = \sigma(W_r * [h_{t-1}, x_t])$,
$q_t = \tanh(W_q * [r_t \odot h_{t-1}, x_t])$, $h_t = (1 - z_t) \odot h_{t-1} + z_t \odot q_t$.

STE-FlowNet is an ANN (no spiking neurons); it is in the catalogue as an event-vision model. The step is a pure
function returning ``(h_t, h_t)``, so the core :func:`snnref.neuron.multi_step` runs it over a time-first sequence
[T, B, C, H, W] from a given $h_0$. Paper: ding2022steflow (input representation; ConvGRU encoder).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def normalize_time(t: torch.Tensor) -> torch.Tensor:
    r"""$\hat t_k = (t_k - t_{min}) / (t_{max} - t_{min})$ over the events of one slice (both polarities)."""
    return (t - t.min()) / (t.max() - t.min())


def gaussian_weights(t_hat: torch.Tensor, *, eps: float = 1e-4) -> torch.Tensor:
    r"""$w_k = \lambda\,\mathcal{N}(\hat t_k; \mu, \sigma^2)$ with $\lambda = N / \sum_j \mathcal{N}(\hat t_j)$, so $\sum_k w_k = N$."""
    if t_hat.numel() == 1:
        return torch.ones_like(t_hat)  # a lone event: lambda * N(t) = 1 whatever sigma
    sigma = t_hat.std() + eps
    # the Gaussian's factor 1 / (sqrt(2 pi) sigma) is the same for every event and cancels in lambda
    density = torch.exp(-((t_hat - t_hat.mean()) ** 2) / (2 * sigma**2))
    return density * (t_hat.numel() / density.sum())


def event_image(
    x: torch.Tensor, y: torch.Tensor, t: torch.Tensor, p: torch.Tensor, *, height: int, width: int, eps: float = 1e-4
) -> torch.Tensor:
    r"""Two-channel image [2, H, W] of one slice: $I_c(x, y) = \sum_k \lceil w_k \rceil$ over the ON ($c=0$) / OFF ($c=1$) events."""
    t_hat = normalize_time(t)
    w = torch.zeros_like(t_hat)
    for polarity in (1, -1):  # mean and std are taken per polarity
        keep = p == polarity
        w[keep] = gaussian_weights(t_hat[keep], eps=eps)
    channel = (p == -1).long()
    image = torch.zeros((2, height, width), dtype=t.dtype)
    return image.index_put_(indices=(channel, y, x), values=torch.ceil(w), accumulate=True)


def conv_gru_step(x: torch.Tensor, h: torch.Tensor, *, w_z: torch.Tensor, w_r: torch.Tensor, w_q: torch.Tensor,
                  b_z: torch.Tensor, b_r: torch.Tensor, b_q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r"""One ConvGRU step on [B, C, H, W]; returns ``(h_t, h_t)``: $h_t = (1 - z_t) h_{t-1} + z_t q_t$ ("same" padding)."""
    hx = torch.hstack([h, x])  # [B, C_h + C_x, H, W]
    z = torch.sigmoid(F.conv2d(input=hx, weight=w_z, bias=b_z, padding="same"))
    r = torch.sigmoid(F.conv2d(input=hx, weight=w_r, bias=b_r, padding="same"))
    # the reset gate scales the old state before it enters the candidate
    q = torch.tanh(F.conv2d(input=torch.hstack([r * h, x]), weight=w_q, bias=b_q, padding="same"))
    h_next = (1 - z) * h + z * q
    return h_next, h_next
