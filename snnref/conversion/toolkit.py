r"""The shared ANN-to-SNN converter: fold BatchNorm, pick thresholds, swap activations for IF neurons, simulate.

A trained ``nn.Sequential`` of ``Linear``, ``Conv2d``, ``AvgPool2d``, ``Flatten``, ``Dropout`` and activation modules
(``nn.ReLU`` by default; a paper's own activation class via ``activations=``) becomes an SNN in which

- every linear module runs unchanged on each time step (a bias is a constant input current);
- every activation becomes a :class:`SpikingNeuron` with threshold $\theta^l$ that emits $\theta^l S^l_t$, so
  its time-averaged output $\phi^l = \theta^l N^l/T$ approximates the ANN activation $a^l$ directly;
- the last module, if it is linear, is a non-spiking read-out: the SNN output is the time average of its input.

Emitting $\theta^l S_t$ into unscaled weights gives the same spike trains as Rueckauer's weight normalization
($W^l \to W^l\theta^{l-1}/\theta^l$, $b^l \to b^l/\theta^l$, all thresholds 1; see :func:`normalize_weights`).

API (time-first ``[T, B, ...]``; ``x`` is one analog batch ``[B, ...]``):

- :func:`fold_batchnorm` (model) -> model without BatchNorm;
- :func:`activation_values` / :func:`compute_thresholds` (``method="max" | "percentile"``) / :func:`threshold_balancing`
  choose $\theta^l$ per activation layer;
- :func:`convert` (model, thresholds, ``v_reset``, ``v0_frac``, ``step``, ``step_params``, ``init_state``) -> SNN;
- :func:`constant_input`, :func:`simulate`, :func:`simulate_layers`, :func:`snn_output` run it;
  :func:`cumulative_mean` gives the output after every $t \le T$;
- :func:`normalize_weights` gives Rueckauer's explicitly rescaled network (unit thresholds), same spike trains.

The conversion error per layer (clipping / quantization / unevenness) is :mod:`snnref.conversion.errors`
(``quantized_clip``, ``decompose_conversion_error``, ``layer_conversion_errors``).

Neuron hook: ``step(x, state, *, v_th, v_reset, **step_params) -> (s, state)`` with the call convention of
:func:`snnref.neuron.if_step` (the default, soft reset with ``v_reset=None``); the layer emits ``v_th * s``, so ``s``
may be binary, signed, a burst count or a phase weight. ``init_state(x0, v_th, v0_frac)`` builds a non-tensor state.
"""

from __future__ import annotations

import copy
from typing import Any, Callable, Mapping, Sequence

import torch
from torch import nn

from snnref.neuron import if_step, multi_step
from snnref.surrogate import heaviside

NeuronStep = Callable[..., tuple[torch.Tensor, Any]]
InitState = Callable[[torch.Tensor, Any, float], Any]
LINEAR_TYPES = (nn.Linear, nn.Conv2d, nn.AvgPool2d, nn.Flatten, nn.Dropout, nn.Identity)


def fold_batchnorm(model: nn.Sequential) -> nn.Sequential:
    r"""Fold each BatchNorm into the Linear/Conv2d before it: $W' = \gamma W/\sigma$, $b' = \gamma(b - \mu)/\sigma + \beta$.

    $\sigma = \sqrt{\mathrm{Var} + \epsilon}$ uses the running statistics, so the result equals ``model.eval()``.
    """
    layers: list[nn.Module] = []
    for m in model:
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            prev = layers[-1] if layers else None
            if not isinstance(prev, (nn.Linear, nn.Conv2d)):
                raise ValueError(f"BatchNorm must follow a Linear or Conv2d, got {type(prev).__name__}")
            gamma = m.weight if m.affine else torch.ones_like(m.running_mean)
            beta = m.bias if m.affine else torch.zeros_like(m.running_mean)
            scale = gamma / torch.sqrt(m.running_var + m.eps)
            bias = prev.bias if prev.bias is not None else torch.zeros_like(m.running_mean)
            fused = copy.deepcopy(prev)
            shape = (-1,) + (1,) * (prev.weight.dim() - 1)  # one scale per output unit / channel
            fused.weight = nn.Parameter((prev.weight * scale.reshape(shape)).detach())
            fused.bias = nn.Parameter(((bias - m.running_mean) * scale + beta).detach())
            layers[-1] = fused
        else:
            layers.append(copy.deepcopy(m))
    return nn.Sequential(*layers)


