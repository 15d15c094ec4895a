"""Block resampling of an SSN's latent and the sequential all-blocks chain (Definition 1).

Resampling block a (paper, section 3) keeps every z_b, b != a, and draws z_a afresh from
N(0, I); the image is regenerated with the *same* noise inputs, so only the latent changes.
Because blocks of z are independent, resampling every block in turn ends at a z independent of
the start: the SSN's resampling is a block-resampling in the sense of Definition 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ssnlib.blocks import grid_of
from ssnlib.layers import randn
from ssnlib.resample.select import Selection, selected_indices, selection_mask


def _latent_mask(G, z: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Broadcast a selection [B or 1, n_h, n_w] over z [B, *z_shape]."""
    G.check_z(z)
    if mask.shape[0] not in (1, z.shape[0]):
        raise ValueError(f"a per-sample selection has {mask.shape[0]} entries for a batch of "
                         f"{z.shape[0]}")
    if getattr(G, "spatial", False):
        return mask[:, None].to(z.device)
    return mask.reshape(-1, 1).to(z.device)        # StyleGAN2: the single block is all of z


FULL = math.pi / 2          # the strength of a full resample: the old block is forgotten


def resample_blocks(G, z: torch.Tensor, blocks: Selection,
                    generator: torch.Generator | None = None,
                    threshold: float = 0.5, t: float = FULL) -> torch.Tensor:
    """A new latent: the selected blocks of ``z`` [B, z_dim, n_h, n_w] drawn afresh from
    N(0, I) with ``generator``, every other block kept exactly.

    ``blocks`` is anything :func:`~ssnlib.resample.select.selection_mask` takes: indices,
    ``(row, col)`` pairs, a boolean grid (per sample too) or a pixel mask (``threshold`` is then
    the coverage a block needs). Noise inputs are not part of z: pass the same noise list to
    ``G`` for the image before and after. For a StyleGAN2 ``G`` the whole z is the one block 0.

    ``t`` grades the change: the new block is ``cos(t) z_a + sin(t) z_fresh``, which is N(0, I)
    again for any t (a rotation of two independent standard normals), from t = 0 (no change)
    to t = pi/2 (a full resample, the default).
    """
    mask = _latent_mask(G, z, selection_mask(grid_of(G), blocks, threshold))
    fresh = randn(z.shape, generator, device=z.device, dtype=z.dtype)
    return torch.where(mask, graded(z, fresh, t), z)


def redraw_global(G, noise: Sequence[torch.Tensor], generator: torch.Generator | None = None,
                  t: float = FULL) -> list[torch.Tensor]:
    """A new noise list for a generator with a global latent: u (the list's last entry) drawn
    afresh, graded by ``t`` as :func:`resample_blocks` grades a block, every noise map kept.
    With the same z, only what u carries changes (a face's background, say): the other half
    of the control a block resample gives, which keeps u."""
    if not getattr(G, "global_dim", 0):
        raise ValueError(f"{type(G).__name__} has no global latent u to redraw (global_dim 0)")
    noise = list(noise)
    if len(noise) != G.num_noise:
        raise ValueError(f"expected {G.num_noise} noise entries (see make_noise), "
                         f"got {len(noise)}")
    u = noise[-1]
    fresh = randn(u.shape, generator, device=u.device, dtype=u.dtype)
    return [*noise[:-1], graded(u, fresh, t)]


def graded(z: torch.Tensor, fresh: torch.Tensor, t: float) -> torch.Tensor:
    """``cos(t) z + sin(t) fresh``: N(0, I) again for independent standard normal z and
    fresh; exactly ``fresh`` at t = pi/2."""
    return fresh if t == FULL else math.cos(t) * z + math.sin(t) * fresh


@torch.no_grad()
def change_locality(before: torch.Tensor, after: torch.Tensor, grid, blocks: Selection
                    ) -> dict[str, float]:
    """Where a resample changed the image: the mean absolute change per pixel inside and
    outside the chosen blocks (image units, 0 to 2), and the share of the squared change
    (its energy) that falls inside them. ``before``/``after``: one image [3, H, W]."""
    chosen = selected_indices(selection_mask(grid, blocks)[0])
    inside = grid.block_mask(chosen, device=before.device)                      # [H, W]
    delta = after.float() - before.float()                                      # [3, H, W]
    energy = delta.square().sum(0)
    total = float(energy.sum())
    return {"inside": float(delta.abs().mean(0)[inside].mean()),
            "outside": float(delta.abs().mean(0)[~inside].mean()) if (~inside).any() else 0.0,
            "energy_inside": float(energy[inside].sum()) / total if total > 0 else float("nan")}


@dataclass
class Chain:
    """The run of :func:`resample_chain`.

    ``zs`` [n_blocks + 1, B, *z_shape]: z^(0) (the start) to z^(n) (every block redrawn);
    ``order``: the block resampled at each step; ``images`` [n_blocks + 1, B, 3, R, R] or None.
    """

    zs: torch.Tensor
    order: list[int]
    images: torch.Tensor | None = None


def resample_chain(G, z: torch.Tensor, order: Sequence[int] | None = None,
                   generator: torch.Generator | None = None, render: bool = False,
                   noise: Sequence[torch.Tensor] | None = None) -> Chain:
    """Resample every block once, one at a time, in ``order`` (a permutation of the block
    indices; default row-major), as in Definition 1.

    The last latent shares nothing with ``z``: it is a fresh sample of N(0, I), which is why
    an SSN's block resampling is a block-resampling of its image distribution (for a
    generator with a global latent u, kept in the noise, only once u is redrawn too:
    :func:`redraw_global`). With
    ``render=True`` every frame is generated under one fixed noise (``noise``, or a draw from
    ``generator``), so the frames show the image drifting block by block into a new sample.
    """
    grid = grid_of(G)
    order = list(range(grid.n_blocks)) if order is None else [int(a) for a in order]
    if sorted(order) != list(range(grid.n_blocks)):
        raise ValueError(f"order must be a permutation of the {grid.n_blocks} block indices, "
                         f"got {order}")
    zs = [z]
    for a in order:
        zs.append(resample_blocks(G, zs[-1], a, generator))
    zs = torch.stack(zs)
    images = None
    if render:
        if noise is None:
            noise = G.make_noise(z.shape[0], generator, device=z.device)
        k = len(zs)                       # all frames in one batch, frame-major like zs
        with torch.no_grad():
            images = G(zs.flatten(0, 1), noise=[n.repeat(k, 1, 1, 1) for n in noise])
        images = images.reshape(k, *z.shape[:1], *images.shape[1:])
    return Chain(zs, order, images)
