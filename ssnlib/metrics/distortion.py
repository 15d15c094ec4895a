"""LDBR distortion (the paper's Table 2 column) and StyleMapGAN-style locality.

For a sample z and each block a in turn, ``z^a`` is z with block a redrawn from N(0, I) (all
other blocks kept; one fresh latent per sample supplies the new block for every a), and
``g(z)``, ``g(z^a)`` are generated with the SAME noise maps, in float32. With images in
[-1, 1] and ``d_a(p) = mean_c (g(z) - g(z^a))_{c,p}^2``:

* **distortion** = mean over samples and blocks a of the mean of ``d_a`` over the pixels of all
  blocks b != a. It is the evaluation counterpart of the regulariser R_D (eq. 2,
  :func:`ssnlib.losses.distortion_penalty` in ``outside`` mode, which it equals for the same
  draws) with every block resampled instead of a random one. This is *our* definition of the
  paper's "distortion" column: the paper does not publish its normalisation (sum vs mean over
  b, pixel range), so only its ordering across lambda_D, not its scale, is comparable.
* **inside** = the same mean over the pixels of block a: how much the resampled block itself
  changes (StyleMapGAN's "MSE_ref"-like term; a generator that ignores its latent scores 0 on
  both);
* **outside / inside** (``leak_ratio``): the share of the change that lands outside the block,
  relative to inside; 0 for a perfectly local generator, about 1 for one whose blocks act
  globally;
* **energy inside** (``energy_inside``): of a resample's whole squared change, the share that
  falls inside the resampled block (mean over samples and blocks); 1 for a perfectly local
  generator, the block's share of the pixels (1/16 on a 4x4 grid) for one that changes every
  pixel alike;
* **radial distortion** (``distortion_radial``): the outside mean weighted by distance from the
  block (:func:`ssnlib.losses.distortion_weights`, ``radial``: changes next to the block count
  little, far ones more; the weights average 1 outside), the studied alternative to eq. 2's
  uniform weighting, reported beside it.

Standard errors are over samples (each sample's mean over blocks is one observation).
"""

from __future__ import annotations

import math

import torch

from ssnlib.blocks import grid_of
from ssnlib.metrics.block_pass import BlockPass, block_pass, resample_each_block


def block_changes(G, z: torch.Tensor, noise, z_fresh: torch.Tensor
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Mean squared change inside and outside every block, and the radially weighted outside
    mean: three float32 [B, n_blocks] tensors; column a is for resampling block a (its new
    value taken from ``z_fresh``)."""
    grid_of(G, need="distortion and locality")
    p = resample_each_block(G, z, noise, z_fresh)
    return p.inside, p.outside, p.radial


def _mean_se(x: torch.Tensor) -> tuple[float, float]:
    x = x.double()
    se = x.std().item() / math.sqrt(x.numel()) if x.numel() > 1 else float("nan")
    return x.mean().item(), se


def distortion_and_locality(G, count: int, seed: int = 0, batch: int = 8) -> dict:
    """Distortion, inside-block change and their ratio over ``count`` samples (see the module
    docstring), plus the distortion of each block a (``per_block``, row-major)."""
    grid_of(G, need="distortion and locality")
    return locality_scores(block_pass(G, count, seed, batch))


def locality_scores(p: BlockPass) -> dict:
    """The scores of :func:`distortion_and_locality` from a resampling pass."""
    inside, outside, radial = p.inside, p.outside, p.radial
    n = inside.shape[1]
    d, d_se = _mean_se(outside.mean(1))
    m_in, in_se = _mean_se(inside.mean(1))
    r, r_se = _mean_se(radial.mean(1))
    # squared change summed over pixels: the block's P pixels inside, (n - 1) P outside
    energy_in, energy_out = inside, outside * (n - 1)
    share = energy_in / (energy_in + energy_out).clamp(min=1e-30)      # [B, n_blocks]
    e, e_se = _mean_se(share.mean(1))
    return {"distortion": d, "distortion_se": d_se, "inside": m_in, "inside_se": in_se,
            "leak_ratio": d / m_in if m_in > 0 else float("nan"),
            "energy_inside": e, "energy_inside_se": e_se,
            "distortion_radial": r, "distortion_radial_se": r_se,
            "per_block": outside.mean(0).tolist(), "grid": list(p.grid),
            "count": len(inside)}
