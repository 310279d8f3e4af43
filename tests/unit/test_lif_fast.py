"""The fast LIF layer agrees with the readable loop it replaces: identical spikes, input gradients within 1e-6."""

from __future__ import annotations

import functools
import math

import pytest
import torch

from snnref import lif_fast
from snnref.lif_fast import lif_multi_step
from snnref.neuron import if_step, lif_step, multi_step
from snnref.surrogate import SURROGATES

CASES = [
    dict(tau=2.5, v_reset=0.0, decay_input=True),
    dict(tau=2.5, v_reset=None, decay_input=True),
    dict(tau=3.0, v_reset=-0.2, decay_input=False),
    dict(tau=1.7, v_reset=None, decay_input=False),
]


def _reference(x, *, tau, v_th, v_reset, decay_input, surrogate, alpha):
    spike_fn = functools.partial(SURROGATES[surrogate][2], alpha=alpha)
    if math.isinf(tau):
        s, _ = multi_step(if_step, x, v_th=v_th, v_reset=v_reset, spike_fn=spike_fn)
    else:
        s, _ = multi_step(lif_step, x, tau=tau, v_th=v_th, v_reset=v_reset, decay_input=decay_input, spike_fn=spike_fn)
    return s


@pytest.mark.parametrize("case", CASES + [dict(tau=math.inf, v_reset=0.0, decay_input=False)], ids=str)
@pytest.mark.parametrize("surrogate", sorted(SURROGATES))
@pytest.mark.parametrize("whole", [True, False], ids=["whole-sequence", "step-by-step"])
def test_fast_matches_loop(case, surrogate, whole, monkeypatch):
    # Both backward strategies: the terms for all steps at once (small layers) and slice by slice (large ones).
    monkeypatch.setattr(lif_fast, "_WHOLE_SEQUENCE_LIMIT", 1 << 30 if whole else 0)
    torch.manual_seed(0)
    x = (torch.rand(12, 3, 7, dtype=torch.float64) * 1.6).requires_grad_()
    w = torch.randn(12, 3, 7, dtype=torch.float64)  # a generic upstream gradient
    params = dict(case, v_th=0.9, surrogate=surrogate, alpha=1.3)
    ref = _reference(x, **params)
    (g_ref,) = torch.autograd.grad((ref * w).sum(), x)
    fast = lif_multi_step(x, **params)
    (g_fast,) = torch.autograd.grad((fast * w).sum(), x)
    assert torch.equal(fast, ref)
    assert 0 < ref.mean() < 1  # the input does cross threshold, so reset paths are exercised
    torch.testing.assert_close(g_fast, g_ref, rtol=0, atol=1e-6)


def test_fast_matches_loop_in_float32():
    torch.manual_seed(1)
    x = (torch.rand(32, 4, 64) * 1.5).requires_grad_()
    ref = _reference(x, tau=2.0, v_th=1.0, v_reset=0.0, decay_input=True, surrogate="atan", alpha=2.0)
    (g_ref,) = torch.autograd.grad(ref.sum(), x)
    fast = lif_multi_step(x, tau=2.0)
    (g_fast,) = torch.autograd.grad(fast.sum(), x)
    assert torch.equal(fast, ref)
    torch.testing.assert_close(g_fast, g_ref, rtol=0, atol=1e-6)


@pytest.mark.parametrize("kwargs,message", [(dict(tau=0.5), "tau must be >= 1"), (dict(surrogate="relu"), "surrogate"),
                                            (dict(tau=math.inf), "decay_input=False")])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        lif_multi_step(torch.zeros(2, 1), **kwargs)
