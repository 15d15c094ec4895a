"""Kernel Inception Distance (Bińkowski et al. 2018): the unbiased estimate of MMD^2 with the
cubic polynomial kernel ``k(x, y) = (x.y / D + 1)^3``, averaged over random subsets.

Follows stylegan2-ada's ``kernel_inception_distance``: ``num_subsets`` (100) pairs of subsets of
``m = min(n_real, n_fake, max_subset_size)`` (1000) features, each scored by

    (sum_{i != j} k(x_i, x_j) + k(y_i, y_j)) / (m (m - 1)) - 2 sum_{i, j} k(x_i, y_j) / m^2

(the U-statistic, zero in expectation when both sets come from one distribution). Subsets are
drawn without replacement with a ``torch.Generator``, so the value is reproducible.
"""

from __future__ import annotations

import torch


def kid(real: torch.Tensor, fake: torch.Tensor, num_subsets: int = 100,
        max_subset_size: int = 1000, generator: torch.Generator | None = None) -> float:
    """KID between feature sets ``real`` [N, D] and ``fake`` [M, D] (float64 inside)."""
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"need features [N, D] and [M, D], got {tuple(real.shape)} and "
                         f"{tuple(fake.shape)}")
    m = min(real.shape[0], fake.shape[0], max_subset_size)
    if m < 2:
        raise ValueError("KID needs at least 2 features in each set")
    generator = generator if generator is not None else torch.Generator().manual_seed(0)
    x_all, y_all = fake.double().cpu(), real.double().cpu()
    d = real.shape[1]
    total = 0.0
    for _ in range(num_subsets):
        x = x_all[torch.randperm(x_all.shape[0], generator=generator)[:m]]
        y = y_all[torch.randperm(y_all.shape[0], generator=generator)[:m]]
        a = (x @ x.T / d + 1) ** 3 + (y @ y.T / d + 1) ** 3
        b = (x @ y.T / d + 1) ** 3
        total += ((a.sum() - a.diagonal().sum()) / (m - 1) - b.sum() * 2 / m).item()
    return total / num_subsets / m
