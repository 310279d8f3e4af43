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
# # Two-stage conversion: noisy quantization and the residual-potential error (Wang et al., TNNLS 2023)
# Stage I trains the ANN with a staircase that is applied to a random subset of activations; the error it cannot
# remove is the residual membrane potential that an IF neuron leaves outside $[0, \theta)$.

# %%
import math

import matplotlib.pyplot as plt
import torch

from snnref.conversion.two_stage import NoisyQC, noisy_quantize_clip, quantization_mask, residual_potential_error

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)


def if_loop(xs: list[float], theta: float, v0: float) -> tuple[int, float]:
    """Spike count and final potential of a reset-by-subtraction IF neuron, written from the definition."""
    v, n = v0, 0
    for x in xs:
        v += x
        if v >= theta:
            v -= theta
            n += 1
    return n, v


# %% [markdown]
# **Claim 1 (Stage I at inference; official `NoisyQC` and IF layers).** With $m = 1$ the activation
# $\hat a = \theta\,\mathrm{clip}(\frac{1}{T}\lfloor zT/\theta \rceil, 0, 1)$ equals the average output
# $\phi = \theta N/T$ of an IF neuron with threshold $\theta$, reset by subtraction and $V_0 = \theta/2$, driven by the
# constant input $z$ for $T$ steps; the residual-potential error is then zero. (Away from rounding ties: the IF
# neuron rounds halves up, `torch.round` to even.)

# %%
theta = 1.3
g = torch.Generator().manual_seed(0)
z = torch.rand(150, generator=g) * 2.0 * theta - 0.5 * theta  # below 0, inside, above theta
for T in (4, 7):
    u = z * T / theta
    assert (u - u.floor() - 0.5).abs().min() > 1e-6  # margin: no input sits on a rounding tie
    loop = torch.tensor([if_loop([v] * T, theta, theta / 2)[0] for v in z.tolist()]) * theta / T
    a_hat = noisy_quantize_clip(z, theta=theta, T=T, m=torch.ones_like(z))
    torch.testing.assert_close(a_hat, loop, rtol=0, atol=1e-12)  # catches floor for round, T/theta swapped, clip at T-1
    phi, e_r, v_T = residual_potential_error(z.expand(T, -1).clone(), theta=theta)
    torch.testing.assert_close(phi, loop, rtol=0, atol=1e-12)  # catches V0 = 0, hard reset, wrong read-out scale
    torch.testing.assert_close(e_r, torch.zeros_like(e_r), rtol=0, atol=1e-12)  # even input: no residual error
    assert a_hat.unique().numel() == T + 1  # T + 1 levels 0, theta/T, ..., theta

# a potential landing exactly on the threshold fires (the >= convention): theta = 1.25, z = theta/2 are exact binaries
theta_x, T_x = 1.25, 3
phi_x, _, v_x = residual_potential_error(torch.full((T_x, 1), 0.625), theta=theta_x)
n_x, v_loop = if_loop([0.625] * T_x, theta_x, theta_x / 2)
assert n_x == 2 and math.isclose(phi_x.item(), n_x * theta_x / T_x, rel_tol=1e-12)  # catches '>' instead of '>='
assert math.isclose(v_x.item(), v_loop, abs_tol=1e-12)  # catches the residual potential read at the wrong step

# %% [markdown]
# **Claim 2 (noisy quantization, Stage I).** The mask selects per element between the staircase ($m = 1$) and the
# clipped identity $\theta\,\mathrm{clip}(z/\theta, 0, 1)$ ($m = 0$). In training the layer draws
# $m \sim \mathrm{Bernoulli}(1 - p)$, so a fraction $1 - p$ of the activations is quantized; in evaluation all are.

# %%
T, p = 5, 0.3
zin = 0.05 + torch.rand(20000, generator=torch.Generator().manual_seed(1)) * (theta - 0.1)  # inside (0, theta)
u = zin * T / theta
quantized = theta * torch.clamp(torch.floor(u + 0.5) / T, 0, 1)  # the staircase, written out
clipped = theta * torch.clamp(zin / theta, 0, 1)
assert (u - u.floor() - 0.5).abs().min() > 1e-9 and (quantized - clipped).abs().min() > 1e-9  # every element moves

