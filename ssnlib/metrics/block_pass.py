"""The resampling pass that distortion, locality and consistency share.

For each sample of a batch, g(z) and every g(z^a) (block a redrawn, all other blocks and the
noise kept; the new block from a second latent of the sample) are generated once, in float32,
and measured two ways at the same time:

* per pixel: the mean squared change inside block a, outside it, and outside with radial
  weights (:mod:`ssnlib.metrics.distortion`);
* per block mean: each block's mean colour in g(z) and the squared change of every block's
  mean under each resample (:mod:`ssnlib.metrics.consistency`), plus, when asked, under a
  redraw of the noise maps with every block kept.

Both metrics read the same draws (:func:`ssnlib.metrics.sampling.draw`), so one pass serves
both when both are asked for: ``ssn eval --metrics distortion,locality,consistency`` runs the
generator n + 2 times per sample, not 2n + 3.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ssnlib.blocks import BlockGrid, grid_of
from ssnlib.losses import distortion_weights
from ssnlib.metrics.sampling import batches, draw, model_device, sample_generator


def block_means(images: torch.Tensor, grid: BlockGrid) -> torch.Tensor:
    """The mean of each channel over each block: images [B, C, H, W] -> [B, C, n_blocks]
    (blocks row-major)."""
    b, c, h, w = images.shape
    if (h, w) != (grid.height, grid.width):
        raise ValueError(f"images are {h}x{w}, the block grid is {grid.height}x{grid.width}")
    bh, bw = grid.block_size
    cells = images.float().reshape(b, c, grid.n_h, bh, grid.n_w, bw).mean((3, 5))
    return cells.reshape(b, c, grid.n_blocks)


def fresh_noise(G, indices: range, seed: int) -> list[torch.Tensor]:
    """A second set of noise maps per sample, independent of :func:`draw`'s (stream 1 of the
    sample's generator): per-layer maps [B, 1, r, r]."""
    maps = [G.make_noise(1, sample_generator(seed, i, stream=1), device=model_device(G))
            for i in indices]
    return [torch.cat(layer) for layer in zip(*maps, strict=True)]


@dataclass
class BlockPass:
    """What one pass measured, on the CPU; column (or source) a is for resampling block a."""

    inside: torch.Tensor        # [B, n] mean squared change per pixel inside block a
    outside: torch.Tensor       # [B, n] ... over the pixels of every other block
    radial: torch.Tensor        # [B, n] ... outside, with eq. 2's radial weights
    stats: torch.Tensor         # [B, C, n] block means of g(z)
    changes: torch.Tensor       # [B, C, n (+ 1 for the noise), n targets] squared mean change
    noise: bool                 # whether the last source of ``changes`` is the noise redraw
    grid: tuple[int, int]       # blocks down and across

    @staticmethod
    def cat(parts: list[BlockPass]) -> BlockPass:
        return BlockPass(*(torch.cat([getattr(p, k) for p in parts]) for k in
                           ("inside", "outside", "radial", "stats", "changes")),
                         noise=parts[0].noise, grid=parts[0].grid)


@torch.no_grad()
def resample_each_block(G, z: torch.Tensor, noise, z_fresh: torch.Tensor,
                        noise_fresh=None) -> BlockPass:
    """Resample every block of ``z`` [B, *z_shape] in turn (its new value from ``z_fresh``),
    then, if ``noise_fresh`` is given, redraw the noise instead; measure each change."""
    grid = grid_of(G, need="a resampling pass")
    base = G(z, noise=noise).float()
    means = block_means(base, grid)
    cells = torch.arange(grid.n_blocks, device=z.device).reshape(1, 1, grid.n_h, grid.n_w)
    radial_weights = distortion_weights(grid, cells.flatten().cpu(), "radial",
                                        z.device)[:, 0]                      # [n, H, W]
    inside, outside, radial, changes = [], [], [], []
    for a in range(grid.n_blocks):
        moved = G(torch.where(cells == a, z_fresh, z), noise=noise).float()     # g(z^a)
        sq = (moved - base).square().mean(1)                        # d_a(p): [B, H, W]
        mask = grid.block_mask(a, size=tuple(sq.shape[-2:]), device=z.device)
        inside.append(sq[:, mask].mean(1))
        outside.append(sq[:, ~mask].mean(1))
        radial.append((sq * radial_weights[a])[:, ~mask].mean(1))
        changes.append((block_means(moved, grid) - means).square())
    if noise_fresh is not None:
        changes.append((block_means(G(z, noise=noise_fresh), grid) - means).square())
    return BlockPass(*(torch.stack(x, 1).cpu() for x in (inside, outside, radial)),
                     means.cpu(), torch.stack(changes, 2).cpu(), noise=noise_fresh is not None,
                     grid=(grid.n_h, grid.n_w))


def block_pass(G, count: int, seed: int = 0, batch: int = 8, noise: bool = False) -> BlockPass:
    """:func:`resample_each_block` on samples ``0 .. count-1`` of ``seed`` (with the noise
    redraw when ``noise``), ``batch`` at a time; the result does not depend on ``batch``."""
    grid_of(G, need="a resampling pass")
    parts = []
    for idx in batches(count, batch, "resampling pass"):
        (z, z_fresh), xi, _ = draw(G, idx, seed, n_latents=2)
        parts.append(resample_each_block(G, z, xi, z_fresh,
                                         fresh_noise(G, idx, seed) if noise else None))
    return BlockPass.cat(parts)
