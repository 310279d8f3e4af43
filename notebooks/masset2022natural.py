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
# # Natural-gradient sampling (Masset, Zavatone-Veth, Connor, Murthy & Pehlevan, NeurIPS 2022)
# Langevin dynamics with geometry $B$ and skew part $Q$ samples any target; $B = \Sigma$ makes it fast.

# %%
import matplotlib.pyplot as plt
import torch

from snnref.neuro.natural_gradient_sampling import gaussian_grad_log_p, langevin_step

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)  # tiny tensors: thread start-up would dominate the run time
gen = torch.Generator().manual_seed(4)
rho = 0.97  # strongly correlated 2-D target
Sigma = torch.tensor([[1.3, rho * (1.3 * 0.6) ** 0.5], [rho * (1.3 * 0.6) ** 0.5, 0.6]])
P = torch.linalg.inv(Sigma)
mu = torch.tensor([0.4, -0.7])
Q = torch.tensor([[0.0, 0.35], [-0.35, 0.0]])
I2 = torch.eye(2)


def drift_matrix(B, Q, dt):
    """The linear map x -> step(x) - mu with noise off, read from the implementation column by column."""
    cols = []
    for e in I2:
        x = (mu + e).unsqueeze(0)
        g = gaussian_grad_log_p(x, mu=mu, precision=P)
        cols.append((langevin_step(x, g, torch.zeros(1, 2), B=B, Q=Q, dt=dt) - mu)[0])
    return torch.stack(cols, 1)


# %% [markdown]
# **Claim 1.** The target is stationary for any positive definite $B$ and skew $Q$. With
# $A = (B + Q)\Sigma^{-1}$ the continuous-time Lyapunov equation $A\Sigma + \Sigma A^\top = 2B$ holds exactly. For the
# Euler step the stationary covariance solves $C = MCM^\top + 2\Delta t\,B$, with $M$ read off the implementation.
# It approaches $\Sigma$ with error $O(\Delta t)$. Both are solved here by Kronecker vectorisation.