out0 = noisy_quantize_clip(zin, theta=theta, T=T, m=torch.zeros_like(zin))
torch.testing.assert_close(out0, clipped, rtol=0, atol=1e-12)  # catches the mask ignored or inverted
m = (torch.rand(zin.shape, generator=torch.Generator().manual_seed(2)) < 0.5).to(zin.dtype)
out_m = noisy_quantize_clip(zin, theta=theta, T=T, m=m)
torch.testing.assert_close(out_m, torch.where(m > 0, quantized, clipped), rtol=0, atol=1e-12)  # per-element choice

layer = NoisyQC(T=T, theta=theta, p=p)
layer.train()
out_train = layer(zin, torch.Generator().manual_seed(3))
frac = (out_train - clipped).abs().gt(1e-9).to(torch.float64).mean().item()
sd = math.sqrt(p * (1 - p) / zin.numel())
assert abs(frac - (1 - p)) < 5 * sd  # catches Bernoulli(p) instead of Bernoulli(1 - p)
for p_edge, expected in ((0.0, quantized), (1.0, clipped)):
    m_edge = quantization_mask(zin.shape, p=p_edge, generator=torch.Generator().manual_seed(4))
    torch.testing.assert_close(noisy_quantize_clip(zin, theta=theta, T=T, m=m_edge), expected, rtol=0, atol=1e-12)
layer.eval()
torch.testing.assert_close(layer(zin), quantized, rtol=0, atol=1e-12)  # catches noise left on at inference

# %% [markdown]
# **Claim 3 (straight-through gradients of Stage I).** With $\tilde u = u + m(\lfloor u \rceil - u)$ and the rounding's
# derivative taken as 1, inside $0 \le \tilde u \le T$:
# $\partial \hat a/\partial z = 1$ and $\partial \hat a/\partial \theta = (\tilde u - u)/T$ (zero where $m = 0$);
# above ($\tilde u > T$): $\partial \hat a/\partial z = 0$, $\partial \hat a/\partial \theta = 1$; below: both zero.

# %%
T = 6
zg = torch.rand(400, generator=torch.Generator().manual_seed(5)) * 1.6 * theta - 0.3 * theta
mg = (torch.rand(zg.shape, generator=torch.Generator().manual_seed(6)) < 0.6).to(zg.dtype)
zr = zg.clone().requires_grad_(True)
th = torch.tensor(theta, requires_grad=True)
out = noisy_quantize_clip(zr, theta=th, T=T, m=mg)
assert out.requires_grad  # catches the output detached from z and theta
out.sum().backward()

u = zg * T / theta
assert (u - u.floor() - 0.5).abs().min() > 1e-6 and (u - T).abs().min() > 1e-6 and u.abs().min() > 1e-6
u_t = u + mg * (torch.floor(u + 0.5) - u)
inside = (u_t >= 0) & (u_t <= T)
dz = inside.to(zg.dtype)
dth = torch.where(inside, (u_t - u) / T, (u_t > T).to(zg.dtype))
torch.testing.assert_close(zr.grad, dz, rtol=0, atol=1e-12)  # catches a zero (non-STE) rounding gradient
torch.testing.assert_close(th.grad, dth.sum(), rtol=1e-10, atol=1e-10)  # catches theta detached or the shift lost
assert (mg == 0).any() and (inside & (mg == 0)).any() and (u_t > T).any()  # every branch is exercised

# the layer in evaluation (m = 1) trains its threshold with the same rule
layer3 = NoisyQC(T=T, theta=theta, p=0.2).eval()
y = layer3(zg)
assert y.requires_grad  # catches the layer's output detached from its threshold
y.sum().backward()
u_1 = torch.floor(u + 0.5)
in_1 = (u_1 >= 0) & (u_1 <= T)
dth_1 = torch.where(in_1, (u_1 - u) / T, (u_1 > T).to(zg.dtype))
torch.testing.assert_close(layer3.theta.grad, dth_1.sum(), rtol=1e-10, atol=1e-10)

