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
# # Temporal-Switch-Coding (Han & Roy, ECCV 2020)
# A pixel is sent as two spikes, one switching the input on and one switching it off; their distance encodes the value.

# %%
import math

import matplotlib.pyplot as plt
import torch

from snnref.conversion.tsc import tsc_decode, tsc_encode, tsc_switch

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)


def tsc_loop(p: float, T: int) -> list[float]:
    """Spike train of one pixel written from the definition, the notebook's oracle (steps counted from 1)."""
    q = min(max(p, -1.0), 1.0)
    p_star = math.floor(abs(q) * (T - 1)) + 1
    train = [0.0] * T
    if p_star >= 2:
        sgn = 1.0 if q > 0 else -1.0
        train[0] += sgn
        train[p_star - 1] -= sgn
    return train


# %% [markdown]
# **Claim 1 (the TSC code).** With $p^* = \lfloor |p|(T-1)\rfloor + 1$ ($p$ clipped to $[-1,1]$), a pixel emits
# $\operatorname{sgn}(p)$ at step 1 and $-\operatorname{sgn}(p)$ at step $p^*$ when $p^* \ge 2$, and nothing
# otherwise; so every pixel emits at most two spikes, whatever $T$ (the paper's "two spikes per pixel").

# %%
g = torch.Generator().manual_seed(0)
p = torch.rand(400, generator=g) * 2.6 - 1.3  # both signs, some clipped, some below one quantum
for T in (5, 8, 13):
    u = p.abs().clamp(max=1.0) * (T - 1)
    inner = u[(p.abs() < 1.0)]
    assert ((inner - inner.round()).abs() > 1e-6).all()  # no pixel exactly on a quantisation edge
    s = tsc_encode(p, T=T)  # [T, 400]
    oracle = torch.tensor([tsc_loop(v, T) for v in p.tolist()]).T
    torch.testing.assert_close(s, oracle, rtol=0, atol=0)  # catches floor->ceil/round, a missing +1, wrong step index
    assert s.shape == (T, 400)
    assert int((s != 0).sum(0).max()) == 2  # two spikes at most, and some pixels do use both
    assert int((s != 0).sum(0).min()) == 0  # pixels below one quantum stay silent
    torch.testing.assert_close(s.sum(0), torch.zeros(400), rtol=0, atol=0)  # on and off spikes cancel

# edges: p*(=2) just sends spikes at steps 1 and 2; p* = 1 sends nothing; a clipped pixel switches off at step T
T = 9
edge = torch.tensor([1.5 / (T - 1), -1.5 / (T - 1), 0.5 / (T - 1), 1.4, -1.0])
s = tsc_encode(edge, T=T)
expect = torch.zeros(T, 5)
expect[0, 0], expect[1, 0] = 1.0, -1.0  # catches `>= 2` -> `> 2` (this pixel would go silent)
expect[0, 1], expect[1, 1] = -1.0, 1.0  # catches a lost sign
expect[0, 3], expect[T - 1, 3] = 1.0, -1.0  # catches a missing clip (the step would fall outside the window)
expect[0, 4], expect[T - 1, 4] = -1.0, 1.0
torch.testing.assert_close(s, expect, rtol=0, atol=0)

raised = False
try:
    tsc_encode(edge, T=1)
except ValueError:
    raised = True
assert raised  # catches a missing check of T (a one-step window cannot hold two spike instants)

# %% [markdown]
# **Claim 2 (the interval carries the value).** The switch state $\sigma_t = \sum_{k\le t}s_k$ is on for exactly
# $p^*-1$ steps, so the decoded value $\hat p = \frac{1}{T-1}\sum_t\sigma_t$ is
# $\operatorname{sgn}(p)\lfloor|p|(T-1)\rfloor/(T-1)$: it never overshoots, $0 \le |p| - |\hat p| < \frac{1}{T-1}$
# for $|p| \le 1$, and the error vanishes as the window grows.

# %%
p = torch.rand(300, generator=g) * 2 - 1
errs = {}
for T in (4, 7, 16, 33, 64):
    s = tsc_encode(p, T=T)
    sigma = tsc_switch(s)
    on_steps = torch.tensor([float(sum(abs(x) for x in torch.tensor(tsc_loop(v, T)).cumsum(0).tolist())) for v in p.tolist()])
    torch.testing.assert_close(sigma.abs().sum(0), on_steps.to(sigma.dtype), rtol=0, atol=0)  # catches cumsum over the wrong axis
    closed = torch.sign(p) * torch.floor(p.abs() * (T - 1)) / (T - 1)
    p_hat = tsc_decode(s)
    torch.testing.assert_close(p_hat, closed, rtol=0, atol=1e-12)  # catches dividing by T instead of T-1
    gap = p.abs() - p_hat.abs()
    assert (gap >= -1e-12).all() and (gap < 1 / (T - 1)).all()  # catches an off-by-one in p* (overshoot by a quantum)
    assert (torch.sign(p_hat) * torch.sign(p) >= 0).all()
    errs[T] = float(gap.max())