def activation_values(model: nn.Sequential, x: torch.Tensor, *, activations: tuple[type, ...] = (nn.ReLU,)
                      ) -> list[torch.Tensor]:
    """The ANN's output of every activation module on ``x``, in order (one tensor per layer)."""
    values = []
    with torch.no_grad():
        for m in model:
            x = m(x)
            if isinstance(m, activations):
                values.append(x)
    return values


def compute_thresholds(model: nn.Sequential, x: torch.Tensor, *, method: str = "max", p: float = 99.99,
                       nonzero: bool = False, activations: tuple[type, ...] = (nn.ReLU,)) -> list[float]:
    r"""Data-based $\theta^l$ per activation layer: its maximum, or its $p$-th percentile (Rueckauer et al. 2017).

    ``nonzero`` takes the percentile over the non-zero activations only, as the official SNN toolbox does.
    Paper: rueckauer2017conversion, Sec. 2.2.2 ($\lambda^l$ = max or $p$-percentile of the layer's activations).
    """
    if method not in ("max", "percentile"):
        raise ValueError(f"method must be 'max' or 'percentile', got {method!r}")
    if not 0 < p <= 100:
        raise ValueError(f"p must be in (0, 100], got {p!r}")
    values = [a.flatten().double() for a in activation_values(model, x, activations=activations)]
    return [torch.quantile(a[a != 0] if nonzero else a, 1.0 if method == "max" else p / 100).item() for a in values]


class TimeDistributed(nn.Module):
    """Apply a stateless module to every time step of ``[T, B, ...]`` at once."""

    def __init__(self, module: nn.Module):
        super().__init__()
        self.module = module

    def forward(self, x_seq: torch.Tensor) -> torch.Tensor:
        T, B = x_seq.shape[:2]
        y = self.module(x_seq.reshape(T * B, *x_seq.shape[2:]))
        return y.unflatten(0, (T, B))   # [T, B, ...]


def _default_state(x0: torch.Tensor, v_th: Any, v0_frac: float) -> torch.Tensor:
    return torch.zeros_like(x0) + v0_frac * v_th


class SpikingNeuron(nn.Module):
    r"""A layer of IF-type neurons over ``[T, B, ...]`` that emits $\theta S_t$; holds parameters, loops with ``step``.

    $V_0 = $ ``v0_frac`` $\cdot\,\theta$ (0, or $\theta/2$ as in Bu et al. 2022), reset to ``v_reset`` or by subtraction.
    """

    def __init__(self, *, v_th: float | torch.Tensor, v_reset: float | None = None, v0_frac: float = 0.0,
                 step: NeuronStep = if_step, step_params: Mapping[str, Any] | None = None,
                 init_state: InitState | None = None):
        super().__init__()
        if not torch.all(torch.as_tensor(v_th) > 0):
            raise ValueError(f"v_th must be > 0, got {v_th!r}")
        self.v_th, self.v_reset, self.v0_frac, self.step = v_th, v_reset, v0_frac, step
        defaults = {"spike_fn": heaviside} if step is if_step else {}   # conversion fires with a plain step
        self.params = {"v_reset": v_reset, **defaults, **(step_params or {})}
        self.init_state = init_state or _default_state

    def forward(self, x_seq: torch.Tensor) -> torch.Tensor:
        state = self.init_state(x_seq[0], self.v_th, self.v0_frac)
        spikes, _ = multi_step(self.step, x_seq, state, v_th=self.v_th, **self.params)
        return self.v_th * spikes  # [T, B, ...]


def convert(model: nn.Sequential, thresholds: Sequence[float | torch.Tensor], *, v_reset: float | None = None,
            v0_frac: float = 0.0, step: NeuronStep = if_step, step_params: Mapping[str, Any] | None = None,
            init_state: InitState | None = None, activations: tuple[type, ...] = (nn.ReLU,)) -> nn.Sequential:
    """Replace the k-th activation of ``model`` by a :class:`SpikingNeuron` with ``v_th=thresholds[k]``.

    Linear modules are copied and wrapped in :class:`TimeDistributed`; fold BatchNorm first (:func:`fold_batchnorm`).
    """
    n_act = sum(isinstance(m, activations) for m in model)
    if n_act != len(thresholds):
        raise ValueError(f"thresholds has {len(thresholds)} entries, model has {n_act} activation layers")
    theta = iter(thresholds)  # consumed in layer order: no counter to get wrong
    layers: list[nn.Module] = []
    for m in model:
        if isinstance(m, activations):
            layers.append(SpikingNeuron(v_th=next(theta), v_reset=v_reset, v0_frac=v0_frac, step=step,
                                        step_params=step_params, init_state=init_state))
        elif isinstance(m, LINEAR_TYPES):
            layers.append(TimeDistributed(copy.deepcopy(m)))
        else:
            raise ValueError(f"cannot convert module {type(m).__name__}; fold BatchNorm first, no MaxPool")
    return nn.Sequential(*layers).eval()


