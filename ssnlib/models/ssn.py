"""Spatially Stochastic Network generator (paper, section 3, Figure 3).

z [B, z_dim, n_h, n_w] --PixelNorm + 8 x (1x1 EqualConv2d, lr_mul 0.01)--> w-grid [B, w_dim,
n_h, n_w] --spatial encoder--> w-map --per-layer affine + resize--> style map of every layer ->
spatially modulated convs (eq. 1) with noise, skip ToRGB with spatial modulation.

The paper does not publish its spatial encoder; ours is described in :class:`SpatialEncoder`.
The names mirror :class:`~ssnlib.models.stylegan2.StyleGAN2Generator` so StyleGAN2 weights
transfer by name (section 3.4): ``style.N.weight`` [out, in] -> [out, in, 1, 1],
``conv.modulation.weight`` [C, w_dim] -> [C, w_dim, 1, 1], everything else as is; only
``encoder.*`` has no counterpart.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ssnlib.blocks import BlockGrid
from ssnlib.layers import (
    DEFAULT_BLUR,
    SIGMA_MODES,
    ConstantInput,
    EqualConv2d,
    FusedLeakyReLU,
    NoiseInjection,
    PixelNorm,
    SpatiallyModulatedConv2d,
    Upsample,
    randn,
)
from ssnlib.models.common import GeneratorBase, NoiseArg, make_channels
from ssnlib.utils import assert_shape, check_positive


def grid_mapping(z_dim: int, w_dim: int, n_mlp: int, lr_mlp: float) -> nn.Sequential:
    """StyleGAN2's mapping MLP applied to every block independently, as 1x1 convolutions."""
    return nn.Sequential(PixelNorm(), *[
        EqualConv2d(z_dim if i == 0 else w_dim, w_dim, 1, lr_mul=lr_mlp, activation=True)
        for i in range(n_mlp)])


class GlobalLatent(nn.Module):
    """A global latent u beside the grid (ours; the paper's conclusion suggests latents at
    several scales): u [B, global_dim, 1, 1] ~ N(0, I) goes through its own mapping MLP to
    w_u [B, w_dim, 1, 1], which is added to every block's w::

        w_a <- w_a + gain * w_u(u)        for every block a of the w-grid

    u rides in the noise list (its last entry, see ``make_noise``), so everything that holds
    the noise when a block is redrawn (eq. 2, the metrics, the BlockPicker) holds u too: a
    block resample keeps whatever u carries, and eq. 2 neither asks the blocks to agree on it
    nor charges it (so eq. 2 alone lets a generator move its variety into u and leave the
    blocks inert: chapter 5, "A global latent, trained"). ``gain`` starts at ``gain_init``, 0 by
    default, so a model grown from one without u (``model.init``) starts by drawing exactly
    its images. At 0, though, nothing in the loss rewards u at first order (the images do not
    depend on it, so the gain's gradient, the image gradient against a random w_u, averages
    to 0): grown from the faces transfer it stayed near 0 through 120,000 images
    (``data/studies/faces32-ssn-global``); a nonzero start lets u act from the first step,
    at the cost of a start that differs slightly from the model it grew from. ``const`` is
    the u of ``noise="const"``. Truncation pulls the w-grid only; u is left as drawn.

    Redrawing every block in turn now ends at a fresh z under the *same* u; redrawing u too
    (:func:`ssnlib.resample.redraw_global`) ends at a fresh sample, so Definition 1's chain
    needs u as one more step, a "block" that spans the image.
    """

    def __init__(self, global_dim: int, w_dim: int, n_mlp: int, lr_mlp: float,
                 gain_init: float = 0.0):
        super().__init__()
        self.style = grid_mapping(global_dim, w_dim, n_mlp, lr_mlp)
        self.gain = nn.Parameter(torch.full((1,), float(gain_init)))
        self.register_buffer("const", torch.randn(1, global_dim, 1, 1))

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        """u [B, global_dim, 1, 1] -> the offset ``gain * w_u`` [B, w_dim, 1, 1]."""
        return self.gain * self.style(u)