# %%
for B in (I2, Sigma, torch.tensor([[0.8, 0.1], [0.1, 0.5]])):
    dt = 1e-3
    M = drift_matrix(B, Q, dt)
    A = (I2 - M) / dt  # the continuous drift -(B + Q) Sigma^{-1}, as implemented
    # catches: Q added with the wrong sign on one side, B or Q missing, gradient not preconditioned
    torch.testing.assert_close(A @ Sigma + Sigma @ A.T, 2 * B, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(A, (B + Q) @ P, rtol=1e-9, atol=1e-9)  # the drift itself; catches B - Q
    errs = []
    for dt in (0.02, 0.01, 0.005):
        M = drift_matrix(B, Q, dt)
        C = torch.linalg.solve(torch.eye(4) - torch.kron(M, M), (2 * dt * B).reshape(-1)).reshape(2, 2)
        errs.append((C - Sigma).norm().item())
    # catches a noise scale other than sqrt(2 dt) (the error would not vanish with dt)
    assert errs[2] < 0.6 * errs[1] < 0.36 * errs[0] and errs[2] < 0.02, errs

# %% [markdown]
# **Claim 2.** The natural-gradient geometry $B = \Sigma$ (with $Q = 0$) makes the drift $-I$. The mean then
# relaxes as $(1 - \Delta t)^k$ in every direction, exactly. Vanilla Langevin ($B = I$) relaxes its slowest mode
# only at rate $1/\lambda_{max}(\Sigma)$. This is the paper's speed-up on correlated targets.

# %%
dt, K = 0.01, 500
x0 = torch.tensor([[2.5, 1.0]])
xs = {"natural (B = Sigma)": [x0], "vanilla (B = I)": [x0]}
for name, B in (("natural (B = Sigma)", Sigma), ("vanilla (B = I)", I2)):
    x = x0
    for k in range(K):
        x = langevin_step(x, gaussian_grad_log_p(x, mu=mu, precision=P), torch.zeros(1, 2), B=B, Q=0 * Q, dt=dt)
        xs[name].append(x)
        if name.startswith("natural"):  # catches a wrong step size or a missing precision matrix
            torch.testing.assert_close(x - mu, (1 - dt) ** (k + 1) * (x0 - mu), rtol=1e-10, atol=1e-12)
err_nat = (xs["natural (B = Sigma)"][-1] - mu).norm().item()
err_van = (xs["vanilla (B = I)"][-1] - mu).norm().item()
lam_max = torch.linalg.eigvalsh(Sigma).max().item()
print(f"mean error after {K} steps: natural {err_nat:.2e}, vanilla {err_van:.2e}, lambda_max {lam_max:.2f}")
assert err_nat < 0.2 * err_van

# %% [markdown]
# **Claim 3.** Sampled, not just relaxed. 4000 parallel chains of the natural-gradient sampler with the skew part
# $Q$ reach the target covariance and mean within Monte Carlo error after $7\tau$.

# %%
n = 4000
x = mu + torch.randn(n, 2, generator=gen) * 3
for k in range(700):
    xi = torch.randn(n, 2, generator=gen)
    x = langevin_step(x, gaussian_grad_log_p(x, mu=mu, precision=P), xi, B=Sigma, Q=Q, dt=dt)
emp = torch.cov(x.T)
print("empirical covariance\n", emp)
# tolerances: ~4 standard errors of a covariance estimate from 4000 samples
torch.testing.assert_close(emp, Sigma, rtol=0, atol=0.1)  # catches a missing sqrt(2) or cholesky factor
torch.testing.assert_close(x.mean(0), mu, rtol=0, atol=0.08)
# the noise term alone, on whitened draws (sample covariance exactly I): covariance 2 dt B, exactly
xi = torch.randn(500, 2, generator=gen)
xi = xi - xi.mean(0)
xi = xi @ torch.linalg.inv(torch.linalg.cholesky(torch.cov(xi.T))).T
for B in (Sigma, torch.tensor([[0.8, 0.1], [0.1, 0.5]])):
    out = langevin_step(torch.zeros(500, 2), torch.zeros(500, 2), xi, B=B, Q=Q, dt=0.013)
    # catches: sqrt(dt) instead of sqrt(2 dt), L^T instead of L
    torch.testing.assert_close(torch.cov(out.T), 2 * 0.013 * B, rtol=1e-10, atol=1e-12)
for bad in ({"dt": 0.0}, {"Q": torch.ones(2, 2)}):
    try:
        langevin_step(x, x, x, **{**{"B": Sigma, "Q": Q, "dt": dt}, **bad})
        raise AssertionError(f"{bad} accepted")
    except ValueError as e:
        assert next(iter(bad)) in str(e)

fig, ax = plt.subplots(1, 2, figsize=(9, 3.4))
for name, traj in xs.items():
    tr = torch.cat(traj)
    ax[0].plot(tr[:, 0], tr[:, 1], label=name)
ax[0].plot(*mu, "k*")
ax[0].legend(fontsize=7)
ax[0].set(title="noise-free relaxation of the mean")
ax[1].plot(x[:800, 0], x[:800, 1], ".", ms=2)
ax[1].set(title="natural-gradient samples")
plt.tight_layout()
plt.show()

# %% [markdown]
# **Claim 4.** One step, exactly. For a given draw $\xi$ the step is
# $x + \Delta t\,(B + Q)\nabla\log p(x) + \sqrt{2\Delta t}\,L\xi$ with $L$ the lower Cholesky factor of $B$,
# written out here for $2\times2$ ($L_{11} = \sqrt{B_{11}}$, $L_{21} = B_{21}/L_{11}$,
# $L_{22} = \sqrt{B_{22} - L_{21}^2}$).
# The step is differentiable: its Jacobian in $x$ is $I - \Delta t\,(B + Q)\Sigma^{-1}$ and that of
# $\nabla\log p$ is $-\Sigma^{-1}$ (autograd).

# %%
Bq = torch.tensor([[0.8, 0.1], [0.1, 0.5]])
l11 = Bq[0, 0].item() ** 0.5
l21 = Bq[1, 0].item() / l11
L_ref = torch.tensor([[l11, 0.0], [l21, (Bq[1, 1].item() - l21 ** 2) ** 0.5]])
x1, xi1, dt1 = torch.tensor([[0.9, -1.4]]), torch.tensor([[0.6, -1.1]]), 0.031
g1 = -(x1 - mu) @ P
torch.testing.assert_close(gaussian_grad_log_p(x1, mu=mu, precision=P), g1, rtol=1e-13, atol=0)
want = x1 + dt1 * (Bq + Q) @ g1[0] + (2 * dt1) ** 0.5 * L_ref @ xi1[0]
# catches: the noise subtracted, L^T instead of L, Q transposed, a missing dt
torch.testing.assert_close(langevin_step(x1, g1, xi1, B=Bq, Q=Q, dt=dt1), want, rtol=1e-13, atol=1e-14)
step = lambda z: langevin_step(z, gaussian_grad_log_p(z, mu=mu, precision=P), xi1, B=Bq, Q=Q, dt=dt1)
J = torch.autograd.functional.jacobian(step, x1)[0, :, 0, :]
# catches: a .detach() on the step or on the gradient of log p (the Jacobian would be I or 0)
torch.testing.assert_close(J, I2 - dt1 * (Bq + Q) @ P, rtol=1e-12, atol=1e-14)
Jg = torch.autograd.functional.jacobian(lambda z: gaussian_grad_log_p(z, mu=mu, precision=P), x1)[0, :, 0, :]
torch.testing.assert_close(Jg, -P, rtol=1e-12, atol=1e-12)

# %% [markdown]
# Verified: for any geometry $B$ and skew $Q$ the implemented drift satisfies the Lyapunov identity that makes the
# target stationary, and the Euler sampler's covariance converges to $\Sigma$ linearly in $\Delta t$; the natural
# geometry relaxes every direction at the same closed-form rate and beats vanilla Langevin on a correlated target;
# Monte Carlo samples match the target moments; a single step matches the formula written out, and its Jacobian
# is the drift matrix.
