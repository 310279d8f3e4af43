"""The shared core: every surrogate and neuron step against independent definitions."""

from __future__ import annotations

import functools
import math

import pytest
import torch

from snnref.neuron import IF, LIF, fire, if_charge, if_step, lif_charge, lif_step, multi_step, reset
from snnref.surrogate import SURROGATES, heaviside

ALPHAS = {"atan": 2.7, "sigmoid": 3.3, "rectangular": 0.8, "fast_sigmoid": 7.0, "triangle": 1.3}


@pytest.mark.parametrize("name", sorted(SURROGATES))
def test_surrogate_forward_is_the_step(name):
    _, _, spike = SURROGATES[name]
    eps = 1e-12
    x = torch.tensor([-1.0, -eps, 0.0, eps, 1.0], dtype=torch.float64)
    assert spike(x, ALPHAS[name]).tolist() == [0.0, 0.0, 1.0, 1.0, 1.0]  # fires at x >= 0
    assert heaviside(x).tolist() == [0.0, 0.0, 1.0, 1.0, 1.0]


@pytest.mark.parametrize("name", sorted(SURROGATES))
def test_surrogate_backward_is_the_primitive_derivative(name):
    primitive, grad, spike = SURROGATES[name]
    alpha = ALPHAS[name]
    # Points away from the kinks of the piecewise surrogates, where a central difference is exact to O(h^2).
    x = torch.linspace(-1.9, 1.9, 39, dtype=torch.float64) + 0.0137
    h = 1e-6
    fd = (primitive(x + h, alpha) - primitive(x - h, alpha)) / (2 * h)
    torch.testing.assert_close(grad(x, alpha), fd, rtol=1e-6, atol=1e-7)
    xr = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(spike(xr, alpha).sum(), xr)
    torch.testing.assert_close(g, grad(x, alpha), rtol=0, atol=0)  # the Function uses exactly grad
    # The primitive is a smoothed step: 0 far left, 1 far right, 1/2 at 0.
    assert math.isclose(primitive(torch.tensor(0.0, dtype=torch.float64), alpha).item(), 0.5, abs_tol=1e-12)
    assert primitive(torch.tensor(-50.0, dtype=torch.float64), alpha).item() < 0.02
    assert primitive(torch.tensor(50.0, dtype=torch.float64), alpha).item() > 0.98


def test_surrogate_closed_form_anchors():
    """One closed-form value each, so a primitive and its gradient cannot drift by the same factor unnoticed."""
    z = torch.tensor(0.0, dtype=torch.float64)
    assert math.isclose(SURROGATES["atan"][1](z, 2.7).item(), 2.7 / 2)
    assert math.isclose(SURROGATES["sigmoid"][1](z, 3.3).item(), 3.3 / 4)
    assert math.isclose(SURROGATES["rectangular"][1](z, 0.8).item(), 1 / 0.8)
    assert math.isclose(SURROGATES["fast_sigmoid"][1](z, 7.0).item(), 7.0 / 2)
    assert math.isclose(SURROGATES["triangle"][1](z, 1.3).item(), 1 / 1.3)


def _loop(xs, *, tau, v_th, v_reset, decay_input, leaky=True):
    """LIF/IF written from the definitions, one scalar operation at a time."""
    v, spikes, vs = torch.zeros_like(xs[0]), [], []
    rest = 0.0 if v_reset is None else v_reset
    for x in xs:
        if not leaky:
            h = v + x
        elif decay_input:
            h = v + (x - (v - rest)) / tau
        else:
            h = v - (v - rest) / tau + x
        s = (h >= v_th).to(xs.dtype)
        v = h - v_th * s if v_reset is None else h * (1 - s) + v_reset * s
        spikes.append(s)
        vs.append(v)
    return torch.stack(spikes), torch.stack(vs)


@pytest.mark.parametrize("v_reset", [None, 0.0, -0.3], ids=["soft", "hard0", "hard-0.3"])
@pytest.mark.parametrize("decay_input", [True, False])
def test_lif_step_matches_its_definition(v_reset, decay_input):
    torch.manual_seed(0)
    xs = torch.rand(15, 3, 8, dtype=torch.float64) * (1.9 if decay_input else 0.9)
    s_ref, v_ref = _loop(xs, tau=2.6, v_th=0.7, v_reset=v_reset, decay_input=decay_input)
    s, vs = multi_step(lif_step, xs, tau=2.6, v_th=0.7, v_reset=v_reset, decay_input=decay_input)
    assert 0.05 < s_ref.mean() < 0.95
    assert torch.equal(s, s_ref)
    torch.testing.assert_close(torch.stack(vs), v_ref, rtol=1e-13, atol=1e-13)
    module = LIF(tau=2.6, v_th=0.7, v_reset=v_reset, decay_input=decay_input)
    assert torch.equal(module(xs), s_ref)  # the module only loops the functional step


@pytest.mark.parametrize("v_reset", [None, 0.0], ids=["soft", "hard"])
def test_if_step_matches_its_definition(v_reset):
    torch.manual_seed(1)
    xs = torch.rand(15, 3, 8, dtype=torch.float64) * 0.6
    s_ref, v_ref = _loop(xs, tau=None, v_th=0.9, v_reset=v_reset, decay_input=False, leaky=False)
    s, vs = multi_step(if_step, xs, v_th=0.9, v_reset=v_reset)
    assert torch.equal(s, s_ref) and 0.05 < s_ref.mean() < 0.95
    torch.testing.assert_close(torch.stack(vs), v_ref, rtol=1e-13, atol=1e-13)
    assert torch.equal(IF(v_th=0.9, v_reset=v_reset)(xs), s_ref)


def test_reset_identities_and_detach():
    h = torch.tensor([0.3, 1.2, 2.5], dtype=torch.float64, requires_grad=True)
    s = fire(h, v_th=1.0, spike_fn=functools.partial(SURROGATES["atan"][2], alpha=2.7))
    assert s.tolist() == [0.0, 1.0, 1.0]
    torch.testing.assert_close(reset(h, s, v_th=1.0, v_reset=None), h - s)  # soft: subtract the threshold
    torch.testing.assert_close(reset(h, s, v_th=1.0, v_reset=-0.5), torch.where(s.bool(), -0.5, h))  # hard
    g_kept = torch.autograd.grad(reset(h, s, v_th=1.0, v_reset=None).sum(), h)[0]
    g_cut = torch.autograd.grad(reset(h, s, v_th=1.0, v_reset=None, detach_reset=True).sum(), h, )[0]
    torch.testing.assert_close(g_cut, torch.ones_like(h))  # detached: only the identity path remains
    expected = 1 - SURROGATES["atan"][1](h.detach() - 1.0, 2.7)
    torch.testing.assert_close(g_kept, expected)  # kept: d(h - s)/dh = 1 - sigma'(h - v_th)


def test_charges():
    v, x = torch.tensor(0.4, dtype=torch.float64), torch.tensor(1.1, dtype=torch.float64)
    assert math.isclose(if_charge(x, v).item(), 1.5)
    assert math.isclose(lif_charge(x, v, tau=2.6, v_rest=0.1).item(), 0.4 + (1.1 - 0.3) / 2.6)
    assert math.isclose(lif_charge(x, v, tau=2.6, v_rest=0.1, decay_input=False).item(), 0.4 - 0.3 / 2.6 + 1.1)


@pytest.mark.parametrize("kwargs,message", [(dict(tau=0.5), "tau"), (dict(v_th=0.0), "v_th")])
def test_module_arguments_are_validated(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LIF(**kwargs)
