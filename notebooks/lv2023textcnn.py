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
# # Spiking TextCNN: word embeddings as spike trains (Lv et al., ICLR 2023)
# Standardise, clip and shift pre-trained word embeddings into $[0, 1]$, fire Bernoulli spikes at that rate, and run
# a converted TextCNN (average-pooling, ReLU → spiking neurons) on the spike matrix.

# %%
import math
from functools import partial

import matplotlib.pyplot as plt
import torch

from snnref.models.spiking_textcnn import embedding_to_rate, rate_encode, spiking_text_conv, text_conv_current
from snnref.surrogate import fast_sigmoid_spike

torch.set_num_threads(1)
torch.manual_seed(0)
dt = torch.float64

# %% [markdown]
# **Claim 1 (the embedding encoding).** $p = \big(\mathrm{clip}((e-\mu)/\sigma, -b, b) + b\big)/(2b)$ lies in
# $[0, 1]$, maps $e = \mu$ to $\tfrac12$ and $\mu \pm b\sigma$ (and anything beyond) to $1$ and $0$, and is inverted
# by $e = \mu + \sigma(2bp - b)$ inside the clip range. The Bernoulli spike train fires at rate $p$ in expectation:
# $\mathbb{E}[\frac1T\sum_t S_t] = p$, checked within 5 binomial standard errors at $T = 20000$. The map is piecewise
# linear: $\partial p/\partial e = 1/(2b\sigma)$ inside the clip range and 0 outside (autograd).

# %%  catches: missing clip, shift by b/2, scale by b instead of 2b, mean/std swapped, spikes at 1 - p
mu, sigma = 0.13, 0.41
for b in (3.0, 2.5):
    z = torch.tensor([-4.1, -b, -1.3, 0.0, 0.7, 2.2, b, 3.6], dtype=dt)
    e = mu + sigma * z
    p = embedding_to_rate(e, mu=mu, sigma=sigma, b=b)
    assert isinstance(p, torch.Tensor) and p.shape == z.shape  # catches: a constant returned in place of the map
    expected = [(min(max(zi, -b), b) + b) / (2 * b) for zi in z.tolist()]  # from the definition, in Python floats
    torch.testing.assert_close(p, torch.tensor(expected, dtype=dt), rtol=0, atol=1e-15)
    assert p[0].item() == 0.0 and p[-1].item() == 1.0 and math.isclose(p[3].item(), 0.5, abs_tol=1e-15)
    inside = z.abs() <= b
    torch.testing.assert_close(mu + sigma * (2 * b * p[inside] - b), e[inside], rtol=0, atol=1e-14)  # inverse map
    eg = e[[0, 2, 3, 4, 5, 7]].clone().requires_grad_(True)  # away from the kinks at +-b
    pg = embedding_to_rate(eg, mu=mu, sigma=sigma, b=b)
    assert pg.requires_grad  # catches: a detached map
    pg.sum().backward()
    slope = torch.tensor([0.0, 1, 1, 1, 1, 0], dtype=dt) / (2 * b * sigma)
    torch.testing.assert_close(eg.grad, slope, rtol=1e-12, atol=0)  # catches: wrong scale, clip not cutting the slope
p_half = embedding_to_rate(torch.tensor(mu + 1.5 * sigma, dtype=dt), mu=mu, sigma=sigma)  # default b = 3
assert math.isclose(p_half.item(), 0.75)  # catches: a default b other than the official 3

g = torch.Generator().manual_seed(1)
T = 20000
p = torch.tensor([0.0, 0.07, 0.31, 0.5, 0.83, 1.0], dtype=dt)
s = rate_encode(p, T=T, generator=g)  # [T, 6]
assert s.shape == (T, 6) and s.dtype == dt and set(s.unique().tolist()) <= {0.0, 1.0}  # binary spikes
rate = s.mean(0)
se = torch.sqrt(p * (1 - p) / T)
assert (rate - p).abs().max().item() <= (5 * se).max().item() + 1e-12  # rate = p in expectation
assert rate[0].item() == 0.0 and rate[-1].item() == 1.0  # p = 0 never fires, p = 1 always fires
assert s[:, 2].std().item() > 0.4  # not a deterministic pattern with the right count: a real Bernoulli draw
for bad in (lambda: embedding_to_rate(e, mu=mu, sigma=0.0), lambda: embedding_to_rate(e, mu=mu, sigma=1.0, b=0.0),
            lambda: rate_encode(p, T=0), lambda: spiking_text_conv(s[:, None, None], torch.ones(1, 1, 6, dtype=dt),
                                                                   torch.zeros(1, dtype=dt), tau=1.0)):
    try:
        bad()
        raise AssertionError("invalid argument must be rejected")
    except ValueError:
        pass  # catches: missing validation