def constant_input(x: torch.Tensor, T: int) -> torch.Tensor:
    """Direct (analog) coding: the same input current ``x`` [B, ...] at each of ``T`` steps -> [T, B, ...]."""
    if T < 1:
        raise ValueError(f"T must be >= 1, got {T!r}")
    return x.unsqueeze(0).expand(T, *x.shape)


def simulate_layers(snn: nn.Sequential, x_seq: torch.Tensor) -> list[torch.Tensor]:
    """The output sequence [T, B, ...] of every module of ``snn``, in order (input to layer i = output of i-1)."""
    outs = []
    with torch.no_grad():
        for m in snn:
            x_seq = m(x_seq)
            outs.append(x_seq)
    return outs


def simulate(snn: nn.Sequential, x_seq: torch.Tensor) -> torch.Tensor:
    """The SNN's last-layer output sequence [T, B, ...]."""
    return simulate_layers(snn, x_seq)[-1]


def cumulative_mean(seq: torch.Tensor) -> torch.Tensor:
    r"""$\frac{1}{t}\sum_{\tau \le t} y_\tau$ for every $t$: the rate read out after $t$ steps, [T, B, ...]."""
    t = torch.arange(1, seq.shape[0] + 1, dtype=seq.dtype).reshape((-1,) + (1,) * (seq.dim() - 1))
    return seq.cumsum(0) / t


def snn_output(snn: nn.Sequential, x: torch.Tensor, *, T: int) -> torch.Tensor:
    """Time-averaged output of ``snn`` under constant input ``x`` for ``T`` steps (firing rate x threshold)."""
    return simulate(snn, constant_input(x, T)).mean(0)


def threshold_balancing(model: nn.Sequential, x_seq: torch.Tensor, *, v_reset: float | None = None,
                        activations: tuple[type, ...] = (nn.ReLU,), **convert_kwargs: Any) -> list[float]:
    r"""Spike-based threshold balancing (Sengupta et al. 2019): layer by layer, $\theta^l$ = max SNN input current.

    Layers before $l$ already carry their balanced thresholds; the max is over time, batch and neurons of ``x_seq``.
    """
    n = len(activation_values(model, x_seq[0], activations=activations))
    # Placeholders for the layers not balanced yet: they lie after layer l, so they cannot change its input.
    thresholds = [1.0] * n
    for l in range(n):
        snn = convert(model, thresholds, v_reset=v_reset, activations=activations, **convert_kwargs)
        outs = simulate_layers(snn, x_seq)
        idx = [i for i, m in enumerate(snn) if isinstance(m, SpikingNeuron)][l]
        current = outs[idx - 1] if idx > 0 else x_seq
        thresholds[l] = current.max().item()
    return thresholds


def normalize_weights(model: nn.Sequential, thresholds: Sequence[float], *,
                      activations: tuple[type, ...] = (nn.ReLU,)) -> nn.Sequential:
    r"""Rueckauer weight normalization: $W^l \to W^l\lambda^{l-1}/\lambda^l$, $b^l \to b^l/\lambda^l$ ($\lambda^0 = 1$).

    The read-out after the last activation keeps $\lambda = 1$ so it stays in ANN units. Convert the result with
    unit thresholds. Paper: rueckauer2017conversion, Eq. (6).
    """
    layers = [copy.deepcopy(m) for m in model]
    lam = list(thresholds) + [1.0]
    k, prev = 0, 1.0
    for m in layers:
        if isinstance(m, activations):
            prev, k = lam[k], k + 1
        elif isinstance(m, (nn.Linear, nn.Conv2d)):
            with torch.no_grad():
                m.weight.mul_(prev / lam[k])
                if m.bias is not None:
                    m.bias.div_(lam[k])
    return nn.Sequential(*layers)
