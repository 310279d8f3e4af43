r"""Scalable Spike-and-Slab (Biswas, Mackey & Meng 2022): Gibbs updates for Bayesian variable selection.

NOT a spiking-network method: "spike-and-slab" is a sparsity prior. With the continuous spike-and-slab prior of
George & McCulloch, $\beta_j \mid z_j, \sigma^2 \sim \mathcal N(0, \sigma^2\tau_{z_j}^2)$ (spike $\tau_0 \ll$ slab
$\tau_1$), $z_j \sim \mathrm{Bernoulli}(q)$, and $y \sim \mathcal N(X\beta, \sigma^2 I_n)$, the Gibbs step for $\beta$ is

$$\beta \mid z, \sigma^2 \sim \mathcal N\!\left(\Sigma X^\top y,\ \sigma^2\Sigma\right),\quad \Sigma = (X^\top X + D^{-1})^{-1},
\ D = \mathrm{diag}(\tau_{z_j}^2),$$

drawn in $O(n^2 p)$ through the $n\times n$ matrix $M = I_n + XDX^\top$. S$^3$'s point is that only the columns
whose $z_j$ switched change $M$, so $M_t = M_{t-1} + X_\Delta\,\mathrm{diag}(d_t - d_{t-1})_\Delta X_\Delta^\top$ costs
$O(n^2 p_t)$.
"""

from __future__ import annotations

import torch


def prior_variances(z: torch.Tensor, *, tau0: float, tau1: float) -> torch.Tensor:
    r"""$d_j = \tau_1^2$ where $z_j = 1$ (slab), $\tau_0^2$ where $z_j = 0$ (spike)."""
    if not 0 < tau0 < tau1:
        raise ValueError(f"need 0 < tau0 < tau1, got tau0={tau0!r}, tau1={tau1!r}")
    return torch.where(z > 0, torch.full_like(z, tau1**2), torch.full_like(z, tau0**2))


def update_m(m: torch.Tensor, X: torch.Tensor, d_old: torch.Tensor, d_new: torch.Tensor) -> torch.Tensor:
    r"""S$^3$ update $M_t = M_{t-1} + X_\Delta\,\mathrm{diag}(d_t - d_{t-1})_\Delta X_\Delta^\top$ over switched columns only.

    Paper: biswas2022spikeslab, the $O(n^2 p_t)$ update of $M_t = I_n + X D_t X^\top$ (Section 2).
    """
    changed = torch.nonzero(d_new != d_old)[:, 0]
    xd = X[:, changed]  # [n, p_t]
    return m + (xd * (d_new - d_old)[changed]) @ xd.T


def sample_beta(X: torch.Tensor, y: torch.Tensor, d: torch.Tensor, m: torch.Tensor, sigma2: float,
                u: torch.Tensor, delta: torch.Tensor) -> torch.Tensor:
    r"""Exact draw of $\beta \mid z, \sigma^2$ from standard normals ``u`` [p], ``delta`` [n] (Bhattacharya et al.'s scheme).

    $u' = \sqrt d\,u$, $v = Xu' + \delta$, $w = M^{-1}(y/\sigma - v)$, $\beta = \sigma(u' + d \odot X^\top w)$.
    Paper: biswas2022spikeslab, the $\beta$ update of the Gibbs sampler.
    """
    sigma = sigma2**0.5
    u = d.sqrt() * u
    w = torch.linalg.solve(m, y / sigma - (X @ u + delta))
    return sigma * (u + d * (X.T @ w))


def z_probability(beta: torch.Tensor, sigma2: float, *, q: float, tau0: float, tau1: float) -> torch.Tensor:
    r"""$P(z_j = 1 \mid \beta_j) = \dfrac{q\,\mathcal N(\beta_j; 0, \sigma^2\tau_1^2)}{q\,\mathcal N(\beta_j; 0, \sigma^2\tau_1^2) + (1-q)\,\mathcal N(\beta_j; 0, \sigma^2\tau_0^2)}$."""
    if not 0 < q < 1:
        raise ValueError(f"q must be in (0, 1), got {q!r}")
    log_slab = torch.log(torch.tensor(q)) - torch.log(torch.tensor(tau1)) - beta**2 / (2 * sigma2 * tau1**2)
    log_spike = torch.log(torch.tensor(1 - q)) - torch.log(torch.tensor(tau0)) - beta**2 / (2 * sigma2 * tau0**2)
    return torch.sigmoid(log_slab - log_spike)