# %% [markdown]
# **Claim 4 (the residual membrane potential representation error named in the abstract).** For any input sequence
# the IF neuron obeys $\phi = \theta N/T = \bar x + (V_0 - V_T)/T$, so
# $e_r = \phi - \hat a(\bar x) = 0$ whenever the residual potential stays in $0 \le V_T < \theta$; an uneven input
# can push $V_T$ below 0 (or above $\theta$) and then $e_r \neq 0$. Hand example, $\theta$ units:
# $x = (1, -0.6, 0, 0)$ gives $\bar x = 0.1$, $\hat a = 0$ but one spike, $V_T = -0.1$, $e_r = 1/4$.

# %%
T, B = 6, 400
gen = torch.Generator().manual_seed(7)
xbar = torch.rand(B, generator=gen) * 1.2 * theta - 0.1 * theta
x_seq = xbar + torch.randn(T, B, generator=gen) * 0.6 * theta  # uneven arrival around the mean
x_seq = x_seq - x_seq.mean(0) + xbar  # exact mean xbar
phi, e_r, v_T = residual_potential_error(x_seq, theta=theta)
torch.testing.assert_close(phi, xbar + (theta / 2 - v_T) / T, rtol=0, atol=1e-12)  # catches wrong charge or reset
loops = [if_loop(x_seq[:, b].tolist(), theta, theta / 2) for b in range(B)]
torch.testing.assert_close(v_T, torch.tensor([v for _, v in loops]), rtol=0, atol=1e-12)  # residual potential
ub = xbar * T / theta
assert (ub - ub.floor() - 0.5).abs().min() > 1e-6
a_bar = theta * torch.clamp(torch.floor(ub + 0.5) / T, 0, 1)
torch.testing.assert_close(e_r, phi - a_bar, rtol=0, atol=1e-12)  # catches e_r against the wrong target
ok = (v_T > 1e-9) & (v_T < theta - 1e-9)
bad = (v_T < -1e-9) & (xbar > 0) & (xbar < theta)
assert ok.sum() > 50 and bad.sum() > 20
assert e_r[ok].abs().max() < 1e-12  # V_T inside [0, theta): no residual error
assert e_r[bad].abs().min() > 1e-9  # negative residual potential: misrepresented

x_hand = torch.tensor([[1.0], [-0.6], [0.0], [0.0]]) * theta
phi_h, e_h, v_h = residual_potential_error(x_hand, theta=theta)
assert math.isclose(e_h.item(), theta / 4, rel_tol=1e-12)  # one spike where the ANN outputs 0
assert math.isclose(v_h.item(), -0.1 * theta, rel_tol=1e-9)

# %%
zz = torch.linspace(-0.3 * theta, 1.3 * theta, 801)
fig, ax = plt.subplots(1, 2, figsize=(10, 3.6))
ax[0].plot(zz, noisy_quantize_clip(zz, theta=theta, T=4, m=torch.ones_like(zz)), label="$m=1$ (T=4)")
ax[0].plot(zz, noisy_quantize_clip(zz, theta=theta, T=4, m=torch.zeros_like(zz)), "--", label="$m=0$")
ax[0].set_xlabel("$z$")
ax[0].set_ylabel(r"$\hat a$")
ax[0].legend()
ax[0].set_title("Stage-I activation")
ax[1].scatter(v_T / theta, e_r / theta, s=6)
ax[1].axvspan(0, 1, color="green", alpha=0.1, label=r"$0 \leq V_T < \theta$")
ax[1].set_xlabel(r"$V_T/\theta$")
ax[1].set_ylabel(r"$e_r/\theta$")
ax[1].legend()
ax[1].set_title("residual-potential error (uneven inputs, T=6)")
plt.tight_layout()
plt.show()

# %% [markdown]
# Verified: at inference the Stage-I activation is exactly the IF staircase with $V_0 = \theta/2$; the mask picks per
# element between staircase and clipped identity, with quantization rate $1 - p$ in training; autograd gives the
# straight-through gradients written out by hand; and the IF output satisfies
# $\phi = \bar x + (V_0 - V_T)/T$, so the residual-potential error vanishes exactly when $V_T \in [0, \theta)$.
