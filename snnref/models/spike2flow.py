r"""Spike2Flow's input representation: the differential of spike firing time (DSFT).

For a key time $k$ and each pixel, $t^-$ is the last spike time at or before $k$ and $t^+$ the first spike time after
$k$ (both searched within $W$ steps); $\mathrm{DSFT}_k = t^+ - t^-$, the inter-spike interval that contains $k$, which is
about $\theta / I$ for a pixel of intensity $I$. Where no spike is found on either side, $\mathrm{DSFT}_k = 2W$.

Paper: zhao2022spike2flow.
"""

from __future__ import annotations

import torch


def dsft(spikes: torch.Tensor, k: int, *, window: int) -> torch.Tensor:
    r"""$\mathrm{DSFT}_k = t^+ - t^-$ per pixel from a spike stream [T, ...]; $2W$ where either spike is missing."""
    T = spikes.shape[0]
    if not 0 <= k < T:
        raise ValueError(f"k must be in [0, {T}), got {k!r}")
    t = torch.arange(T).view(-1, *([1] * (spikes.dim() - 1)))
    fired = spikes > 0
    before = fired & (t <= k) & (t > k - window)  # candidates for the last spike at or before k
    after = fired & (t > k) & (t <= k + window)  # candidates for the first spike after k
    t_minus = torch.where(before, t, torch.full_like(t, -1)).amax(dim=0)
    t_plus = torch.where(after, t, torch.full_like(t, T + window)).amin(dim=0)
    found = (t_minus >= 0) & (t_plus < T + window)
    return torch.where(found, t_plus - t_minus, torch.full_like(t_plus, 2 * window)).to(spikes.dtype)
