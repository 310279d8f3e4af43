r"""SuperSpike: a three-factor learning rule (error x filtered surrogate-Hebbian term) for spiking neurons.

For output neuron $i$ and input $j$ the weight moves along

$$
\Delta w_{ij} = r \sum_t e_i[t]\,\lambda_{ij}[t],\qquad
e_i = \alpha \ast (\hat S_i - S_i),\qquad
\lambda_{ij} = \alpha \ast \big(\sigma'(U_i)\,(\epsilon \ast S_j)\big),\qquad
\sigma'(U) = \frac{\beta}{(1 + \beta|U - \vartheta|)^2}
$$

with $\alpha$ the van Rossum (double-exponential) filter, $\epsilon \ast S_j$ the postsynaptic potential of input
$j$ and $\sigma'$ the fast-sigmoid surrogate of $\partial S_i/\partial U_i$ (twice snnref's
``fast_sigmoid_grad``, whose area is 1; this one's is 2, as in the official code). $e_i$ is the error of the van Rossum
loss $L = \frac{1}{2}\sum_t e_i[t]^2$, and $\Delta w = -r\,\partial L/\partial w$ when the reset is ignored.

Paper: zenke2018superspike (the SuperSpike rule); official code ``src/SuperSpikeConnection.cpp``.
Time is the first axis; kernels are 1-D tensors, ``kernel[k]`` the weight of lag ``k``.
"""

from __future__ import annotations

import torch

from snnref.surrogate import fast_sigmoid_grad


def causal_filter(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    r"""$(k \ast x)[t] = \sum_{s=0}^{t} k[s]\,x[t-s]$ along the first (time) axis of ``x``."""
    out = torch.zeros_like(x)
    for s in range(min(len(kernel), x.shape[0])):
        # lag s: x shifted down by s steps
        out[s:] = out[s:] + kernel[s] * x[: x.shape[0] - s]
    return out


def sigma_prime(u: torch.Tensor, *, v_th: float, beta: float) -> torch.Tensor:
    r"""$\sigma'(U) = \beta / (1 + \beta|U - \vartheta|)^2$."""
    return 2 * fast_sigmoid_grad(u - v_th, alpha=beta)


def van_rossum_error(target: torch.Tensor, spikes: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    r"""$e = \alpha \ast (\hat S - S)$, the error whose squared sum is the van Rossum distance."""
    return causal_filter(target - spikes, kernel)


def superspike_update(
    u: torch.Tensor, psp: torch.Tensor, err: torch.Tensor, *, kernel: torch.Tensor, v_th: float, beta: float
) -> torch.Tensor:
    r"""$\sum_t e_i[t]\,(\alpha \ast (\sigma'(U_i)\,\mathrm{PSP}_j))[t]$ as a ``[post, pre]`` matrix.

    ``u``, ``err``: ``[T, post]``; ``psp``: ``[T, pre]`` (the inputs' postsynaptic potentials).
    """
    # eligibility trace lambda_ij[t], [T, post, pre]
    hebb = sigma_prime(u, v_th=v_th, beta=beta)[:, :, None] * psp[:, None, :]
    elig = causal_filter(hebb, kernel)
    return torch.einsum("ti,tij->ij", err, elig)