# %% [markdown]
# **Claim 2 (conversion of the tailored TextCNN).** The spiking layer's input current is the tailored network's
# pre-activation $a_f = \frac{1}{L-k+1}\sum_{j=1}^{L-k+1}\sum_{i<k,\,d} W_{f,i,d}\,x_{j+i,d} + c_f$
# (average-pooling over positions), checked against a loop. Driven by the rates themselves, an IF neuron with soft
# reset fires $N_T = \lfloor T\,\mathrm{clip}(a_f, 0, 1)\rfloor$ times ($V_{th}=1$, $V_0=0$), so its rate is the
# clipped ReLU of the ANN to within $1/T$: the conversion identity the method relies on.

# %%  catches: wrong conv window, max- instead of average-pooling, pooling over the wrong axis, hard reset, bias dropped
B, L, D, F, k = 2, 7, 5, 6, 3
x = torch.rand(B, L, D, dtype=dt, generator=g)  # rates in [0, 1]
w = (torch.rand(F, k, D, dtype=dt, generator=g) - 0.3) * 0.3
c = torch.tensor([0.05, -0.6, 0.3, 0.013, 0.6, -0.1], dtype=dt)
a = torch.zeros(B, F, dtype=dt)
for bi in range(B):
    for f in range(F):
        acc = 0.0
        for j in range(L - k + 1):
            acc += sum(w[f, i, d].item() * x[bi, j + i, d].item() for i in range(k) for d in range(D))
        a[bi, f] = acc / (L - k + 1) + c[f]
torch.testing.assert_close(text_conv_current(x[None], w, c)[0], a, rtol=0, atol=1e-13)
assert a.min().item() < 0 and a.max().item() > 1 and ((a > 0.05) & (a < 0.95)).sum().item() >= 4  # all regimes

T = 300
spikes = spiking_text_conv(x[None].expand(T, B, L, D), w, c, tau=None)  # IF, soft reset
assert isinstance(spikes, torch.Tensor) and spikes.shape == (T, B, F)  # catches: membrane states returned, not spikes
count = spikes.sum(0)
expected = torch.floor(T * a.clamp(0, 1))
frac = T * a.clamp(0, 1) - expected
assert ((frac > 1e-6) | (a <= 0) | (a >= 1)).all()  # no count decided by rounding
torch.testing.assert_close(count, expected, rtol=0, atol=0)  # N_T = floor(T clip(a, 0, 1)) exactly
assert (count / T - a.clamp(0, 1)).abs().max().item() <= 1 / T

# %% [markdown]
# **Claim 3 (the LIF of the fine-tuned SNN).** snnTorch's ``Leaky`` used by the official code is
# $H_t = \beta V_{t-1} + I_t$, $S_t = \Theta(H_t - 1)$, $V_t = H_t - S_t$. Our layer with $\tau = 1/(1-\beta)$
# reproduces a loop written from that recurrence spike for spike ($\beta = 0.85$), on Bernoulli-encoded inputs.

# %%  catches: input scaled by 1/tau (decay_input), hard reset, wrong beta, time index shifted
beta, T = 0.85, 40
p_in = embedding_to_rate(mu + sigma * torch.randn(B, L, D, dtype=dt, generator=g), mu=mu, sigma=sigma)
s_in = rate_encode(p_in, T=T, generator=g)  # [T, B, L, D]
w3 = w * 2.2
cur = text_conv_current(s_in, w3, c)  # [T, B, F]
out = spiking_text_conv(s_in, w3, c, tau=1 / (1 - beta))
assert isinstance(out, torch.Tensor) and out.shape == (T, B, F)  # catches: membrane states returned, not spikes
v = torch.zeros(B, F, dtype=dt)
ref, margin = [], math.inf
for t in range(T):
    h = beta * v + cur[t]
    margin = min(margin, (h - 1.0).abs().min().item())
    st = (h >= 1.0).to(dt)
    v = h - st
    ref.append(st)
