r"""Spike functions: the Heaviside step forward, a smooth surrogate's derivative backward.

Each surrogate comes in four parts: ``<name>_primitive`` (the smooth function $g$ that stands in for the step),
``<name>_grad`` ($g'$, used as the step's derivative), a private ``autograd.Function`` and the public
``<name>_spike``. The forward pass is always the step $\Theta(x) = [x \ge 0]$.
"""

from __future__ import annotations

import math
from typing import Callable

import torch

SpikeFn = Callable[[torch.Tensor], torch.Tensor]


def heaviside(x: torch.Tensor) -> torch.Tensor:
    r"""$\Theta(x) = 1$ where $x \ge 0$, else $0$, in ``x``'s dtype."""
    return (x >= 0).to(x.dtype)


def make_spike_function(primitive_grad: Callable[..., torch.Tensor], name: str) -> type[torch.autograd.Function]:
    """Build the autograd.Function whose forward is the step and whose backward is ``primitive_grad``."""

    class _Spike(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x: torch.Tensor, alpha: float) -> torch.Tensor:  # type: ignore[override]
            ctx.save_for_backward(x)
            ctx.alpha = alpha
            return heaviside(x)

        @staticmethod
        def backward(ctx, grad_out: torch.Tensor):  # type: ignore[override]
            (x,) = ctx.saved_tensors
            return grad_out * primitive_grad(x, ctx.alpha), None

    _Spike.__name__ = _Spike.__qualname__ = f"_{name}Spike"
    return _Spike


# --- ATan (Fang et al. 2021) -----------------------------------------------------------------------------

def atan_primitive(x: torch.Tensor, alpha: float = 2.0) -> torch.Tensor:
    r"""$g(x) = \frac{1}{\pi}\arctan(\frac{\pi}{2}\alpha x) + \frac{1}{2}$."""
    return torch.atan(0.5 * math.pi * alpha * x) / math.pi + 0.5


def atan_grad(x: torch.Tensor, alpha: float = 2.0) -> torch.Tensor:
    r"""$g'(x) = \dfrac{\alpha/2}{1 + (\frac{\pi}{2}\alpha x)^2}$."""
    return (0.5 * alpha) / (1 + (0.5 * math.pi * alpha * x) ** 2)


_ATanSpike = make_spike_function(atan_grad, "ATan")


def atan_spike(x: torch.Tensor, alpha: float = 2.0) -> torch.Tensor:
    """Step forward, ATan surrogate backward."""
    return _ATanSpike.apply(x, alpha)


# --- Sigmoid -------------------------------------------------------------------------------------------

def sigmoid_primitive(x: torch.Tensor, alpha: float = 4.0) -> torch.Tensor:
    r"""$g(x) = \sigma(\alpha x) = 1/(1 + e^{-\alpha x})$."""
    return torch.sigmoid(alpha * x)


def sigmoid_grad(x: torch.Tensor, alpha: float = 4.0) -> torch.Tensor:
    r"""$g'(x) = \alpha\,\sigma(\alpha x)(1 - \sigma(\alpha x))$."""
    s = torch.sigmoid(alpha * x)
    return alpha * s * (1 - s)


_SigmoidSpike = make_spike_function(sigmoid_grad, "Sigmoid")


def sigmoid_spike(x: torch.Tensor, alpha: float = 4.0) -> torch.Tensor:
    """Step forward, sigmoid surrogate backward."""
    return _SigmoidSpike.apply(x, alpha)


# --- Rectangular window (Wu et al. 2018, STBP curve h1) ---------------------------------------------------

def rectangular_primitive(x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    r"""$g(x) = \mathrm{clamp}(x/\alpha + \frac{1}{2}, 0, 1)$: a ramp of width $\alpha$ centred on 0."""
    return torch.clamp(x / alpha + 0.5, 0.0, 1.0)


def rectangular_grad(x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    r"""$g'(x) = \frac{1}{\alpha}\,[\,|x| < \alpha/2\,]$: a box of width $\alpha$ and unit area."""
    return (x.abs() < 0.5 * alpha).to(x.dtype) / alpha


_RectangularSpike = make_spike_function(rectangular_grad, "Rectangular")


def rectangular_spike(x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """Step forward, rectangular-window surrogate backward."""
    return _RectangularSpike.apply(x, alpha)


# --- Fast sigmoid (Zenke & Ganguli 2018, SuperSpike) -----------------------------------------------------

def fast_sigmoid_primitive(x: torch.Tensor, alpha: float = 10.0) -> torch.Tensor:
    r"""$g(x) = \frac{1}{2}\left(\frac{\alpha x}{1 + \alpha|x|} + 1\right)$."""
    return 0.5 * (alpha * x / (1 + alpha * x.abs()) + 1)


def fast_sigmoid_grad(x: torch.Tensor, alpha: float = 10.0) -> torch.Tensor:
    r"""$g'(x) = \dfrac{\alpha/2}{(1 + \alpha|x|)^2}$."""
    return 0.5 * alpha / (1 + alpha * x.abs()) ** 2


_FastSigmoidSpike = make_spike_function(fast_sigmoid_grad, "FastSigmoid")


def fast_sigmoid_spike(x: torch.Tensor, alpha: float = 10.0) -> torch.Tensor:
    """Step forward, fast-sigmoid surrogate backward."""
    return _FastSigmoidSpike.apply(x, alpha)


# --- Triangle ------------------------------------------------------------------------------------------

def triangle_primitive(x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    r"""Piecewise quadratic whose derivative is the triangle $g'(x) = \frac{1}{\alpha^2}\max(0, \alpha - |x|)$."""
    c = torch.clamp(x, -alpha, alpha)
    return 0.5 + (c * alpha - c * c.abs() / 2) / alpha**2


def triangle_grad(x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    r"""$g'(x) = \frac{1}{\alpha^2}\max(0, \alpha - |x|)$: unit area, half-width $\alpha$."""
    return torch.clamp(alpha - x.abs(), min=0.0) / alpha**2


_TriangleSpike = make_spike_function(triangle_grad, "Triangle")


def triangle_spike(x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """Step forward, triangle surrogate backward."""
    return _TriangleSpike.apply(x, alpha)


#: name -> (primitive, grad, spike), for tests and labs that sweep over every surrogate.
SURROGATES: dict[str, tuple[Callable[..., torch.Tensor], Callable[..., torch.Tensor], Callable[..., torch.Tensor]]] = {
    "atan": (atan_primitive, atan_grad, atan_spike),
    "sigmoid": (sigmoid_primitive, sigmoid_grad, sigmoid_spike),
    "rectangular": (rectangular_primitive, rectangular_grad, rectangular_spike),
    "fast_sigmoid": (fast_sigmoid_primitive, fast_sigmoid_grad, fast_sigmoid_spike),
    "triangle": (triangle_primitive, triangle_grad, triangle_spike),
}
