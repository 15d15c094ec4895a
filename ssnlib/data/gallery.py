"""Contact sheets of a dataset: images with their colour-coded part maps.

The first figures of the book and the quickest check that a dataset looks
right: `save_gallery` writes a PNG grid where each image sits above (or, for
datasets without part maps, alone in) its cell.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ssnlib.data.procedural import Sample
from ssnlib.utils import to_uint8

# Part colours: distinct, readable hues; part 0 (background/sky) is dark grey.
PART_COLOURS = np.array([
    (40, 40, 40), (230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48),
    (145, 30, 180), (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212),
    (0, 128, 128), (220, 190, 255), (170, 110, 40), (255, 250, 200), (128, 0, 0),
], np.uint8)


def colourise_parts(parts: np.ndarray | torch.Tensor) -> np.ndarray:
    """Integer part map [H, W] -> uint8 RGB [H, W, 3] with `PART_COLOURS` (cycled past 16)."""
    parts = np.asarray(parts, dtype=np.int64)
    return PART_COLOURS[parts % len(PART_COLOURS)]


def gallery(dataset, n: int = 16, ncol: int = 8, start: int = 0, pad: int = 2) -> np.ndarray:
    """The grid as uint8 [H', W', 3]: `n` images from index `start`, `ncol` per row; for
    items that are `Sample`s, each image has its part map beneath it."""
    n = min(n, len(dataset) - start)
    if n <= 0:
        raise ValueError(f"no images to show: dataset has {len(dataset)}, start={start}")
    cells = []
    for i in range(start, start + n):
        item = dataset[i]
        if isinstance(item, Sample):
            cells.append(np.concatenate([to_uint8(item.image), colourise_parts(item.parts)]))
        else:
            cells.append(to_uint8(item[0] if isinstance(item, tuple) else item))
    h, w, _ = cells[0].shape
    ncol = min(ncol, n)
    nrow = -(-n // ncol)
    grid = np.full((nrow * (h + pad) + pad, ncol * (w + pad) + pad, 3), 255, np.uint8)
    for k, cell in enumerate(cells):
        r, c = divmod(k, ncol)
        grid[pad + r * (h + pad):pad + r * (h + pad) + h, pad + c * (w + pad):][:, :w] = cell
    return grid


def save_gallery(dataset, path: str | Path, n: int = 16, ncol: int = 8, start: int = 0,
                 scale: int = 1) -> Path:
    """Write `gallery(dataset, n, ncol, start)` as a PNG, enlarged `scale` times (nearest
    neighbour, so pixels stay visible); returns the path."""
    path = Path(path)
    image = Image.fromarray(gallery(dataset, n, ncol, start))
    if scale > 1:
        image = image.resize((image.width * scale, image.height * scale), Image.Resampling.NEAREST)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path
