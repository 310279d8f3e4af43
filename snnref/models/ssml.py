r"""Self-supervised spike-camera reconstruction: the sensor, the TFI pseudo-label, a blind spot and mutual learning.

The spike camera is an array of integrate-and-fire pixels: each pixel adds the light $I_n$ it receives in read-out
period $n$ to an accumulator $A$, emits a spike when $A \ge \theta$ and subtracts $\theta$ (soft reset). The
inter-spike interval $\Delta$ around time $m$ gives a noisy intensity estimate (TFI), $\hat I_m = \theta/\Delta_m$.
A blind-spot network $f_{\mathrm{B}}$, whose output at a pixel never sees that pixel, is trained to predict the
pseudo-label $\hat I$, and a normal (non-blind-spot) network $f_{\mathrm{N}}$ is distilled from it:

$$\mathcal{L} = \big\| f_{\mathrm{B}}(S) - \hat I \big\|_1 + \lambda \,\big\| f_{\mathrm{N}}(S) - f_{\mathrm{B}}(S) \big\|_2^2 .$$

Paper: chen2022ssml (pretext task and mutual-learning loss; written from the official code, since the equation
numbers could not be checked: L1 to the TFI label, MSE distillation with $\lambda = 0.01$).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from snnref.neuron import if_step, multi_step
from snnref.surrogate import heaviside


def spike_camera(intensity_seq: torch.Tensor, *, theta: float, a0: torch.Tensor | None = None) -> torch.Tensor:
    r"""Spike stream [T, ...] of integrate-and-fire pixels: $A_n = A_{n-1} + I_n$, spike at $A_n \ge \theta$, $A_n \mathrel{-}= \theta$."""
    if not theta > 0:
        raise ValueError(f"theta must be > 0, got {theta!r}")
    spikes, _ = multi_step(if_step, intensity_seq, a0, v_th=theta, v_reset=None, spike_fn=heaviside)
    return spikes


def tfi(spikes: torch.Tensor, *, middle: int, window: int, theta: float = 1.0) -> torch.Tensor:
    r"""TFI pseudo-label $\theta/\Delta$ at time ``middle``: $\Delta = r - l$, $l$ the last spike at or before ``middle``
    and $r$ the first after it, searched ``window`` steps each way (missing ends: ``middle -/+ window``)."""
    T = spikes.shape[0]
    t = torch.arange(T).view(-1, *([1] * (spikes.dim() - 1)))
    past = (spikes > 0) & (t <= middle) & (t > middle - window)
    future = (spikes > 0) & (t > middle) & (t <= middle + window)
    l = torch.where(past, t, torch.full_like(t, middle - window)).amax(0)
    r = torch.where(future, t, torch.full_like(t, middle + window)).amin(0)
    return theta / (r - l).to(spikes.dtype)


def blind_spot_conv(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """'Same' 2-D convolution [B, C, H, W] whose kernel centre is zeroed, so an output never sees its own pixel."""
    k = weight.shape[-1]
    mask = torch.ones_like(weight)
    mask[..., k // 2, k // 2] = 0
    return F.conv2d(x, weight * mask, padding=k // 2)


def ssml_loss(bsn: torch.Tensor, nbsn: torch.Tensor, label: torch.Tensor, *, lam: float = 0.01) -> torch.Tensor:
    r"""$\|f_B - \hat I\|_1$ (mean) $+ \lambda\,\|f_N - f_B\|_2^2$ (mean): self-supervision plus mutual distillation."""
    return (bsn - label).abs().mean() + lam * ((nbsn - bsn) ** 2).mean()
