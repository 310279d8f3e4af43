r"""Two-stage (dual-phase) conversion: a noisy quantization-clip activation, then the residual-potential error.

Stage I trains the ANN with the staircase a reset-by-subtraction IF neuron computes over $T$ steps, rounding each
element only with probability $1 - p$ so the network also sees its unquantized input (noisy quantization):

$$\hat a = \theta\,\mathrm{clip}\!\left(\frac{1}{T}\big(u + m\,(\lfloor u \rceil - u)\big), 0, 1\right),\qquad
u = \frac{zT}{\theta},\quad m \sim \mathrm{Bernoulli}(1 - p),$$

with a trainable threshold $\theta$ and the rounding's gradient passed straight through; at inference $m = 1$.
Converted with threshold $\theta$, reset by subtraction and $V_0 = \theta/2$, an IF neuron under an even input
reproduces $\hat a$ exactly. What is left is the **residual membrane potential representation error**
$e_r = \phi - \hat a(\bar x)$: the IF output obeys $\phi = \frac{\theta N}{T} = \bar x + \frac{V_0 - V_T}{T}$,
so $e_r \ne 0$ only when the residual potential $V_T$ leaves $[0, \theta)$ (negative or overflowing); Stage II
fine-tunes the SNN layer by layer to shrink it.

Paper: wang2023twostage (Stage I: the official ``NoisyQC`` activation; the three-part error decomposition named in
the abstract; the paper's section and equation numbers could not be confirmed).
"""

from __future__ import annotations

import torch
from torch import nn

from snnref.neuron import if_step, multi_step
from snnref.surrogate import heaviside


class _RoundSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return torch.round(x)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return grad_out


def noisy_quantize_clip(z: torch.Tensor, *, theta: float | torch.Tensor, T: int, m: torch.Tensor) -> torch.Tensor:
    r"""Stage-I activation $\theta\,\mathrm{clip}(\frac{1}{T}(u + m(\lfloor u \rceil - u)), 0, 1)$, $u = zT/\theta$.

    ``m`` is 1 where the element is quantized and 0 where it passes unquantized (all ones at inference).
    Paper: wang2023twostage, Stage I (official ``NoisyQC.forward``).
    """
    u = z * T / theta
    # quantize only where m = 1; the rounding's gradient is the identity (straight through)
    u = u + m * (_RoundSTE.apply(u) - u)
    return theta * (u / T).clamp(0, 1)


def quantization_mask(shape: torch.Size | tuple[int, ...], *, p: float, generator: torch.Generator | None = None,
                      dtype: torch.dtype = torch.float64) -> torch.Tensor:
    r"""$m \sim \mathrm{Bernoulli}(1 - p)$ per element: each activation is quantized with probability $1 - p$."""
    # P(m = 1) = P(U >= p) = 1 - p for U uniform on [0, 1)
    return (torch.rand(tuple(shape), generator=generator, dtype=dtype) >= p).to(dtype)


class NoisyQC(nn.Module):
    """Stage-I activation layer with a trainable threshold ``theta``; random mask in training, ``m = 1`` in eval."""

    def __init__(self, *, T: int, theta: float = 1.0, p: float = 0.1):
        super().__init__()
        if not (isinstance(T, int) and T >= 1):
            raise ValueError(f"T must be an integer >= 1, got {T!r}")
        if not theta > 0:
            raise ValueError(f"theta must be > 0, got {theta!r}")
        if not 0 <= p <= 1:
            raise ValueError(f"p must be in [0, 1], got {p!r}")
        self.T, self.p = T, p
        self.theta = nn.Parameter(torch.tensor(float(theta)))

    def forward(self, z: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        m = (quantization_mask(z.shape, p=self.p, generator=generator, dtype=z.dtype) if self.training
             else torch.ones_like(z))
        return noisy_quantize_clip(z, theta=self.theta, T=self.T, m=m)


@torch.no_grad()
def residual_potential_error(x_seq: torch.Tensor, *, theta: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""Run a soft-reset IF neuron from $V_0 = \theta/2$ on ``x_seq`` [T, B, ...]; return $(\phi, e_r, V_T)$.

    $\phi = \theta N/T$ is the emitted average, $e_r = \phi - \hat a(\bar x)$ the residual membrane potential
    representation error against the Stage-I activation of the mean input, $V_T$ the residual potential.
    Paper: wang2023twostage, abstract (conversion error = quantization + clipping + residual-potential error).
    """
    T = len(x_seq)
    v0 = torch.full_like(x_seq[0], fill_value=0.5 * theta)
    spikes, states = multi_step(if_step, x_seq=x_seq, state=v0, v_th=theta, v_reset=None, spike_fn=heaviside)
    phi = theta * sum(spikes) / T  # [B, ...]
    target = noisy_quantize_clip(sum(x_seq) / T, theta=theta, T=T, m=torch.ones_like(phi))
    return phi, phi - target, states[-1]