class SpatialEncoder(nn.Module):
    """Turns the w-grid [B, w_dim, n_h, n_w] into a smooth w-map [B, w_dim, s*n_h, s*n_w].

    Our design (the paper's encoder is unpublished). Every block is split into ``s x s`` cells
    (``subdiv``, default 4) by nearest up-sampling, then ``units`` residual units
    ``x + gain * conv3x3(lrelu(conv3x3(x)))`` in w-space soften the block borders. Each layer
    then takes the w-map through its own 1x1 affine ``modulation`` (StyleGAN2's per-layer
    affine, transferable) and resizes it to its resolution (bilinear up, area down), inside
    :class:`~ssnlib.layers.SpatiallyModulatedConv2d`.

    Locality, a bounded receptive field: w-grid blocks are independent (per-block MLP), each
    3x3 conv reaches one cell, so a block of z changes the w-map only within ``2 * units`` cells
    (half a block for the defaults) of its own cells (:attr:`reach`); bilinear resizing adds at
    most half a cell more (0.625 block at 32 px for a 4x4 grid). Area pooling to a coarser layer
    averages whole cells, so there the reach rounds up to one of that layer's pixels: at the
    4x4 layer under a 4x4 grid (one pixel per block) a block's w changes its neighbours' style
    pixels, a whole block away. :func:`ssnlib.diagnostics.style_footprint` measures it (chapter
    4). The synthesis convolutions spread further; the distortion regulariser (eq. 2), not the
    architecture, keeps that in check.

    ``gain`` starts at 0 (one per unit, ReZero style), so a fresh encoder is exactly a nearest
    split of the blocks and a model transferred from StyleGAN2 starts as StyleGAN2 run with each
    block's own w in each block, softened by the bilinear resize.
    """

    def __init__(self, w_dim: int, subdiv: int = 4, units: int = 1):
        super().__init__()
        check_positive(subdiv=subdiv)
        if isinstance(units, bool) or not isinstance(units, int) or units < 0:
            raise ValueError(f"units must be a non-negative integer, got {units!r}")
        self.subdiv = subdiv
        self.convs = nn.ModuleList()
        for _ in range(units):
            self.convs.append(EqualConv2d(w_dim, w_dim, 3, padding=1, activation=True))
            self.convs.append(EqualConv2d(w_dim, w_dim, 3, padding=1))
        self.gain = nn.Parameter(torch.zeros(units))

    @property
    def reach(self) -> int:
        """How many cells beyond its own cells a block's w can change the w-map."""
        return len(self.convs)

    def forward(self, w_grid: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(w_grid, scale_factor=self.subdiv, mode="nearest")
        for u in range(len(self.gain)):
            x = x + self.gain[u].to(x.dtype) * self.convs[2 * u + 1](self.convs[2 * u](x))
        return x


class SpatialStyledConv(nn.Module):
    """Spatially modulated 3x3 conv (eq. 1, optionally x2 up) -> noise -> bias + leaky ReLU."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, upsample: bool = False,
                 blur_kernel: Sequence[float] = DEFAULT_BLUR, sigma_mode: str = "exact"):
        super().__init__()
        self.conv = SpatiallyModulatedConv2d(in_channels, out_channels, 3, style_dim=w_dim,
                                             upsample=upsample, blur_kernel=blur_kernel,
                                             sigma_mode=sigma_mode)
        self.noise = NoiseInjection()
        self.activate = FusedLeakyReLU(out_channels)

    def forward(self, x, w_map, noise=None, generator=None):
        return self.activate(self.noise(self.conv(x, w_map), noise, generator))


class SpatialToRGB(nn.Module):
    """Spatially modulated 1x1 conv to RGB, no demodulation, plus the up-sampled skip."""

    def __init__(self, in_channels: int, w_dim: int, upsample: bool = True,
                 blur_kernel: Sequence[float] = DEFAULT_BLUR):
        super().__init__()
        if upsample:
            self.upsample = Upsample(blur_kernel)
        self.conv = SpatiallyModulatedConv2d(in_channels, 3, 1, style_dim=w_dim,
                                             demodulate=False)
        self.bias = nn.Parameter(torch.zeros(1, 3, 1, 1))

    def forward(self, x, w_map, skip=None):
        out = self.conv(x, w_map) + self.bias
        if skip is not None:
            out = out + self.upsample(skip)
        return out


class SpatialGenerator(GeneratorBase):
    """The skeleton SSN and its SPADE variant share: a spatial latent z [B, z_dim, n_h, n_w],
    per-block mapping to a w-grid, the spatial encoder, a constant 4x4 input and StyleGAN2's
    layer layout with output skips. Subclasses say how a layer is conditioned on the w-map
    through two factories, :meth:`styled_conv` and :meth:`to_rgb`.

    ``mapping(z)`` gives the w-grid [B, w_dim, n_h, n_w] (blocks mapped independently);
    ``synthesis(w_grid)`` runs the encoder and the synthesis network.
    ``grid`` is the :class:`~ssnlib.blocks.BlockGrid` over the output image.
    """

    spatial = True

    def __init__(self, resolution: int, grid: tuple[int, int], z_dim: int, w_dim: int,
                 channels: dict[int, int] | None, channel_max: int, channel_multiplier: int,
                 n_mlp: int, lr_mlp: float, encoder_subdiv: int, encoder_units: int,
                 blur_kernel: Sequence[float], global_dim: int = 0, global_gain: float = 0.0):
        check_positive(n_mlp=n_mlp)
        chans = make_channels(resolution, channels, channel_max, channel_multiplier)
        super().__init__(resolution, z_dim, w_dim, chans, global_dim)
        n_h, n_w = grid
        self.grid = BlockGrid(n_h, n_w, resolution, resolution)
        self.style = grid_mapping(z_dim, w_dim, n_mlp, lr_mlp)
        if global_dim:
            self.global_latent = GlobalLatent(global_dim, w_dim, n_mlp, lr_mlp, global_gain)
        self.encoder = SpatialEncoder(w_dim, encoder_subdiv, encoder_units)
        self.input = ConstantInput(chans[4])
        self.conv1 = self.styled_conv(chans[4], chans[4], upsample=False, blur_kernel=blur_kernel)
        self.to_rgb1 = self.to_rgb(chans[4], upsample=False, blur_kernel=blur_kernel)
        self.convs, self.to_rgbs = nn.ModuleList(), nn.ModuleList()
        for i in range(3, self.log_size + 1):
            cin, cout = chans[2 ** (i - 1)], chans[2 ** i]
            self.convs.append(self.styled_conv(cin, cout, upsample=True, blur_kernel=blur_kernel))
            self.convs.append(self.styled_conv(cout, cout, upsample=False,
                                               blur_kernel=blur_kernel))
            self.to_rgbs.append(self.to_rgb(cout, upsample=True, blur_kernel=blur_kernel))

    def styled_conv(self, in_channels: int, out_channels: int, upsample: bool,
                    blur_kernel: Sequence[float]) -> nn.Module:
        """A 3x3 layer ``(x, w_map, noise, generator) -> x`` conditioned on the w-map."""
        raise NotImplementedError

    def to_rgb(self, in_channels: int, upsample: bool, blur_kernel: Sequence[float]) -> nn.Module:
        """An output layer ``(x, w_map, skip) -> rgb`` adding the up-sampled skip."""
        raise NotImplementedError

    @property
    def z_shape(self) -> tuple[int, ...]:
        return (self.z_dim, self.grid.n_h, self.grid.n_w)

    def const_noise(self) -> list[torch.Tensor]:
        return super().const_noise() + ([self.global_latent.const] if self.global_dim else [])

    def synthesis(self, w: torch.Tensor, noise: NoiseArg = None,
                  generator: torch.Generator | None = None) -> torch.Tensor:
        """w-grid [B, w_dim, n_h, n_w] -> images [B, 3, R, R]."""
        shape = (self.w_dim, self.grid.n_h, self.grid.n_w)
        if w.ndim != 4 or tuple(w.shape[1:]) != shape:
            raise ValueError(f"w must be a w-grid [B, {', '.join(map(str, shape))}], "
                             f"got {tuple(w.shape)}")
        noise = self._noise_list(noise)
        if self.global_dim:
            u = noise[-1]
            if u is None:               # drawn first, as make_noise draws it
                u = randn((w.shape[0], self.global_dim, 1, 1), generator, device=w.device)
            assert_shape("the global latent u (the noise list's last entry)", u,
                         [None, self.global_dim, 1, 1])
            w = w + self.global_latent(u.to(w.dtype))          # [B, w_dim, n_h, n_w]
        w_map = self.encoder(w)
        x = self.conv1(self.input(w.shape[0]), w_map, noise[0], generator)
        skip = self.to_rgb1(x, w_map)
        for k, to_rgb in enumerate(self.to_rgbs):
            x = self.convs[2 * k](x, w_map, noise[2 * k + 1], generator)
            x = self.convs[2 * k + 1](x, w_map, noise[2 * k + 2], generator)
            skip = to_rgb(x, w_map, skip)
        return skip


class SSNGenerator(SpatialGenerator):
    """The SSN generator: spatially modulated convs (eq. 1) and spatially modulated ToRGB on
    the :class:`SpatialGenerator` skeleton. ``sigma_mode`` (``"exact"`` or ``"fast"``) chooses
    how every layer computes sigma_E (see :class:`~ssnlib.layers.SpatiallyModulatedConv2d`); it
    changes no parameter, so a checkpoint runs in either mode. ``global_dim > 0`` adds a
    :class:`GlobalLatent` u (ours, not the paper's; 0, the default, is the paper's SSN) whose
    gain starts at ``global_gain``."""

    arch = "ssn"

    def __init__(self, resolution: int = 256, grid: tuple[int, int] = (4, 4), z_dim: int = 512,
                 w_dim: int = 512, channels: dict[int, int] | None = None,
                 channel_max: int = 512, channel_multiplier: int = 2, n_mlp: int = 8,
                 lr_mlp: float = 0.01, encoder_subdiv: int = 4, encoder_units: int = 1,
                 blur_kernel: Sequence[float] = DEFAULT_BLUR, sigma_mode: str = "exact",
                 global_dim: int = 0, global_gain: float = 0.0):
        if sigma_mode not in SIGMA_MODES:
            raise ValueError(f"sigma_mode must be one of {SIGMA_MODES}, got {sigma_mode!r}")
        self.sigma_mode = sigma_mode            # the factories below run inside __init__
        super().__init__(resolution, grid, z_dim, w_dim, channels, channel_max,
                         channel_multiplier, n_mlp, lr_mlp, encoder_subdiv, encoder_units,
                         blur_kernel, global_dim, global_gain)

    def styled_conv(self, in_channels, out_channels, upsample, blur_kernel):
        return SpatialStyledConv(in_channels, out_channels, self.w_dim, upsample=upsample,
                                 blur_kernel=blur_kernel, sigma_mode=self.sigma_mode)

    def to_rgb(self, in_channels, upsample, blur_kernel):
        return SpatialToRGB(in_channels, self.w_dim, upsample=upsample, blur_kernel=blur_kernel)
