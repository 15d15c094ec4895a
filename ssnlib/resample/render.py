"""Pictures of a resampling: the block grid over an image, the selected blocks, and where
the image changed (a difference heat map).

The PIL functions are cheap enough to run on every click of a widget; :func:`resample_figure`
is the matplotlib version for the book's figures.
"""

from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image, ImageDraw

from ssnlib.blocks import BlockGrid
from ssnlib.utils import to_uint8

# Anchors of matplotlib's "inferno" map, interpolated once into a 256-entry lookup table so a
# heat map costs one indexing operation.
_INFERNO = np.array([(0, 0, 4), (40, 11, 84), (101, 21, 110), (159, 42, 99), (212, 72, 66),
                     (245, 125, 21), (250, 193, 39), (252, 255, 164)], np.float64)
HEAT_LUT = np.stack([np.interp(np.linspace(0, 1, 256), np.linspace(0, 1, len(_INFERNO)),
                               _INFERNO[:, c]) for c in range(3)], 1).round().astype(np.uint8)
SELECT_RGB = (255, 64, 32)
GRID_RGB = (255, 255, 255)


def difference(before: torch.Tensor, after: torch.Tensor) -> torch.Tensor:
    """Per-pixel change, the mean absolute difference over RGB: [..., 3, H, W] -> [..., H, W]
    (image units: 0 = unchanged, 2 = black to white)."""
    if before.shape != after.shape:
        raise ValueError(f"before {tuple(before.shape)} and after {tuple(after.shape)} differ")
    return (after.detach().float() - before.detach().float()).abs().mean(-3)


def heatmap(diff: torch.Tensor, vmax: float | None = None) -> np.ndarray:
    """A difference map [H, W] as a uint8 inferno heat map [H, W, 3], scaled so ``vmax``
    (default: the map's own maximum) is the brightest colour."""
    d = diff.detach().float().cpu().numpy()
    top = float(d.max()) if vmax is None else float(vmax)
    level = np.clip(d / max(top, 1e-8) * 255, 0, 255).astype(np.uint8)
    return HEAT_LUT[level]


def draw_blocks(rgb: np.ndarray, grid: BlockGrid, selected=(), scale: int = 1,
                lines: bool = True) -> Image.Image:
    """``rgb`` [H, W, 3] enlarged ``scale`` times (nearest), with the grid's lines and the
    ``selected`` block indices tinted and outlined."""
    h, w = rgb.shape[:2]
    if (h, w) != (grid.height, grid.width):
        raise ValueError(f"image {h}x{w} does not match the grid's {grid.height}x{grid.width}")
    img = Image.fromarray(rgb).resize((w * scale, h * scale), Image.NEAREST)
    if not lines and not len(selected):
        return img
    overlay = Image.new("RGBA", img.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    bh, bw = grid.block_size[0] * scale, grid.block_size[1] * scale
    if lines:
        for r in range(1, grid.n_h):
            draw.line([(0, r * bh), (img.width, r * bh)], fill=(*GRID_RGB, 110), width=1)
        for c in range(1, grid.n_w):
            draw.line([(c * bw, 0), (c * bw, img.height)], fill=(*GRID_RGB, 110), width=1)
    edge = max(1, scale // 2)
    for a in selected:
        top, left, bottom, right = (v * scale for v in grid.box(int(a)))
        draw.rectangle([left, top, right - 1, bottom - 1], fill=(*SELECT_RGB, 70),
                       outline=(*SELECT_RGB, 255), width=edge)
    return Image.alpha_composite(img.convert("RGBA"), overlay).convert("RGB")


def png_bytes(image: Image.Image | np.ndarray) -> bytes:
    """PNG encoding of a PIL image or a uint8 array [H, W, 3]."""
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=1)     # fast: the widget encodes per click
    return buf.getvalue()


def resample_figure(before: torch.Tensor, after: torch.Tensor, grid: BlockGrid, blocks=(),
                    titles: tuple[str, str, str] = ("before", "after", "|after - before|"),
                    target: torch.Tensor | None = None):
    """A matplotlib figure: ``before`` and ``after`` (one image [3, H, W] each, in [-1, 1])
    with the block grid drawn over them and the resampled ``blocks`` outlined, and the
    difference heat map with its colour bar (image units, 0 to 2). With ``target`` (the
    picture an inversion aimed at) it comes first, so the inversion can be judged."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    images = [("your image", target)] if target is not None else []
    images += [(titles[0], before), (titles[1], after)]
    fig, axes = plt.subplots(1, len(images) + 1, figsize=(3.2 * (len(images) + 1), 3.4),
                             layout="constrained")
    for ax, (title, image) in zip(axes, images, strict=False):
        ax.imshow(to_uint8(image))
        ax.set_title(title)
    diff = difference(before, after).cpu().numpy()
    shown = axes[-1].imshow(diff, cmap="inferno", vmin=0)
    axes[-1].set_title(titles[2])
    fig.colorbar(shown, ax=axes[-1], fraction=0.046)
    for ax in axes[1:] if target is not None else axes:
        for r in range(1, grid.n_h):
            ax.axhline(r * grid.block_size[0] - 0.5, color="white", lw=0.6, alpha=0.6)
        for c in range(1, grid.n_w):
            ax.axvline(c * grid.block_size[1] - 0.5, color="white", lw=0.6, alpha=0.6)
        for a in blocks:
            top, left, bottom, right = grid.box(int(a))
            ax.add_patch(Rectangle((left - 0.5, top - 0.5), right - left, bottom - top,
                                   fill=False, edgecolor=np.array(SELECT_RGB) / 255, lw=2))
        ax.set_xticks([])
        ax.set_yticks([])
    return fig