ref = torch.stack(ref)
assert margin > 1e-9  # no spike decided by rounding
assert 0.05 < ref.mean().item() < 0.7  # the neurons do fire, and not always
torch.testing.assert_close(out, ref, rtol=0, atol=0)

# %% [markdown]
# **Claim 4 (surrogate gradient for fine-tuning).** At $T = 1$, $\partial S_f/\partial c_f = g'(a_f - V_{th})$ and
# $\partial S_f/\partial W_{f,i,d} = g'(a_f - V_{th})\,\frac{1}{L-k+1}\sum_j s_{j+i,d}$, with the fast-sigmoid
# surrogate $g'(x) = \frac{\alpha/2}{(1+\alpha|x|)^2}$ (snnref's scaling; the official code uses snnTorch's
# $\frac{1}{(1 + 25|x|)^2}$), $\alpha = 25$, $V_{th} = 0.7$. Both for the LIF of the fine-tuned SNN and for the IF
# ($\tau$ = None) of the converted one.

# %%  catches: detached current, gradient not flowing through the pooling, wrong surrogate slope or threshold
alpha, v_th = 25.0, 0.7
s1 = rate_encode(p_in, T=1, generator=g)
a1 = text_conv_current(s1, w3, c)[0]  # with V_0 = 0, H_1 = I_1
gp = (alpha / 2) / (1 + alpha * (a1 - v_th).abs()) ** 2  # [B, F]
win = torch.stack([s1[0, :, i:i + L - k + 1, :].mean(1) for i in range(k)], 1)  # [B, k, D] mean over positions
for tau in (1 / (1 - beta), None):
    w1 = w3.clone().requires_grad_(True)
    c1 = c.clone().requires_grad_(True)
    out1 = spiking_text_conv(s1, w1, c1, tau=tau, v_th=v_th, spike_fn=partial(fast_sigmoid_spike, alpha=alpha))
    assert out1.requires_grad  # catches: a detached current, charge or spike output
    out1.sum().backward()
    torch.testing.assert_close(c1.grad, gp.sum(0), rtol=1e-12, atol=0)
    torch.testing.assert_close(w1.grad, torch.einsum("bf,bkd->fkd", gp, win), rtol=1e-12, atol=1e-15)

# %% [markdown]
# The figure shows the encoding curve with empirical Bernoulli rates, and the IF rate against the ANN activation.

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
ez = torch.linspace(-4.5, 4.5, 181, dtype=dt)
axes[0].plot(ez, embedding_to_rate(mu + sigma * ez, mu=mu, sigma=sigma), label="p(e), b = 3")
zs = torch.linspace(-4, 4, 17, dtype=dt)
emp = rate_encode(embedding_to_rate(mu + sigma * zs, mu=mu, sigma=sigma), T=2000, generator=g).mean(0)
axes[0].plot(zs, emp, "o", ms=4, label="Bernoulli rate, T = 2000")
axes[0].set(xlabel="(e - mu) / sigma", ylabel="firing rate")
axes[0].legend()
acts = torch.linspace(-0.3, 1.3, 81, dtype=dt)
rates = torch.stack([spiking_text_conv(torch.ones(50, 1, 1, 1, dtype=dt), acts[i].reshape(1, 1, 1),
                                       torch.zeros(1, dtype=dt), tau=None).mean() for i in range(81)])
axes[1].plot(acts, rates, label="IF rate, T = 50")
axes[1].plot(acts, acts.clamp(0, 1), "--", label="clip(a, 0, 1)")
axes[1].set(xlabel="ANN activation a", ylabel="rate")
axes[1].legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# Verified: the embedding-to-rate map against its definition (clip, centre, inverse), the Bernoulli rates against
# $p$, the pooled conv current against a loop, the IF spike count against $\lfloor T\,\mathrm{clip}(a,0,1)\rfloor$,
# the LIF layer against snnTorch's recurrence, and the surrogate gradients (LIF and IF, and the encoding's slope)
# against their closed forms.
