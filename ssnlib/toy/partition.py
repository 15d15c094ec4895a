"""Blocks of pixels: a partition of a small image grid into disjoint blocks.

Section 2 of the paper: for an image with pixel index set :math:`I`, blocks
:math:`J_1, \\dots, J_{n_\\text{blocks}}` are disjoint subsets of :math:`I` whose
union is :math:`I`; the block :math:`y_a` is the sub-image on :math:`J_a`. Pixels
are numbered in row-major order, ``i = row * W + col``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BlockPartition:
    """Disjoint blocks covering every pixel of an ``H x W`` grid.

    ``blocks[a]`` is the sorted tuple of flat (row-major) pixel indices of block
    ``a``. The order of the blocks is the default order of a resampling sweep.
    """

    shape: tuple[int, int]
    blocks: tuple[tuple[int, ...], ...]

    def __post_init__(self) -> None:
        h, w = self.shape
        if h < 1 or w < 1:
            raise ValueError(f"shape must be positive, got {self.shape}")
        blocks = tuple(tuple(sorted(int(i) for i in b)) for b in self.blocks)
        object.__setattr__(self, "shape", (int(h), int(w)))
        object.__setattr__(self, "blocks", blocks)
        seen = [i for b in blocks for i in b]
        if any(len(b) == 0 for b in blocks):
            raise ValueError("blocks must be non-empty")
        if sorted(seen) != list(range(h * w)):
            raise ValueError("blocks must be disjoint and cover every pixel exactly once")

    @property
    def n_pixels(self) -> int:
        return self.shape[0] * self.shape[1]

    @property
    def n_blocks(self) -> int:
        return len(self.blocks)

    def __len__(self) -> int:
        return len(self.blocks)

    def __iter__(self) -> Iterator[tuple[int, ...]]:
        return iter(self.blocks)

    def __getitem__(self, a: int) -> tuple[int, ...]:
        return self.blocks[a]

    def mask(self, a: int) -> np.ndarray:
        """Boolean vector over pixels: True on block ``a`` (the set :math:`J_a`)."""
        m = np.zeros(self.n_pixels, dtype=bool)
        m[list(self.blocks[a])] = True
        return m

    def outside(self, a: int) -> np.ndarray:
        """Flat indices of the pixels of every block :math:`b \\ne a`."""
        return np.flatnonzero(~self.mask(a))

    def labels(self) -> np.ndarray:
        """``[H, W]`` integer map: the block of every pixel (for plotting)."""
        lab = np.empty(self.n_pixels, dtype=int)
        for a, b in enumerate(self.blocks):
            lab[list(b)] = a
        return lab.reshape(self.shape)

    def pixel_block_matrix(self) -> np.ndarray:
        """``M[i, j] = 1`` when pixels ``i`` and ``j`` lie in the same block."""
        lab = self.labels().ravel()
        return (lab[:, None] == lab[None, :]).astype(float)

    @classmethod
    def from_labels(cls, labels: Sequence[Sequence[int]] | np.ndarray) -> BlockPartition:
        """A partition from an ``[H, W]`` map of block labels ``0 .. n_blocks - 1``."""
        lab = np.asarray(labels, dtype=int)
        if lab.ndim != 2:
            raise ValueError("labels must be a 2-d array")
        flat = lab.ravel()
        n = int(flat.max()) + 1
        blocks = tuple(tuple(np.flatnonzero(flat == a).tolist()) for a in range(n))
        return cls((lab.shape[0], lab.shape[1]), blocks)


def pixel_blocks(shape: tuple[int, int]) -> BlockPartition:
    """Every pixel its own block (the paper's two-pixel example uses this)."""
    h, w = shape
    return BlockPartition((h, w), tuple((i,) for i in range(h * w)))


def grid_blocks(shape: tuple[int, int], block_shape: tuple[int, int]) -> BlockPartition:
    """Rectangular blocks ``block_shape`` tiling ``shape`` in row-major block order,
    the square blocks :math:`J_a = \\{i..i+l\\} \\times \\{j..j+l\\}` of section 2."""
    h, w = shape
    bh, bw = block_shape
    if h % bh or w % bw:
        raise ValueError(f"block shape {block_shape} does not tile image shape {shape}")
    rows = np.arange(h)[:, None] // bh
    cols = np.arange(w)[None, :] // bw
    return BlockPartition.from_labels(rows * (w // bw) + cols)
