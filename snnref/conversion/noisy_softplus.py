r"""Noisy Softplus: an activation that follows the firing rate of a LIF neuron driven by noisy current (Liu et al.).

The mean response of a LIF neuron to a current of mean $x$ and noise level $\sigma$ is smooth near threshold and
sharpens as the noise vanishes. Noisy Softplus models it as
$f_{ns}(x, \sigma) = k\sigma\,\log\!\left(1 + e^{x/(k\sigma)}\right)$, a softplus whose smoothness scales with $\sigma$
($k$ is fitted to the neuron's parameters). Its derivative in $x$ is the logistic $1/(1 + e^{-x/(k\sigma)})$, so an
ANN using it trains by ordinary backpropagation and its weights go to the SNN unchanged.

Paper: liu2017noisysoftplus
"""

from __future__ import annotations

import torch


def noisy_softplus(x: torch.Tensor, sigma: torch.Tensor | float, *, k: float) -> torch.Tensor:
    r"""$f_{ns}(x, \sigma) = k\sigma\,\log(1 + e^{x/(k\sigma)})$; tends to $\max(0, x)$ as $\sigma \to 0$.

    Paper: liu2017noisysoftplus, Eq. (Noisy Softplus); first proposed by Liu & Furber (ICONIP 2016).
    """
    if not k > 0:
        raise ValueError(f"k must be > 0, got {k!r}")
    sigma_t = torch.as_tensor(sigma, dtype=x.dtype)
    if not bool((sigma_t > 0).all()):
        raise ValueError(f"sigma must be > 0, got {sigma!r}")
    scale = k * sigma_t
    z = x / scale
    # log(1 + e^z) = logaddexp(0, z): exact and stable for large |z| (F.softplus switches to z above 20)
    return scale * torch.logaddexp(torch.zeros_like(z), z)
