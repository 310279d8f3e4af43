r"""SNN calibration: MMSE thresholds, then layer-by-layer bias and initial-potential correction from the ANN.

With $e^{(l)} = \bar s^{(l)} - x^{(l)}$ the error between the SNN layer's time-averaged output and the ANN activation
on calibration data (earlier layers already calibrated), bias calibration and potential calibration are

$$b^{(l)} \leftarrow b^{(l)} - \mu_c\big(e^{(l)}\big), \qquad v^{(l)}(0) \leftarrow v^{(l)}(0) - T\,\mathbb{E}_{x}\big[e^{(l)}\big],$$

$\mu_c$ the per-channel mean over samples (and positions). Paper: li2021free, Sec. 4 (light pipeline: bias
calibration; advanced pipeline: potential calibration). Thresholds as the official code's default: the grid value
$\theta = \max(a)(1 - 0.01 i)$, $i < 95$, minimizing $\lVert \mathrm{ClipFloor}_T(a; \theta) - a \rVert^2$.
"""

from __future__ import annotations

import torch
from torch import nn

from snnref.conversion.errors import quantized_clip
from snnref.conversion.toolkit import SpikingNeuron, activation_values, constant_input, simulate_layers


def mmse_threshold(a: torch.Tensor, *, T: int, n_grid: int = 95, step: float = 0.01) -> float:
    r"""$\arg\min_{\theta \in \{\max(a)(1 - i\,\mathrm{step})\}} \mathrm{mean}\,(\mathrm{ClipFloor}_T(a;\theta) - a)^2$."""
    best, best_mse = 0.0, float("inf")
    for i in range(n_grid):
        theta = a.max().item() * (1 - i * step)
        mse = (quantized_clip(a, v_th=theta, T=T) - a).pow(2).mean().item()
        if mse < best_mse:
            best, best_mse = theta, mse
    return best


def mmse_thresholds(model: nn.Sequential, x: torch.Tensor, *, T: int) -> list[float]:
    """:func:`mmse_threshold` for every ReLU layer of ``model`` on calibration data ``x``."""
    return [mmse_threshold(a, T=T) for a in activation_values(model, x)]


class PotentialOffset:
    r"""``init_state`` hook: $v(0) = \varphi\theta + \Delta$ with a per-neuron offset $\Delta$ [1, ...]."""

    def __init__(self, offset: torch.Tensor):
        self.offset = offset

    def __call__(self, x0: torch.Tensor, v_th, v0_frac: float) -> torch.Tensor:
        return v0_frac * v_th + self.offset  # [1, ...]: broadcasts over the batch at the first step


def layer_errors(ann: nn.Sequential, snn: nn.Sequential, x: torch.Tensor, *, T: int) -> list[torch.Tensor]:
    r"""$e^{(l)} = \bar s^{(l)} - x^{(l)}$ [B, ...] for every spiking layer, under constant input ``x`` for ``T`` steps."""
    outs = simulate_layers(snn, constant_input(x, T))
    spiking = [i for i, m in enumerate(snn) if isinstance(m, SpikingNeuron)]
    return [outs[i].mean(0) - a for i, a in zip(spiking, activation_values(ann, x))]


def calibrate(ann: nn.Sequential, snn: nn.Sequential, x: torch.Tensor, *, T: int, bias: bool = True,
              potential: bool = False) -> nn.Sequential:
    """Calibrate ``snn`` (from :func:`~snnref.conversion.toolkit.convert`) in place, layer by layer; returns it."""
    spiking = [i for i, m in enumerate(snn) if isinstance(m, SpikingNeuron)]
    for k, i in enumerate(spiking):
        linear = snn[i - 1].module if i > 0 else None
        if bias and not (isinstance(linear, (nn.Linear, nn.Conv2d)) and linear.bias is not None):
            raise ValueError(f"bias calibration needs a Linear/Conv2d with bias before spiking layer {k}")
        e = layer_errors(ann, snn, x, T=T)[k]  # earlier layers already calibrated
        if bias:
            with torch.no_grad():  # one value per channel: the mean over samples and positions
                linear.bias -= e.mean(dim=[0, *range(2, e.dim())])
            e = layer_errors(ann, snn, x, T=T)[k]
        if potential:
            snn[i].init_state = PotentialOffset(-T * e.mean(0, keepdim=True))
    return snn