assert errs[64] < errs[16] < errs[4]  # finer windows decode more precisely

# %% [markdown]
# **Claim 3 (a linear synapse on the switch).** Because the input is on for $p^*-1$ steps, a synapse that integrates
# $W\sigma_t$ over the window collects $(T-1)\,W\hat p$, the ANN's pre-activation on the quantised pixel, from only
# two spike events per pixel; it is within $(\max_i\sum_j|W_{ij}|)$ quanta of $Wp$.

# %%
W = torch.randn(6, 50, generator=g) * 0.4
x = torch.rand(50, generator=g) * 2 - 1
T = 21
s = tsc_encode(x, T=T)  # [T, 50]
integrated = torch.stack([W @ sig for sig in tsc_switch(s)]).sum(0)  # sum_t W sigma_t
p_hat = torch.sign(x) * torch.floor(x.abs() * (T - 1)) / (T - 1)
torch.testing.assert_close(integrated, (T - 1) * (W @ p_hat), rtol=1e-12, atol=1e-12)  # catches a switch left on one step too long
assert ((integrated / (T - 1) - W @ x).abs() <= W.abs().sum(1) / (T - 1) + 1e-12).all()
assert int((s != 0).sum()) <= 2 * x.numel()  # two events per pixel, against up to T per pixel for rate coding

# %% [markdown]
# **Claim 4 (the read-out is linear in the spikes).** $\hat p = \frac{1}{T-1}\sum_t \sigma_t$ weighs a spike at step
# $t$ by the number of steps it stays in the switch, $\partial\hat p/\partial s_t = \frac{T-t+1}{T-1}$, and
# $\partial\sigma_\tau/\partial s_t = \mathbb 1[t \le \tau]$: an early on-spike counts fully, a late off-spike hardly.

# %%
T = 11
s = tsc_encode(torch.tensor([0.37, -0.81]), T=T).clone().requires_grad_(True)
p_hat = tsc_decode(s)
assert p_hat.requires_grad  # catches a detached read-out
p_hat.sum().backward()
expect = ((T - torch.arange(1, T + 1) + 1) / (T - 1)).unsqueeze(1).expand(T, 2)
torch.testing.assert_close(s.grad, expect, rtol=1e-12, atol=1e-12)  # catches a detached read-out (no gradient)
tau = 6
s.grad = None
sigma = tsc_switch(s)
assert sigma.requires_grad  # catches a detached switch state
sigma[tau - 1, 0].backward()
torch.testing.assert_close(s.grad[:, 0], (torch.arange(1, T + 1) <= tau).to(s.dtype), rtol=0, atol=0)  # catches a detached switch

# %%
fig, ax = plt.subplots(1, 2, figsize=(10, 3.2))
T = 12
demo = torch.tensor([0.9, 0.45, -0.6, 0.05])
s, sig = tsc_encode(demo, T=T), tsc_switch(tsc_encode(demo, T=T))
for i in range(4):
    ax[0].step(range(1, T + 1), sig[:, i] + 2.5 * i, where="post", label=f"p={demo[i]:.2f}")
    on = s[:, i].nonzero().flatten()
    ax[0].scatter(on + 1, s[on, i] + 2.5 * i, marker="|", s=200, color="k")
ax[0].set(xlabel="step", ylabel="switch state (offset per pixel)", title="TSC spikes and switch state")
ax[0].legend(fontsize=7)
Ts = sorted(errs)
ax[1].loglog(Ts, [errs[t] for t in Ts], "o-", label="max |p| - |p_hat|")
ax[1].loglog(Ts, [1 / (t - 1) for t in Ts], "--", label="1/(T-1)")
ax[1].set(xlabel="T", title="decoding error vs window")
ax[1].legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# Verified: the encoder matches a loop written from the definition (spike steps, signs, clipping, silence below one
# quantum, at most two spikes per pixel); the switch state is on for $\lfloor|p|(T-1)\rfloor$ steps, so the interval
# decodes to the quantised pixel with error below $1/(T-1)$; and a linear synapse integrating the switch state
# recovers $W\hat p$ from two events per pixel.
