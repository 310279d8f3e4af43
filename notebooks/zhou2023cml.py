# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # CML: downsampling with precise gradients (Zhou et al., arXiv 2023)
# Max-pool the ConvBN output *before* the LIF neuron instead of max-pooling its spikes, so that the gradient reaches
# the neuron with the largest input rather than the first one that happened to fire.

# %%
import math
from functools import partial

import matplotlib.pyplot as plt
import torch

from snnref.models.cml import cml_downsample, spike_maxpool_downsample
from snnref.surrogate import atan_grad, atan_spike

torch.manual_seed(0)
dt = torch.float64
tau, v_th, alpha = 1.6, 0.4, 1.7
fn = partial(atan_spike, alpha=alpha)

# %% [markdown]
# **Claim 1 (CML against its definition).** For each time step, take the maximum of the ConvBN output over each
# $k\times k$ window, then run a LIF neuron on it: $H_t = V_{t-1} + (M_t - V_{t-1})/\tau$, $S_t = \Theta(H_t - V_{th})$,
# hard reset. Checked against a loop over windows and time written from this definition, for $k = 2$ and $k = 3$.

# %%  catches: pooling after the neuron, pooling over time, wrong leak, soft instead of hard reset
def reference(x, k):
    T, B, C, H, W = x.shape
    out = torch.zeros(T, B, C, H // k, W // k, dtype=x.dtype)
    for b in range(B):
        for c in range(C):
            for i in range(H // k):
                for j in range(W // k):
                    v = 0.0
                    for t in range(T):
                        m = x[t, b, c, i * k:(i + 1) * k, j * k:(j + 1) * k].max().item()
                        h = v + (m - v) / tau
                        assert abs(h - v_th) > 1e-4  # margin: rounding cannot decide a spike
                        s = 1.0 if h >= v_th else 0.0
                        out[t, b, c, i, j] = s
                        v = h * (1 - s)
    return out


for k, seed in ((2, 1), (3, 2)):
    torch.manual_seed(seed)
    x = torch.randn(5, 2, 3, 6, 6, dtype=dt)
    torch.testing.assert_close(cml_downsample(x, kernel_size=k, tau=tau, v_th=v_th), reference(x, k), rtol=0, atol=0)
# the design CML replaces, also from its definition: a LIF per pixel, then the maximum of the spikes per window
T_, B_, C_, H_, W_ = x.shape
lif_spikes = torch.zeros_like(x)
for idx in torch.cartesian_prod(*[torch.arange(m) for m in (B_, C_, H_, W_)]).tolist():
    v = 0.0
    for t in range(T_):
        h = v + (x[(t, *idx)].item() - v) / tau
        lif_spikes[(t, *idx)] = float(h >= v_th)
        v = h * (1 - float(h >= v_th))
expected_pool = lif_spikes.unfold(3, 3, 3).unfold(4, 3, 3).amax(dim=(-1, -2))
torch.testing.assert_close(spike_maxpool_downsample(x, kernel_size=3, tau=tau, v_th=v_th), expected_pool, rtol=0, atol=0)
try:
    cml_downsample(x, kernel_size=0)
    raise AssertionError("kernel_size=0 must be rejected")
except ValueError:
    pass  # catches: missing validation

# %% [markdown]
# **Claim 2 (same spikes at the first step, different gradients: the paper's argument).** At $t = 1$ the LIF is a
# monotone function of its input, so $\max_i \Theta(X_i/\tau - V_{th}) = \Theta(\max_i X_i/\tau - V_{th})$: both
# designs emit the same spikes. Their gradients differ. In the window $(0.76, 1.28)$ both inputs fire; pooling the
# spikes sends the whole gradient to the *first* firing neuron ($0.76$), CML sends it to the largest input ($1.28$),
# each with the surrogate derivative $g'(X/\tau - V_{th})/\tau$ (ATan, $\alpha = 1.7$).

# %%  catches: gradient routed to the wrong element, surrogate not used, missing 1/tau
x1 = torch.randn(1, 3, 4, 8, 8, dtype=dt)
torch.testing.assert_close(cml_downsample(x1, tau=tau, v_th=v_th), spike_maxpool_downsample(x1, tau=tau, v_th=v_th), rtol=0, atol=0)

win = torch.tensor([0.76, 1.28, 0.10, 0.30], dtype=dt).view(1, 1, 1, 2, 2)  # first and second inputs fire
g_cml = float(atan_grad(torch.tensor(1.28 / tau - v_th, dtype=dt), alpha)) / tau
# anchor the surrogate itself before using it as the oracle: catches a wrong or constant ATan derivative
assert math.isclose(g_cml, (alpha / 2) / (1 + (math.pi / 2 * alpha * (0.8 - 0.4)) ** 2) / 1.6, rel_tol=1e-12)  # closed form
for design, winner in ((spike_maxpool_downsample, 0), (cml_downsample, 1)):
    xg = win.clone().requires_grad_(True)
    out = design(xg, tau=tau, v_th=v_th, spike_fn=fn)
    assert out.requires_grad  # catches: a .detach() in the pooling, the neuron's charge, the spike function or the output
    out.sum().backward()
    grad = xg.grad.flatten()
    expected = torch.zeros(4, dtype=dt)
    expected[winner] = atan_grad(win.flatten()[winner] / tau - v_th, alpha) / tau
    torch.testing.assert_close(grad, expected, rtol=1e-12, atol=0)

# %% [markdown]
# **Claim 3 (beyond one step the designs are different functions).** With a leaky state the two orders no longer
# commute (a window's maximum can switch between neurons over time), and CML keeps one neuron per window instead of
# $k^2$. We check that the two designs differ on a random sequence and that CML's state is per window: its output
# equals a single LIF driven by the sequence of window maxima.

# %%  catches: a shared state across windows, a state per input pixel
# two pixels that take turns being the maximum: neither reaches threshold alone, their running maximum does
xa = torch.tensor([[0.6, 0.0], [0.0, 0.0]], dtype=dt)
xb = torch.tensor([[0.0, 0.6], [0.0, 0.0]], dtype=dt)
x2 = torch.stack([xa, xb]).view(2, 1, 1, 2, 2)
torch.testing.assert_close(cml_downsample(x2, tau=tau, v_th=v_th).flatten(), torch.tensor([0.0, 1.0], dtype=dt), rtol=0, atol=0)
torch.testing.assert_close(spike_maxpool_downsample(x2, tau=tau, v_th=v_th).flatten(), torch.tensor([0.0, 0.0], dtype=dt), rtol=0, atol=0)
torch.manual_seed(3)
xs = torch.randn(12, 1, 1, 2, 2, dtype=dt) * 1.2
m_seq = xs.amax(dim=(-1, -2), keepdim=True)  # [T, 1, 1, 1, 1] window maximum
torch.testing.assert_close(cml_downsample(xs, tau=tau, v_th=v_th), cml_downsample(m_seq, kernel_size=1, tau=tau, v_th=v_th), rtol=0, atol=0)

# %%
fig, ax = plt.subplots(1, 2, figsize=(9, 3))
labels = ["0.76", "1.28", "0.10", "0.30"]
for a, design, name in ((ax[0], spike_maxpool_downsample, "MaxPool(LIF(X))"), (ax[1], cml_downsample, "CML: LIF(MaxPool(X))")):
    xg = win.clone().requires_grad_(True)
    out = design(xg, tau=tau, v_th=v_th, spike_fn=fn)
    assert out.requires_grad
    out.sum().backward()
    a.bar(labels, xg.grad.flatten().numpy())
    a.set_title(name); a.set_xlabel("input in the 2x2 window"); a.set_ylabel("gradient")
plt.tight_layout()
plt.show()

# %% [markdown]
# Verified: CML equals a loop over windows and time written from its definition; at the first time step it emits the
# same spikes as pooling the spikes, but routes the gradient to the largest input (with the analytic surrogate value)
# instead of the first firing one; over time it is a different function, with one LIF state per window.
