r"""Daleian networks of stochastic binary neurons and learning by single-neuron features (Haber & Schneidman 2022).

$N$ binary neurons $x \in \{0,1\}^N$ update synchronously: given the current pattern $x$ and a stimulus $s$,
neuron $j$ fires next with probability $\sigma(\sum_i x_i W_{ij} + s_j)$, independently of the others, so

$$P(x' \mid x) = \frac{\exp(x^\top W x' + s^\top x')}{\sum_{y} \exp(x^\top W y + s^\top y)}.$$

The network's response to $s$ is the stationary distribution $\pi$ of this Markov chain ($\pi P = \pi$), and two
networks are compared by the Jensen-Shannon divergence of their responses. A network is *Daleian* when every neuron's
outgoing weights share one sign, $W_{ij} = \epsilon_i\lvert W_{ij}\rvert$ with $\epsilon_i \in \{+1, -1\}$ (row $i$ is
presynaptic; no self-connections). Learning by single-neuron features tunes only $3N$ numbers:
$W \to \mathrm{diag}(\lvert\delta^{in}\rvert)\,W\,\mathrm{diag}(\lvert\delta^{out}\rvert)$ and $s \to s + \delta^{th}$,
which keeps every sign and hence keeps a Daleian network Daleian.
"""

from __future__ import annotations

import itertools

import torch


def dale_weights(w: torch.Tensor, *, signs: torch.Tensor) -> torch.Tensor:
    r"""$W_{ij} = \epsilon_i \lvert w_{ij}\rvert$ with a zero diagonal; ``signs`` [N] of $\pm1$. Paper: haber2022daleian."""
    return (w.abs() * signs[:, None]).fill_diagonal_(0.0)


def neuronal_rescale(w: torch.Tensor, *, delta_in: torch.Tensor, delta_out: torch.Tensor) -> torch.Tensor:
    r"""$\mathrm{diag}(\lvert\delta^{in}\rvert)\,W\,\mathrm{diag}(\lvert\delta^{out}\rvert)$: per-neuron gains that cannot flip a sign.

    Paper: haber2022daleian (learning by tuning single-neuron features).
    """
    return delta_in.abs()[:, None] * w * delta_out.abs()[None, :]


def all_patterns(n: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """The $2^n$ binary patterns [2^n, n], in lexicographic order (all-silent first, all-active last)."""
    return torch.tensor(list(itertools.product([0.0, 1.0], repeat=n)), dtype=dtype)


def transition_matrix(w: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    r"""$P_{xy} = \exp(x^\top W y + s^\top y) / \sum_{y'}\exp(x^\top W y' + s^\top y')$ over all patterns [2^N, 2^N]."""
    m = all_patterns(w.shape[0], dtype=w.dtype)
    return torch.softmax(m @ w @ m.T + (m @ s)[None, :], dim=1)


def stationary_distribution(w: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    r"""The response $\pi$ with $\pi P = \pi$, $\sum_x \pi_x = 1$ (one equation replaced by the normalisation)."""
    p = transition_matrix(w, s=s)
    a = (p - torch.eye(p.shape[0], dtype=p.dtype)).T.clone()
    a[-1] = 1.0
    rhs = torch.zeros(p.shape[0], dtype=p.dtype)
    rhs[-1] = 1.0
    return torch.linalg.solve(a, rhs)


def js_divergence(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    r"""$D_{JS}(p, q) = \frac12 D_{KL}(p\,\|\,m) + \frac12 D_{KL}(q\,\|\,m)$, $m = \frac{p+q}{2}$, in bits."""
    m = (p + q) / 2
    return 0.5 * (p * torch.log2(p / m)).sum(-1) + 0.5 * (q * torch.log2(q / m)).sum(-1)
