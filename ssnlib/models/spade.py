"""The SSN skeleton conditioned through SPADE instead of spatial modulation (section 3.1).

Same mapping (per block), encoder, constant input, noise and output skips as
:class:`~ssnlib.models.ssn.SSNGenerator`, but every conv is a plain (weight-shared) conv
followed, StyleGAN1/AdaIN style, by noise, bias + leaky ReLU and a :class:`~ssnlib.layers.SPADE`
layer conditioned on the w-map. SPADE normalises by the *actual* feature statistics, which is
what produces droplet artefacts; the chapter on droplets trains this model next to the SSN.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from ssnlib.layers import (
    DEFAULT_BLUR,
    SPADE,
    EqualConv2d,
    FusedLeakyReLU,
    NoiseInjection,
    Upsample,
)
from ssnlib.models.ssn import SpatialGenerator
from ssnlib.utils import check_positive


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

    def forward(self, x, w_map=None, skip=None):
        """``w_map`` is unused (the features are already conditioned); it keeps the
        signature of :class:`~ssnlib.models.ssn.SpatialToRGB`."""
        out = self.conv(x)
        if skip is not None:
            out = out + self.upsample(skip)
        return out


class SPADEGenerator(SpatialGenerator):
    """SPADE-conditioned generator on a spatial latent z [B, z_dim, n_h, n_w] (the
    :class:`~ssnlib.models.ssn.SpatialGenerator` skeleton with SPADE layers).

    ``spade_hidden`` is the width of SPADE's shared conv (NVlabs: 128), ``spade_norm`` is
    ``"instance"`` or ``"batch"``.
    """

    arch = "spade"

    def __init__(self, resolution: int = 256, grid: tuple[int, int] = (4, 4), z_dim: int = 512,
                 w_dim: int = 512, channels: dict[int, int] | None = None,
                 channel_max: int = 512, channel_multiplier: int = 2, n_mlp: int = 8,
                 lr_mlp: float = 0.01, encoder_subdiv: int = 4, encoder_units: int = 1,
                 spade_hidden: int = 128, spade_norm: str = "instance",
                 blur_kernel: Sequence[float] = DEFAULT_BLUR):
        check_positive(spade_hidden=spade_hidden)
        # the factories below run inside the skeleton's __init__ and need these first
        self._spade = dict(hidden=spade_hidden, norm=spade_norm)
        super().__init__(resolution, grid, z_dim, w_dim, channels, channel_max,
                         channel_multiplier, n_mlp, lr_mlp, encoder_subdiv, encoder_units,
                         blur_kernel)

    def styled_conv(self, in_channels, out_channels, upsample, blur_kernel):
        return SPADEStyledConv(in_channels, out_channels, self.w_dim, upsample=upsample,
                               blur_kernel=blur_kernel, **self._spade)

    def to_rgb(self, in_channels, upsample, blur_kernel):
        return PlainToRGB(in_channels, upsample=upsample, blur_kernel=blur_kernel)
