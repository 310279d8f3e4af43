r"""Spiking PointNet: a PointNet whose ReLUs are LIF neurons, trained with one timestep and run with several.

Each hidden unit is a LIF neuron with decay factor $\lambda$ and hard reset,

$$U[t] = \lambda\,U[t-1] + X[t],\qquad S[t] = \Theta(U[t] - V_{th}),\qquad U[t] \leftarrow U[t]\,(1 - S[t]),$$

i.e. the core LIF step without input decay and with $1/\tau = 1 - \lambda$. Training runs a single step
("trained-less"); to make the single-step network ready for the residual potentials it will meet at later steps of a
multi-step inference ("learning-more"), the initial potential is perturbed, $U[0] \sim \mathcal{U}(0, b)$
(membrane potential perturbation). Inference repeats the point cloud for $T$ steps and averages the logits.
The backward pass uses the official code's clamped-tanh surrogate. The official code fires on $U > V_{th}$; the
core's $U \ge V_{th}$ differs only at exact equality.

Paper: ren2023spikingpointnet (LIF neuron and membrane potential perturbation; equation numbers not checked,
the update is taken from the official code).
"""

from __future__ import annotations

import math
from functools import partial

import torch
from torch import nn

from snnref.neuron import lif_step
from snnref.surrogate import make_spike_function


def tanh_window_primitive(x: torch.Tensor, alpha: float = 5.0) -> torch.Tensor:
    r"""$g(x) = \dfrac{\tanh(\alpha\,\mathrm{clamp}(x, -\frac12, \frac12)) + \tanh(\alpha/2)}{2\tanh(\alpha/2)}$: 0 to 1 on $|x| \le \frac12$."""
    return (torch.tanh(alpha * x.clamp(-0.5, 0.5)) + math.tanh(alpha / 2)) / (2 * math.tanh(alpha / 2))


def tanh_window_grad(x: torch.Tensor, alpha: float = 5.0) -> torch.Tensor:
    r"""$g'(x) = \dfrac{\alpha\,(1 - \tanh^2(\alpha x))}{2\tanh(\alpha/2)}\,[\,|x| < \frac12\,]$."""
    inside = (x.abs() < 0.5).to(x.dtype)
    return inside * alpha * (1 - torch.tanh(alpha * x) ** 2) / (2 * math.tanh(alpha / 2))


_TanhWindowSpike = make_spike_function(tanh_window_grad, "TanhWindow")


def tanh_window_spike(x: torch.Tensor, alpha: float = 5.0) -> torch.Tensor:
    """Step forward, clamped-tanh surrogate backward (the official Spiking PointNet code, ``temp`` = alpha)."""
    return _TanhWindowSpike.apply(x, alpha)


def perturbed_potential(shape: tuple[int, ...], *, b: float, dtype: torch.dtype = torch.float32,
                        generator: torch.Generator | None = None) -> torch.Tensor:
    r"""Membrane potential perturbation: an initial potential $U[0] \sim \mathcal{U}(0, b)$ of the given shape."""
    return b * torch.rand(shape, dtype=dtype, generator=generator)


class SpikingPointNet(nn.Module):
    """Per-point shared Linear+LIF layers, max-pool over points, linear head; logits averaged over T steps."""

    def __init__(self, dims: list[int], n_classes: int, *, lam: float = 0.25, v_th: float = 0.5, b: float = 0.5,
                 alpha: float = 5.0):
        super().__init__()
        if not 0 <= lam < 1:
            raise ValueError(f"lam must be in [0, 1), got {lam!r}")
        if not v_th > 0:
            raise ValueError(f"v_th must be > 0, got {v_th!r}")
        if not b >= 0:
            raise ValueError(f"b must be >= 0, got {b!r}")
        self.layers = nn.ModuleList(nn.Linear(i, o) for i, o in zip(dims[:-1], dims[1:]))
        self.head = nn.Linear(dims[-1], n_classes)
        self.lam, self.v_th, self.b, self.alpha = lam, v_th, b, alpha

    def forward(self, points: torch.Tensor, *, T: int = 1, perturb: bool = False,
                generator: torch.Generator | None = None) -> torch.Tensor:
        """``points`` [B, N, D] -> logits [B, K]; the same cloud is fed at each of the T steps (direct encoding)."""
        spike_fn = partial(tanh_window_spike, alpha=self.alpha)
        shapes = [(*points.shape[:-1], layer.out_features) for layer in self.layers]  # [B, N, C_l] per layer
        u = [perturbed_potential(sh, b=self.b, dtype=points.dtype, generator=generator) if perturb
             else torch.zeros(sh, dtype=points.dtype) for sh in shapes]
        logits = []
        for _ in range(T):
            h = points  # [B, N, D]
            for i, layer in enumerate(self.layers):
                h, u[i] = lif_step(layer(h), u[i], tau=1 / (1 - self.lam), v_th=self.v_th, v_reset=0.0,
                                   decay_input=False, spike_fn=spike_fn)
            # symmetric function over points: PointNet's max-pool makes the output order-invariant
            logits.append(self.head(h.amax(dim=1)))  # [B, K]
        return torch.stack(logits).mean(0)
