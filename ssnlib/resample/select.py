"""Which latent blocks a user means: indices, grid cells, boolean grids or painted pixel masks.

The paper (section 2) defines blocks as any partition J_1, ..., J_n of the pixels and notes that
its ideas carry over to non-rectangular regions; its conclusion names segmentation-driven
resampling as future work. :func:`selection_mask` is that bridge: a pixel mask (a segmentation
of the hair, a brush stroke) becomes the set of latent blocks it covers, measured with
:meth:`~ssnlib.blocks.BlockGrid.block_coverage`.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch

from ssnlib.blocks import BlockGrid

Selection = int | Iterable | torch.Tensor | np.ndarray


def _from_mask(grid: BlockGrid, mask: torch.Tensor, threshold: float) -> torch.Tensor:
    if mask.dtype != torch.bool and (mask.min() < 0 or mask.max() > 1):
        raise ValueError("a mask must be boolean or hold weights in [0, 1], "
                         f"got values in [{float(mask.min()):.3g}, {float(mask.max()):.3g}]")
    if mask.ndim == 2:
        return (grid.block_coverage(mask) >= threshold)[None]
    if mask.ndim == 3:
        return torch.stack([grid.block_coverage(m) >= threshold for m in mask])
    raise ValueError(f"a mask must be [n_h, n_w] or [H, W] (or per sample [B, ., .]), "
                     f"got shape {tuple(mask.shape)}")


def _is_int(value) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _cell(grid: BlockGrid, item) -> int:
    if isinstance(item, tuple | list) and len(item) == 2 and all(map(_is_int, item)):
        return grid.index(int(item[0]), int(item[1]))
    if not (_is_int(item) or isinstance(item, torch.Tensor) and item.ndim == 0
            and not item.dtype.is_floating_point and item.dtype != torch.bool):
        raise TypeError(f"a block is an index or a (row, col) pair of integers, got {item!r} "
                        f"(pass a boolean grid or a mask as a tensor or an array)")
    return grid.check_index(int(item))


def selection_mask(grid: BlockGrid, blocks: Selection, threshold: float = 0.5,
                   device: torch.device | str | None = None) -> torch.Tensor:
    """A selection as a bool tensor [B or 1, n_h, n_w] (True = resample this block).

    ``blocks`` may be

    * an index or an iterable of indices (row-major, ``row * n_w + col``) or of ``(row, col)``
      pairs; an empty iterable selects nothing. A bare ``(1, 2)`` means blocks 1 and 2: write
      one cell as ``[(1, 2)]``;
    * a boolean grid [n_h, n_w], or one per sample [B, n_h, n_w];
    * a pixel mask [H, W] or [B, H, W] (bool, or weights in [0, 1]) at any resolution the grid
      divides: a block is selected when the mask covers at least ``threshold`` of its pixels
      (``threshold=0.5``: at least half; a small value such as ``1e-6``: any pixel).

    A boolean grid is the special case of a pixel mask at the grid's own resolution.
    """
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    if isinstance(blocks, np.ndarray):
        blocks = torch.from_numpy(blocks)
    if isinstance(blocks, torch.Tensor) and blocks.ndim >= 2:
        return _from_mask(grid, blocks.detach().cpu(), threshold).to(device)
    if isinstance(blocks, torch.Tensor):
        if blocks.dtype.is_floating_point or blocks.dtype == torch.bool:
            raise TypeError(f"block indices must be integers, got a {blocks.dtype} tensor "
                            f"of shape {tuple(blocks.shape)}")
        blocks = blocks.tolist()
    items = [blocks] if isinstance(blocks, int | np.integer) else list(blocks)
    mask = torch.zeros(grid.n_blocks, dtype=torch.bool)
    for item in items:
        mask[_cell(grid, item)] = True
    return mask.reshape(1, grid.n_h, grid.n_w).to(device)


def selected_indices(mask: torch.Tensor) -> list[int]:
    """Row-major indices of the True cells of one selection mask [n_h, n_w] (or [1, n_h, n_w])."""
    return torch.nonzero(mask.reshape(-1)).flatten().tolist()
