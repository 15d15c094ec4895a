"""Where a block resample's change lands, and what repeated or graded resamples do.

Three measurements on a spatial generator, all with the noise inputs held fixed and the same
reproducible draws as :func:`ssnlib.metrics.distortion_and_locality` (sample ``i`` of seed
``s`` draws from its own generator, :func:`ssnlib.metrics.sampling.draw`):

* :func:`distance_profile`: the change per pixel binned by the pixel's distance from the
  resampled block (:meth:`BlockGrid.distance_map`, block units): inside, then rings. Its
  inside bin is the locality metric's ``inside`` and its outside bins, pooled by pixel count,
  are the ``distortion`` for the same ``count`` and ``seed``;
* :func:`resample_drift`: one block resampled again and again, each time from the latest
  latent; the change outside it against the *original* image after k resamples. The kept
  blocks of z never change, so nothing can accumulate: the outside change after k resamples
  has the same law for every k;
* :func:`graded_changes`: the graded resample ``cos(t) z_a + sin(t) z'_a``
  (:func:`ssnlib.resample.resample_blocks` with ``t``) along t, with the same fresh ``z'`` for
  every t: the change inside and outside the block as functions of t.

Sample ``i`` resamples block ``i mod n_blocks`` in the last two (every block in the first), so a
count that is a multiple of the number of blocks weighs all blocks alike.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ssnlib.blocks import BlockGrid, grid_of
from ssnlib.metrics.sampling import draw, model_device, sample_generator
from ssnlib.resample.core import graded, resample_blocks

PROFILE_EDGES = (0.5, 1.0, 2.0)
"""Ring edges in block units: bins inside, (0, 0.5], (0.5, 1], (1, 2], beyond 2."""


def distance_bins(grid: BlockGrid, a: int, edges: Sequence[float] = PROFILE_EDGES
                  ) -> torch.Tensor:
    """Long [H, W]: 0 inside block ``a``, k for a pixel whose centre lies in ring k, i.e. at a
    distance in ``(edges[k-2], edges[k-1]]`` block units (``(0, edges[0]]`` for k = 1, beyond
    the last edge for k = len(edges) + 1)."""
    d = grid.distance_map(a)
    rings = torch.bucketize(d, torch.tensor(list(edges), dtype=d.dtype))       # 0 .. len(edges)
    return torch.where(d == 0, 0, rings + 1)


def bin_labels(edges: Sequence[float] = PROFILE_EDGES) -> list[str]:
    """``["inside", "0-0.5", "0.5-1", "1-2", "> 2"]`` for the default edges."""
    bounds = [0.0, *edges]
    return (["inside"] + [f"{lo:g}-{hi:g}" for lo, hi in zip(bounds, bounds[1:], strict=False)]
            + [f"> {edges[-1]:g}"])


@dataclass
class DistanceProfile:
    """The change of a resample by distance from the block (one entry per bin of
    :func:`bin_labels`): mean squared and mean absolute change per pixel (mean over RGB,
    images in [-1, 1]), the standard error of the squared change over samples, each bin's share
    of the image's pixels and of the squared change (means over the blocks a)."""

    labels: list[str]
    mean_sq: list[float]
    mean_sq_se: list[float]
    mean_abs: list[float]
    pixel_share: list[float]
    energy_share: list[float]
    count: int


def _changes(G, z, noise, z_new) -> tuple[torch.Tensor, torch.Tensor]:
    """Squared and absolute change per pixel (mean over RGB), float32 [B, H, W] each."""
    delta = G(z_new, noise=noise).float() - G(z, noise=noise).float()
    return delta.square().mean(1), delta.abs().mean(1)


@torch.no_grad()
def distance_profile(G, count: int, seed: int = 0, batch: int = 16,
                     edges: Sequence[float] = PROFILE_EDGES) -> DistanceProfile:
    """Resample every block a of ``count`` samples in turn (the new block from a second
    latent of the sample, as in :func:`~ssnlib.metrics.distortion_and_locality`) and bin the
    change per pixel by distance from a (see :func:`distance_bins`)."""
    grid = grid_of(G, need="a distance profile")
    n_bins = len(edges) + 2
    bins = torch.stack([distance_bins(grid, a, edges) for a in range(grid.n_blocks)])
    onehot = torch.nn.functional.one_hot(bins, n_bins).float()          # [n, H, W, bins]
    pixels = onehot.sum((1, 2))                                          # [n, bins]
    cells = torch.arange(grid.n_blocks).reshape(1, 1, grid.n_h, grid.n_w)
    sq_sum, abs_sum = [], []                                             # [B, bins] per batch
    device = model_device(G)
    for start in range(0, count, batch):
        (z, z_fresh), noise, _ = draw(G, range(start, min(start + batch, count)), seed,
                                      n_latents=2)
        s_sq = s_abs = 0.0
        for a in range(grid.n_blocks):
            z_a = torch.where(cells.to(device) == a, z_fresh, z)
            sq, ab = _changes(G, z, noise, z_a)
            s_sq = s_sq + torch.einsum("bhw,hwk->bk", sq.cpu(), onehot[a])
            s_abs = s_abs + torch.einsum("bhw,hwk->bk", ab.cpu(), onehot[a])
        sq_sum.append(s_sq)
        abs_sum.append(s_abs)
    sq_sum, abs_sum = torch.cat(sq_sum).double(), torch.cat(abs_sum).double()   # [count, bins]
    per_pixel = pixels.sum(0).double()                                   # over the blocks a
    per_sample = sq_sum / per_pixel.clamp(min=1)                         # [count, bins]
    se = per_sample.std(0) / math.sqrt(count) if count > 1 else per_sample[0] * math.nan
    total = sq_sum.sum()
    return DistanceProfile(
        labels=bin_labels(edges),
        mean_sq=(sq_sum.sum(0) / (count * per_pixel)).tolist(),
        mean_sq_se=se.tolist(),
        mean_abs=(abs_sum.sum(0) / (count * per_pixel)).tolist(),
        pixel_share=(per_pixel / per_pixel.sum()).tolist(),
        energy_share=(sq_sum.sum(0) / total).tolist() if total > 0 else [math.nan] * n_bins,
        count=count)


