"""GAN losses and regularisers: logistic losses, R1, path length, and the distortion
regulariser R_D (paper, eq. 2).

Conventions follow StyleGAN2 (Karras et al. 2020) and its PyTorch ports (rosinality,
stylegan2-ada): the non-saturating logistic loss, R1 on real images, path length on half a batch.
The *lazy* regularisers return the plain penalty; the trainer multiplies it by its interval k
(and rescales Adam by c = k / (k + 1)), so the configured weight is the per-step weight.

Every regulariser that needs randomness takes a ``torch.Generator``, so runs are reproducible
and resumable bit for bit.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ssnlib.blocks import grid_of
from ssnlib.layers import randn
from ssnlib.utils import assert_shape, check_positive

DISTORTION_MODES = ("outside", "radial", "share", "radial_share")
SHARE_EPS = 1e-8         # squared change summed over an image, far below any real resample's


def _wide(x: torch.Tensor) -> torch.Tensor:
    """At least float32: bf16/fp16 activations are reduced in float32, float64 stays float64."""
    return x.to(torch.promote_types(x.dtype, torch.float32))


def d_logistic_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Discriminator logistic loss: ``E[softplus(-D(x))] + E[softplus(D(G(z)))]``."""
    return F.softplus(-_wide(real_logits)).mean() + F.softplus(_wide(fake_logits)).mean()


