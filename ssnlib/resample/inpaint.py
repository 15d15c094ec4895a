"""Inpainting with the same generator: the baseline a block resample is compared with.

Inpainting samples the pixels of a hole given every pixel outside it (paper, section 2), so
the outside is returned exactly. A GAN inpaints by searching its latent for an image that
agrees with the kept pixels, the *context loss* of Yeh et al. (2017, "Semantic image
inpainting with deep generative models"), with a prior that keeps the latent a plausible draw,
and then pastes that image's pixels into the hole:

    z* = argmin_z  mean_{p kept} |g(z)_p - y_p|^2  +  prior_weight * prior(z)
    inpainted = keep * y + (1 - keep) * g(z*)

:func:`inpaint_blocks` runs this on an SSN with the hole = the resampled blocks, starting from
the block resample itself: both begin with the same new content, and what differs is only that
inpainting must give back the old outside. :func:`border_jump` measures what that costs: how
much neighbouring pixels across the hole's border differ.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ssnlib.blocks import grid_of
from ssnlib.invert import latent_prior
from ssnlib.resample.select import Selection, selection_mask


@dataclass
class Inpainting:
    """The result of :func:`inpaint_blocks` for a batch of B images at resolution R."""

    image: torch.Tensor            # [B, 3, R, R] kept pixels outside the hole, the fill inside
    fill: torch.Tensor             # [B, 3, R, R] the generator's image at the found latent
    z: torch.Tensor                # the found latent
    context_error: list[float]     # mean squared error on the kept pixels, at each step


def inpaint_blocks(G, image: torch.Tensor, start: torch.Tensor, noise: list[torch.Tensor],
                   blocks: Selection, steps: int = 200, lr: float = 0.05,
                   prior_weight: float = 0.01) -> Inpainting:
    """Inpaint the pixels of ``blocks`` in ``image`` [B, 3, R, R] with ``G`` (module docstring):
    Adam on the latent from ``start`` (e.g. the block resample's z), the noise held fixed.
    The weights of ``G`` are not touched."""
    keep = (~hole_pixels(grid_of(G), blocks, image.device)).float()[:, None]  # [B|1, 1, R, R]
    target = image.detach()
    z = start.detach().clone().requires_grad_(True)
    opt = torch.optim.Adam([z], lr=lr)
    errors = []
    for _ in range(steps):
        err = ((G(z, noise=noise) - target).pow(2) * keep).sum((1, 2, 3)) / (
            3 * keep.sum((1, 2, 3)))
        loss = (err + prior_weight * latent_prior(z)).sum()   # images in a batch are apart
        (grad,) = torch.autograd.grad(loss, [z])
        z.grad = grad
        opt.step()
        errors.append(float(err.detach().mean()))
    with torch.no_grad():
        fill = G(z, noise=noise)
    return Inpainting(keep * target + (1 - keep) * fill, fill, z.detach(), errors)


def hole_pixels(grid, blocks: Selection, device=None) -> torch.Tensor:
    """The pixels of the selected blocks, bool [B or 1, R, R] (per sample for a per-sample
    selection)."""
    return selection_mask(grid, blocks, device=device).flatten(1)[:, grid.label_map(device=device)]


def border_jump(image: torch.Tensor, grid, blocks: Selection) -> torch.Tensor:
    """Mean absolute difference (over RGB, image units) between the two pixels of every
    neighbouring pair that straddles the border of the ``blocks`` region, per image [B].

    A seam shows as a jump larger than the image's own across the same border."""
    hole = hole_pixels(grid, blocks, image.device)                        # [B|1, R, R]
    jumps, count = 0, 0
    for dim in (-1, -2):                                     # horizontal, then vertical pairs
        n = hole.shape[dim] - 1
        cross = (hole.narrow(dim, 0, n) != hole.narrow(dim, 1, n)).float()  # [B|1, R, R-1] ...
        step = (image.narrow(dim, 1, n) - image.narrow(dim, 0, n)).abs().mean(-3)  # [B, ...]
        jumps = jumps + (step * cross).sum((-2, -1))
        count = count + cross.sum((-2, -1))
    return jumps / count.clamp(min=1)