def _inside_outside(sq: torch.Tensor, masks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean of ``sq`` [B, H, W] over each sample's block (``masks`` [B, H, W]) and outside it."""
    m = masks.float()
    inside = (sq * m).flatten(1).sum(1) / m.flatten(1).sum(1)
    outside = (sq * (1 - m)).flatten(1).sum(1) / (1 - m).flatten(1).sum(1)
    return inside, outside


def _block_masks(grid: BlockGrid, indices: range) -> tuple[list[int], torch.Tensor]:
    blocks = [i % grid.n_blocks for i in indices]
    return blocks, torch.stack([grid.block_mask(a) for a in blocks])


@torch.no_grad()
def resample_drift(G, count: int, repeats: Sequence[int] = (1, 2, 4, 8, 16), seed: int = 0,
                   batch: int = 16) -> dict:
    """Resample block ``i mod n`` of sample i ``max(repeats)`` times in a row with
    :func:`~ssnlib.resample.resample_blocks` (each from the latest latent; the fresh values
    continue the sample's own generator after its z and noise), and after each k in
    ``repeats`` measure the mean squared change inside and outside the block against the
    original image.

    Returns ``repeats``, ``outside`` and ``inside`` (means over samples, one per k) with their
    standard errors ``outside_se``, ``inside_se``, and ``latent_outside``: the largest change
    of any kept latent block over all steps (0 exactly)."""
    grid = grid_of(G, need="a drift measurement")
    repeats = sorted({int(k) for k in repeats})
    if not repeats or repeats[0] < 1:
        raise ValueError(f"repeats must be positive counts, got {repeats}")
    device = model_device(G)
    outs, ins, latent_moved = [], [], 0.0
    for start in range(0, count, batch):
        idx = range(start, min(start + batch, count))
        gens = [sample_generator(seed, i) for i in idx]
        z = torch.cat([G.sample_z(1, g, device=device) for g in gens])
        noise = [torch.cat(maps) for maps in zip(*[G.make_noise(1, g, device=device)
                                                    for g in gens], strict=True)]
        blocks, masks = _block_masks(grid, idx)
        latent_keep = ~torch.stack([grid.latent_mask(a) for a in blocks]).to(device)
        base = G(z, noise=noise).float()
        current, out_k, in_k = z, [], []
        for k in range(1, repeats[-1] + 1):
            current = torch.cat([resample_blocks(G, current[j:j + 1], blocks[j], gens[j])
                                 for j in range(len(idx))])
            moved = (current - z).abs().amax(1)                          # [B, n_h, n_w]
            latent_moved = max(latent_moved, float(moved[latent_keep].max()))
            if k in repeats:
                sq = (G(current, noise=noise).float() - base).square().mean(1)
                i_, o_ = _inside_outside(sq.cpu(), masks)
                in_k.append(i_)
                out_k.append(o_)
        outs.append(torch.stack(out_k, 1))
        ins.append(torch.stack(in_k, 1))
    outside, inside = torch.cat(outs).double(), torch.cat(ins).double()  # [count, len(repeats)]
    n = math.sqrt(count)
    return {"repeats": repeats, "outside": outside.mean(0).tolist(),
            "outside_se": (outside.std(0) / n).tolist(), "inside": inside.mean(0).tolist(),
            "inside_se": (inside.std(0) / n).tolist(), "latent_outside": latent_moved,
            "count": count}


@torch.no_grad()
def graded_changes(G, count: int, ts: Sequence[float], seed: int = 0, batch: int = 16) -> dict:
    """The graded resample of block ``i mod n`` of sample i, new block
    ``cos(t) z_a + sin(t) z'_a`` (z' the sample's second latent, the same for every t), for
    each t in ``ts``: the mean squared change per pixel inside the block and outside it
    (``inside``, ``outside``: one mean over samples per t)."""
    grid = grid_of(G, need="graded resampling")
    device = model_device(G)
    ins, outs = [], []
    for start in range(0, count, batch):
        idx = range(start, min(start + batch, count))
        (z, z_fresh), noise, _ = draw(G, idx, seed, n_latents=2)
        blocks, masks = _block_masks(grid, idx)
        chosen = torch.stack([grid.latent_mask(a) for a in blocks])[:, None].to(device)
        base = G(z, noise=noise).float()
        in_t, out_t = [], []
        for t in ts:
            z_t = torch.where(chosen, graded(z, z_fresh, t), z)
            sq = (G(z_t, noise=noise).float() - base).square().mean(1)
            i_, o_ = _inside_outside(sq.cpu(), masks)
            in_t.append(i_)
            out_t.append(o_)
        ins.append(torch.stack(in_t, 1))
        outs.append(torch.stack(out_t, 1))
    inside, outside = torch.cat(ins).double(), torch.cat(outs).double()
    return {"t": [float(t) for t in ts], "inside": inside.mean(0).tolist(),
            "outside": outside.mean(0).tolist(), "count": count}
