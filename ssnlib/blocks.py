"""Geometry of the latent grid over the image.

An SSN's latent z has shape [z_dim, n_h, n_w]: one independent block z_a per cell of an
n_h x n_w grid laid over the image (paper, section 2: blocks J_a partition the pixels, here into
equal rectangles). :class:`BlockGrid` answers every geometric question the rest of the library
asks: which block a pixel belongs to, the pixel box and mask of a block or set of blocks at the
image resolution or any other (a generator layer, a feature map), and how much of each block a
user's mask covers. Blocks are numbered row-major: ``index = row * n_w + col``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import torch

from ssnlib.utils import check_positive


@dataclass(frozen=True)
class BlockGrid:
    """An ``n_h x n_w`` grid of equal blocks over a ``height x width`` image.

    The grid must divide the image (``height % n_h == 0`` and ``width % n_w == 0``) so that
    every block is a ``block_h x block_w`` rectangle of whole pixels. Masks at *other*
    resolutions (:meth:`label_map` with a ``size``) assign each pixel by its centre, which also
    works where the grid does not divide that resolution (a 4x4 layer under an 8x8 grid).
    """

    n_h: int
    n_w: int
    height: int
    width: int

    def __post_init__(self):
        check_positive(n_h=self.n_h, n_w=self.n_w, height=self.height, width=self.width)
        if self.height % self.n_h or self.width % self.n_w:
            raise ValueError(
                f"a {self.n_h}x{self.n_w} block grid does not divide a {self.height}x{self.width}"
                f" image: height must be a multiple of n_h and width a multiple of n_w")

    @property
    def n_blocks(self) -> int:
        return self.n_h * self.n_w

    @property
    def block_size(self) -> tuple[int, int]:
        """Pixels per block, ``(block_h, block_w)``."""
        return self.height // self.n_h, self.width // self.n_w

    def check_index(self, index: int) -> int:
        if isinstance(index, bool) or not isinstance(index, int | torch.Tensor) \
                or not 0 <= int(index) < self.n_blocks:
            raise IndexError(f"block index must be an integer in [0, {self.n_blocks}), "
                             f"got {index!r}")
        return int(index)

    def index(self, row: int, col: int) -> int:
        """Row-major block index of grid cell ``(row, col)``."""
        if not (0 <= row < self.n_h and 0 <= col < self.n_w):
            raise IndexError(f"cell ({row}, {col}) is outside the {self.n_h}x{self.n_w} grid")
        return row * self.n_w + col

    def position(self, index: int) -> tuple[int, int]:
        """``(row, col)`` of block ``index``; the inverse of :meth:`index`."""
        return divmod(self.check_index(index), self.n_w)

    def box(self, index: int) -> tuple[int, int, int, int]:
        """Pixel box ``(top, left, bottom, right)`` of a block, bottom/right exclusive."""
        row, col = self.position(index)
        bh, bw = self.block_size
        return row * bh, col * bw, (row + 1) * bh, (col + 1) * bw

    def block_at(self, y: int, x: int) -> int:
        """Index of the block holding image pixel ``(y, x)``."""
        if not (0 <= y < self.height and 0 <= x < self.width):
            raise IndexError(f"pixel ({y}, {x}) is outside the {self.height}x{self.width} image")
        bh, bw = self.block_size
        return self.index(y // bh, x // bw)

    def _size(self, size: tuple[int, int] | None) -> tuple[int, int]:
        if size is None:
            return self.height, self.width
        h, w = size
        check_positive(mask_height=h, mask_width=w)
        return h, w

    def label_map(self, size: tuple[int, int] | None = None,
                  device: torch.device | str | None = None) -> torch.Tensor:
        """Long tensor [H, W] with the block index of every pixel (at the image resolution, or
        at ``size = (H, W)``, where a pixel belongs to the block containing its centre)."""
        h, w = self._size(size)
        rows = ((torch.arange(h, device=device) + 0.5) * self.n_h / h).long()
        cols = ((torch.arange(w, device=device) + 0.5) * self.n_w / w).long()
        return rows[:, None] * self.n_w + cols[None, :]

    def _indices(self, blocks: int | Iterable[int]) -> list[int]:
        if isinstance(blocks, int | torch.Tensor) and torch.as_tensor(blocks).ndim == 0:
            return [self.check_index(blocks)]
        return [self.check_index(b) for b in blocks]

    def latent_mask(self, blocks: int | Iterable[int],
                    device: torch.device | str | None = None) -> torch.Tensor:
        """Bool tensor [n_h, n_w], True at the given blocks (to select them in z)."""
        mask = torch.zeros(self.n_blocks, dtype=torch.bool, device=device)
        mask[self._indices(blocks)] = True
        return mask.reshape(self.n_h, self.n_w)

    def block_mask(self, blocks: int | Iterable[int], size: tuple[int, int] | None = None,
                   device: torch.device | str | None = None) -> torch.Tensor:
        """Bool tensor [H, W], True on the pixels of a block or a set of blocks, at the image
        resolution or at ``size``."""
        selected = self.latent_mask(blocks, device=device).flatten()
        return selected[self.label_map(size, device=device)]

    def block_coverage(self, mask: torch.Tensor) -> torch.Tensor:
        """Fraction of each block's pixels that a mask [H, W] covers, as a float [n_h, n_w].

        ``mask`` (bool or weights in [0, 1]) may have any resolution the grid divides; this is
        how a painted region of the image becomes a set of latent blocks."""
        if mask.ndim != 2:
            raise ValueError(f"mask must be [H, W], got shape {tuple(mask.shape)}")
        h, w = mask.shape
        if h % self.n_h or w % self.n_w:
            raise ValueError(f"a {self.n_h}x{self.n_w} grid does not divide a {h}x{w} mask")
        cells = mask.float().reshape(self.n_h, h // self.n_h, self.n_w, w // self.n_w)
        return cells.mean(dim=(1, 3))

    def distance_map(self, blocks: int | Iterable[int], size: tuple[int, int] | None = None,
                     device: torch.device | str | None = None) -> torch.Tensor:
        """Float tensor [H, W]: Euclidean distance of each pixel centre from the nearest
        selected block, in units of block size (0 inside). The radial fall-off of the
        distortion penalty weighs pixels by it."""
        h, w = self._size(size)
        ys = (torch.arange(h, device=device) + 0.5) * self.n_h / h          # in block units
        xs = (torch.arange(w, device=device) + 0.5) * self.n_w / w
        best = torch.full((h, w), float("inf"), device=device)
        for index in self._indices(blocks):
            row, col = self.position(index)
            dy = (row - ys).clamp(min=0) + (ys - row - 1).clamp(min=0)
            dx = (col - xs).clamp(min=0) + (xs - col - 1).clamp(min=0)
            best = torch.minimum(best, torch.hypot(dy[:, None], dx[None, :]))
        return best


def grid_of(G, need: str | None = None) -> BlockGrid:
    """The block grid of a generator: ``G.grid`` for spatial models (SSN, SPADE).

    A StyleGAN2 generator has one global z, i.e. a single block covering the whole image: it
    gets a 1x1 grid, so its only block is 0 and resampling it draws a whole new image. With
    ``need`` (what asks, e.g. "the distortion penalty"), a generator without a grid is an
    error instead.
    """
    grid = getattr(G, "grid", None)
    if grid is not None:
        return grid
    if need is not None:
        raise ValueError(f"{need} needs a spatial generator with a block grid; "
                         f"{type(G).__name__} has none")
    return BlockGrid(1, 1, G.resolution, G.resolution)
