"""The SSN skeleton conditioned through SPADE instead of spatial modulation (section 3.1).

Same mapping (per block), encoder, constant input, noise and output skips as
:class:`~ssnlib.models.ssn.SSNGenerator`, but every conv is a plain (weight-shared) conv
followed, StyleGAN1/AdaIN style, by noise, bias + leaky ReLU and a :class:`~ssnlib.layers.SPADE`
layer conditioned on the w-map. SPADE normalises by the *actual* feature statistics, which is
what produces droplet artefacts; the chapter on droplets trains this model next to the SSN.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ssnlib.blocks import BlockGrid
from ssnlib.layers import (
    DEFAULT_BLUR,
    SPADE,
    ConstantInput,
    EqualConv2d,
    FusedLeakyReLU,
    NoiseInjection,
    Upsample,
)
from ssnlib.models.common import GeneratorBase, NoiseArg, check_positive, make_channels
from ssnlib.models.ssn import SpatialEncoder, grid_mapping


class SPADEStyledConv(nn.Module):
    """(x2 up by zero insertion + blur) -> 3x3 conv -> noise -> bias + lReLU -> SPADE(w-map)."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, upsample: bool = False,
                 hidden: int = 128, norm: str = "instance",
                 blur_kernel: Sequence[float] = DEFAULT_BLUR):
        super().__init__()
        self.upsample = Upsample(blur_kernel) if upsample else nn.Identity()
        self.conv = EqualConv2d(in_channels, out_channels, 3, padding=1, bias=False)
        self.noise = NoiseInjection()
        self.activate = FusedLeakyReLU(out_channels)
        self.spade = SPADE(out_channels, w_dim, hidden=hidden, norm=norm)

    def forward(self, x, w_map, noise=None, generator=None):
        x = self.conv(self.upsample(x))
        return self.spade(self.activate(self.noise(x, noise, generator)), w_map)


class PlainToRGB(nn.Module):
    """1x1 conv to RGB (the features are already conditioned), plus the up-sampled skip."""

    def __init__(self, in_channels: int, upsample: bool = True,
                 blur_kernel: Sequence[float] = DEFAULT_BLUR):
        super().__init__()
        if upsample:
            self.upsample = Upsample(blur_kernel)
        self.conv = EqualConv2d(in_channels, 3, 1)

    def forward(self, x, skip=None):
        out = self.conv(x)
        if skip is not None:
            out = out + self.upsample(skip)
        return out


class SPADEGenerator(GeneratorBase):
    """SPADE-conditioned generator on a spatial latent z [B, z_dim, n_h, n_w].

    ``spade_hidden`` is the width of SPADE's shared conv (NVlabs: 128), ``spade_norm`` is
    ``"instance"`` or ``"batch"``.
    """

    arch = "spade"
    spatial = True

    def __init__(self, resolution: int = 256, grid: tuple[int, int] = (4, 4), z_dim: int = 512,
                 w_dim: int = 512, channels: dict[int, int] | None = None,
                 channel_max: int = 512, channel_multiplier: int = 2, n_mlp: int = 8,
                 lr_mlp: float = 0.01, encoder_subdiv: int = 4, encoder_units: int = 1,
                 spade_hidden: int = 128, spade_norm: str = "instance",
                 blur_kernel: Sequence[float] = DEFAULT_BLUR):
        check_positive(n_mlp=n_mlp, spade_hidden=spade_hidden)
        chans = make_channels(resolution, channels, channel_max, channel_multiplier)
        super().__init__(resolution, z_dim, w_dim, chans)
        n_h, n_w = grid
        self.grid = BlockGrid(n_h, n_w, resolution, resolution)
        self.style = grid_mapping(z_dim, w_dim, n_mlp, lr_mlp)
        self.encoder = SpatialEncoder(w_dim, encoder_subdiv, encoder_units)
        self.input = ConstantInput(chans[4])
        opts = dict(hidden=spade_hidden, norm=spade_norm, blur_kernel=blur_kernel)
        self.conv1 = SPADEStyledConv(chans[4], chans[4], w_dim, **opts)
        self.to_rgb1 = PlainToRGB(chans[4], upsample=False)
        self.convs, self.to_rgbs = nn.ModuleList(), nn.ModuleList()
        for i in range(3, self.log_size + 1):
            cin, cout = chans[2 ** (i - 1)], chans[2 ** i]
            self.convs.append(SPADEStyledConv(cin, cout, w_dim, upsample=True, **opts))
            self.convs.append(SPADEStyledConv(cout, cout, w_dim, **opts))
            self.to_rgbs.append(PlainToRGB(cout, blur_kernel=blur_kernel))

    @property
    def z_shape(self) -> tuple[int, ...]:
        return (self.z_dim, self.grid.n_h, self.grid.n_w)

    def synthesis(self, w: torch.Tensor, noise: NoiseArg = None,
                  generator: torch.Generator | None = None) -> torch.Tensor:
        """w-grid [B, w_dim, n_h, n_w] -> images [B, 3, R, R]."""
        shape = (self.w_dim, self.grid.n_h, self.grid.n_w)
        if w.ndim != 4 or tuple(w.shape[1:]) != shape:
            raise ValueError(f"w must be a w-grid [B, {', '.join(map(str, shape))}], "
                             f"got {tuple(w.shape)}")
        noise = self._noise_list(noise)
        w_map = self.encoder(w)
        x = self.conv1(self.input(w.shape[0]), w_map, noise[0], generator)
        skip = self.to_rgb1(x)
        for k, to_rgb in enumerate(self.to_rgbs):
            x = self.convs[2 * k](x, w_map, noise[2 * k + 1], generator)
            x = self.convs[2 * k + 1](x, w_map, noise[2 * k + 2], generator)
            skip = to_rgb(x, skip)
        return skip
