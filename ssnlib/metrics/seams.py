"""Seams: do a generator's images jump at its block borders?

An SSN draws each block of z independently, so nothing but training makes neighbouring blocks
agree where they meet. When they do not, the image shows the grid: a step in colour along a
block border that the rest of the image does not have. :func:`seam_contrast` measures it on a
batch of images, by comparing each neighbouring pixel pair that straddles a border with the
two pairs parallel to it one pixel away, on either side (inside the blocks):

    seam contrast = mean |x(p) - x(p')| over pairs across a border
                    / mean |x(q) - x(q')| over the pairs beside them

An image whose content ignores the grid scores about 1 (its steps at a border are like the
steps next to it); a seamed one scores above 1, and the data's own score, with the same grid
laid over it, is the level to compare with (faces are drawn in a fixed layout, so a border can
fall where the data has an edge).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch


def _pair_masks(labels: torch.Tensor, dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """For the neighbouring pairs along ``dim`` of a block label map [H, W]: those that
    straddle a block border and those parallel to one, one pixel away (bool, one shorter
    along ``dim``)."""
    n = labels.shape[dim] - 1
    across = labels.narrow(dim, 0, n) != labels.narrow(dim, 1, n)
    before = torch.zeros_like(across)             # the pair just before a border pair
    after = torch.zeros_like(across)              # the pair just after it
    before.narrow(dim, 0, n - 1).copy_(across.narrow(dim, 1, n - 1))
    after.narrow(dim, 1, n - 1).copy_(across.narrow(dim, 0, n - 1))
    return across, (before | after) & ~across


def border_steps(images: torch.Tensor, grid) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean absolute step (over RGB, image units) per image [B] across the block borders of
    ``grid`` and beside them, for images [B, C, H, W] at the grid's resolution or any other
    (pixels belong to the block holding their centre)."""
    labels = grid.label_map(tuple(images.shape[-2:]), device=images.device)    # [H, W]
    sums = {"across": 0, "beside": 0}
    counts = {"across": 0, "beside": 0}
    for dim in (-1, -2):                                # horizontal pairs, then vertical
        n = images.shape[dim] - 1
        step = (images.narrow(dim, 1, n) - images.narrow(dim, 0, n)).abs().mean(-3)
        for name, mask in zip(("across", "beside"), _pair_masks(labels, dim), strict=True):
            sums[name] = sums[name] + (step * mask).sum((-2, -1))                # [B]
            counts[name] = counts[name] + mask.sum()
    return sums["across"] / counts["across"], sums["beside"] / counts["beside"]


def seam_contrast(images: torch.Tensor | Iterable[torch.Tensor], grid) -> float:
    """The mean step across the block borders over the mean step beside them, over a batch
    [B, C, H, W] or an iterable of batches (1 when the borders are like any other place in
    the image; see the module's docstring)."""
    if min(grid.n_h, grid.n_w) < 2:
        raise ValueError(f"seam contrast needs a grid with borders, got {grid.n_h}x{grid.n_w} "
                         f"blocks")
    across = beside = 0.0
    for batch in [images] if isinstance(images, torch.Tensor) else images:
        if batch.ndim != 4:
            raise ValueError(f"seam contrast needs images [B, C, H, W], got "
                             f"{tuple(batch.shape)}")
        a, b = border_steps(batch.float(), grid)
        across, beside = across + float(a.sum()), beside + float(b.sum())
    return across / max(beside, 1e-12)