def g_nonsaturating_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Generator non-saturating logistic loss: ``E[softplus(-D(G(z)))] = -E[log sigmoid(.)]``."""
    return F.softplus(-_wide(fake_logits)).mean()


def r1_penalty(D: torch.nn.Module, real: torch.Tensor, gamma: float) -> torch.Tensor:
    """R1 (Mescheder et al. 2018): ``gamma / 2 * E ||grad_x D(x)||^2`` on real images.

    ``real`` is detached here and the gradient is taken with ``create_graph=True`` so the
    penalty back-propagates into D's parameters (a double backward: never torch.compile it).
    """
    real = real.detach().requires_grad_(True)
    logits = D(real)
    (grad,) = torch.autograd.grad(_wide(logits).sum(), real, create_graph=True)
    return 0.5 * gamma * _wide(grad).square().flatten(1).sum(1).mean()


def _w_path_lengths(grad: torch.Tensor) -> torch.Tensor:
    """Per-sample path length from the gradient w.r.t. w (see :func:`path_length_penalty`)."""
    g = _wide(grad).square()
    if g.ndim == 2:                      # [B, w_dim]: one w vector
        return g.sum(1).sqrt()
    if g.ndim == 3:                      # [B, K, w_dim]: one w per layer (StyleGAN2)
        return g.sum(2).mean(1).sqrt()
    if g.ndim == 4:                      # [B, w_dim, n_h, n_w]: one w per block (SSN)
        return g.flatten(1).sum(1).sqrt()
    raise ValueError(f"w must have 2, 3 or 4 dims, got shape {tuple(grad.shape)}")


def path_lengths(G: torch.nn.Module, z: torch.Tensor, noise=None,
                 generator: torch.Generator | None = None,
                 y: torch.Tensor | None = None) -> torch.Tensor:
    """Per-sample path lengths ``|J_w^T y|`` (differentiable, for :func:`path_length_penalty`).

    ``y ~ N(0, I) / sqrt(H W)`` is drawn with ``generator``; the gradient of ``<g(w), y>`` is
    taken w.r.t. every w vector that feeds the synthesis network and its squared norm is
    averaged over those vectors before the square root:

    * StyleGAN2: w is broadcast to one vector per layer, ``[B, K, w_dim]``, so the path length
      is ``sqrt(mean_k ||d<g, y>/dw_k||^2)``: stylegan2-ada's definition;
    * SSN / SPADE: the w-grid ``[B, w_dim, n_h, n_w]`` holds one vector per block, and the path
      length is the norm of the whole gradient, ``sqrt(sum_a ||d<g, y>/dw_a||^2)``: how fast
      the image moves when every block's w moves at once (with a 1x1 grid, StyleGAN2's value
      for a single w). A block moves only its own part of the image, so each term is about its
      share of the whole and the sum keeps about the same scale across grids (tested from 1x1 to
      4x4 at 32 px; it falls once blocks are only a few pixels wide). A *mean* over blocks
      would shrink like 1 / sqrt(n_h n_w) (measured 0.32, 0.15, 0.057 at 2x2, 4x4, 8x8 with
      the same weights), and the regulariser's weight would mean something else on every grid.

    ``y`` may be given (already scaled), e.g. drawn for a whole multi-process batch and sliced.
    """
    w = G.mapping(z)
    n_latent = getattr(G, "n_latent", None)
    if w.ndim == 2 and n_latent is not None:
        w = w[:, None].repeat(1, n_latent, 1)
    if not w.requires_grad:             # frozen mapping: the Jacobian w.r.t. w is still defined
        w.requires_grad_(True)
    images = G.synthesis(w, noise, generator)
    images = _wide(images)
    if y is None:
        y = randn(images.shape, generator, device=images.device, dtype=images.dtype)
        y = y / math.sqrt(images.shape[2] * images.shape[3])
    (grad,) = torch.autograd.grad((images * y).sum(), w, create_graph=True)
    return _w_path_lengths(grad)


def path_length_penalty(lengths: torch.Tensor, mean_length: torch.Tensor
                        ) -> torch.Tensor:
    """StyleGAN2's path length regulariser ``E[(|J_w^T y| - a)^2]`` (its eq. 4).

    ``lengths`` come from :func:`path_lengths`; ``mean_length`` is the running mean ``a``
    (:func:`update_mean_path_length`), a constant here. The weight (2 in the paper) and the lazy
    interval are applied by the trainer.
    """
    return (lengths - mean_length.detach()).square().mean()


def update_mean_path_length(mean_length: torch.Tensor, batch_mean: torch.Tensor,
                            decay: float = 0.01) -> torch.Tensor:
    """Exponential moving average of the path length: ``a <- a + decay * (mean - a)``."""
    return mean_length + decay * (batch_mean.detach().to(mean_length.dtype) - mean_length)


def distortion_weights(grid, blocks: torch.Tensor, mode: str = "outside",
                       device: torch.device | str | None = None) -> torch.Tensor:
    """Pixel weights [B, 1, H, W] of the distortion penalty for resampled blocks ``blocks`` [B].

    * ``outside``: 1 on every pixel outside block a, 0 inside (each block b != a counts once,
      as in eq. 2);
    * ``radial``: ``d_a(p) / mean_{q not in J_a} d_a(q)`` outside block a, 0 inside, where
      ``d_a(p)`` is the distance of pixel p's centre from block a in block units
      (:meth:`BlockGrid.distance_map`). Changes next to the resampled block (needed to keep the
      image consistent) are nearly free, far ones cost more; dividing by the mean makes the
      weights average 1 over the pixels outside a, so both modes have the same scale for a
      uniform change and lambda_D means the same thing;
    * ``share``: the indicator of ``outside``; :func:`distortion_penalty` divides by the whole
      change instead of counting pixels (see there);
    * ``radial_share``: the ``radial`` weights, divided by the whole change like ``share``.

    ``grid`` is the generator's :class:`~ssnlib.blocks.BlockGrid`.
    """
    if mode not in DISTORTION_MODES:
        raise ValueError(f"distortion mode must be one of {DISTORTION_MODES}, got {mode!r}")
    maps = {}
    for a in blocks.tolist():
        if a not in maps:
            if mode in ("outside", "share"):
                maps[a] = (~grid.block_mask(a, device=device)).float()
            else:
                d = grid.distance_map(a, device=device)
                maps[a] = d / d[d > 0].mean()
    return torch.stack([maps[a] for a in blocks.tolist()])[:, None]


def sample_blocks(grid, n: int, generator: torch.Generator | None = None,
                device: torch.device | str | None = None) -> torch.Tensor:
    """``n`` block indices drawn uniformly (the resampled block a of eq. 2), on ``device``."""
    gen_device = generator.device if generator is not None else device
    return torch.randint(grid.n_blocks, (n,), generator=generator, device=gen_device).to(device)


def eq2_factor(grid, channels: int = 3, divergence: str = "block_mse") -> int:
    """The constant c with ``c * E_a[distortion_penalty(mode="outside")]`` equal to eq. 2's
    double sum ``sum_a sum_{b != a} D_b(g(z), g(z^a))`` for the same z and fresh blocks (the
    expectation is over the block a drawn uniformly, i.e. the mean over all a):

    * ``block_mse``: D_b is the mean squared change over block b's pixels and channels,
      c = n (n - 1) for n blocks (240 on a 4x4 grid);
    * ``block_sse``: D_b is the summed squared change over block b, c = n (n - 1) P C for P
      pixels per block and C channels (46,080 at 32 px, 2,949,120 at 256 px, 4x4 grid, RGB).

    Our estimator is a per-pixel mean, so lambda_D keeps its meaning across resolutions and
    grids; the paper's Table 2 balance (lambda_D times distortion of about 0.03 to 1 for lambda
    from 1 to 10^4) matches such a mean rather than either sum.
    """
    n = grid.n_blocks
    if divergence == "block_mse":
        return n * (n - 1)
    if divergence == "block_sse":
        bh, bw = grid.block_size
        return n * (n - 1) * bh * bw * channels
    raise ValueError(f"divergence must be block_mse or block_sse, got {divergence!r}")


def _distortion_draws(G, z, noise, resamples, generator, blocks, z_fresh):
    """The noise, the resampled blocks [R*B] and the fresh latents [R*B, *z_shape] of
    :func:`distortion_penalty`: those given (shapes checked), the rest drawn with ``generator``
    in this order: noise, blocks, z_fresh."""
    n = resamples * z.shape[0]
    if noise is None:
        noise = G.make_noise(z.shape[0], generator, device=z.device)
    if blocks is None:
        blocks = sample_blocks(grid_of(G), n, generator, z.device)
    assert_shape("blocks (resamples * batch)", blocks, [n])
    shape = [n, *z.shape[1:]]
    if z_fresh is None:
        z_fresh = randn(shape, generator, device=z.device, dtype=z.dtype)
    assert_shape("z_fresh", z_fresh, shape)
    return noise, blocks.to(z.device), z_fresh


def distortion_penalty(G: torch.nn.Module, z: torch.Tensor, noise=None, mode: str = "outside",
                       resamples: int = 1, generator: torch.Generator | None = None,
                       blocks: torch.Tensor | None = None,
                       z_fresh: torch.Tensor | None = None) -> torch.Tensor:
    """The distortion regulariser R_D (paper, eq. 2), estimated on the batch ``z``.

    For every sample z a block a is drawn uniformly (``resamples`` independent blocks per
    sample), ``z^a`` is z with block a redrawn from N(0, I) (all other blocks kept), both
    ``g(z)`` and ``g(z^a)`` are generated with the SAME noise inputs, and the pixel MSE
    between them is taken over the blocks b != a, weighted by :func:`distortion_weights`:

        R_D ~= mean_{z, a} [ sum_p m_a(p) mean_c (g(z) - g(z^a))_{c,p}^2 / |{p not in J_a}| ]

    With ``mode="outside"`` (``m_a`` the indicator of pixels outside J_a) this is the mean over
    b != a of each block's MSE, eq. 2 up to the constant factor n_blocks * (n_blocks - 1) of its
    sums over a and b (absorbed into lambda_D). A perfectly local generator scores exactly 0.

    ``mode="share"`` (ours, not the paper's) charges the *share* of each resample's change
    that lands outside its block, sum_{p not in J_a} d_a(p) / sum_p d_a(p), i.e. 1 minus the
    energy inside of :mod:`ssnlib.metrics.distortion`. Eq. 2 charges the outside change
    itself, which a generator can also lower by varying less (chapter 5, "The price of
    consistency": the skylines lambda_D = 100 run cut its block variance 11x); a share does
    not change when every change shrinks alike, so only locality lowers it. It lies in [0, 1]
    (about 0.8 for an unregularised SSN), so its lambda_D has its own scale.
    ``mode="radial_share"`` (ours) weights that outside change by distance as ``radial`` does,
    sum_p m_a(p) d_a(p) / sum_p d_a(p): a change that blends the block into its neighbours is
    nearly free, a far one costs up to the largest weight (2.1 to 2.5 on a 4x4 grid). For an
    even change outside it equals the share, since the weights average 1 there.

    ``noise`` is a list from ``G.make_noise``; ``blocks`` [resamples * B] (sample i's
    resamples are rows i, B + i, ...) and ``z_fresh`` [resamples * B, *z_shape] (its block a is
    the new block) fix the other random draws. Whatever is None is drawn with ``generator``, in
    this order: noise, blocks, z_fresh. ``G`` must be a spatial generator with a ``grid``;
    gradients flow through both images.
    """
    grid = grid_of(G, need="the distortion penalty")
    check_positive(resamples=resamples)
    noise, blocks, z_fresh = _distortion_draws(G, z, noise, resamples, generator, blocks,
                                               z_fresh)
    R, n = resamples, grid.n_blocks          # resamples per sample, blocks
    # g(z), the image before: [B, 3, H, W]
    base = _wide(G(z, noise=noise))
    # z^a: z with block a redrawn, every block b != a kept (sample i's resamples are rows
    # i, B + i, ...): keep [R*B, 1, n_h, n_w], z^a [R*B, z_dim, n_h, n_w]
    keep = (torch.arange(n, device=z.device)[None] != blocks[:, None])
    keep = keep.reshape(-1, 1, grid.n_h, grid.n_w)
    z_a = torch.where(keep, z.repeat(R, *([1] * (z.ndim - 1))), z_fresh.to(z.dtype))
    noise_rep = [m if m is None or m.shape[0] == 1 else m.repeat(R, 1, 1, 1) for m in noise]
    # g(z^a) with the SAME noise: [R*B, 3, H, W]
    moved = _wide(G(z_a, noise=noise_rep))
    # d_a(p) = mean_c (g(z) - g(z^a))_{c,p}^2: [R*B, 1, H, W]
    sq = (base.repeat(R, 1, 1, 1) - moved).square().mean(1, keepdim=True)
    # m_a(p): 0 inside J_a, the mode's weight outside: [R*B, 1, H, W]
    weights = distortion_weights(grid, blocks, mode, device=z.device).to(base.dtype)
    if mode in ("share", "radial_share"):
        # sum_p m_a(p) d_a(p) / sum_p d_a(p), per resample
        return ((sq * weights).flatten(1).sum(1) / (sq.flatten(1).sum(1) + SHARE_EPS)).mean()
    # R_D ~= mean_{z, a} sum_p m_a(p) d_a(p) / |pixels outside J_a|
    bh, bw = grid.block_size
    outside = grid.height * grid.width - bh * bw
    return (sq * weights).flatten(1).sum(1).mean() / outside
