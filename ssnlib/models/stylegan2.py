"""The StyleGAN2 generator (Karras et al. 2020, config-f), the baseline SSNs transfer from.

Module and parameter names follow rosinality's ``stylegan2-pytorch`` ``model.py`` (``style.N``,
``input.input``, ``conv1.conv.weight``, ``conv1.conv.modulation.weight``, ``conv1.noise.weight``,
``conv1.activate.bias``, ``convs.N``, ``to_rgb1``, ``to_rgbs.N``, ``noises.noise_i``) so its
checkpoints load by name; one shape differs: modulated conv weights are [O, I, k, k] here
(channels_last-friendly) and [1, O, I, k, k] there, so an importer reshapes them.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ssnlib.layers import (
    DEFAULT_BLUR,
    ConstantInput,
    EqualLinear,
    FusedLeakyReLU,
    ModulatedConv2d,
    NoiseInjection,
    PixelNorm,
    Upsample,
)
from ssnlib.models.common import GeneratorBase, NoiseArg, make_channels
from ssnlib.utils import check_positive


class StyledConv(nn.Module):
    """Modulated 3x3 conv (optionally x2 up) -> noise -> bias + leaky ReLU."""

    def __init__(self, in_channels: int, out_channels: int, style_dim: int,
                 upsample: bool = False, blur_kernel: Sequence[float] = DEFAULT_BLUR):
        super().__init__()
        self.conv = ModulatedConv2d(in_channels, out_channels, 3, style_dim, upsample=upsample,
                                    blur_kernel=blur_kernel)
        self.noise = NoiseInjection()
        self.activate = FusedLeakyReLU(out_channels)

    def forward(self, x, style, noise=None, generator=None):
        return self.activate(self.noise(self.conv(x, style), noise, generator))


class ToRGB(nn.Module):
    """Modulated 1x1 conv to RGB without demodulation, plus the up-sampled skip (StyleGAN2's
    output skips)."""

    def __init__(self, in_channels: int, style_dim: int, upsample: bool = True,
                 blur_kernel: Sequence[float] = DEFAULT_BLUR):
        super().__init__()
        if upsample:
            self.upsample = Upsample(blur_kernel)
        self.conv = ModulatedConv2d(in_channels, 3, 1, style_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(1, 3, 1, 1))

    def forward(self, x, style, skip=None):
        out = self.conv(x, style) + self.bias
        if skip is not None:
            out = out + self.upsample(skip)
        return out


class StyleGAN2Generator(GeneratorBase):
    """StyleGAN2: 8-layer mapping MLP (lr_mul 0.01, after PixelNorm), a learnt 4x4 constant,
    two modulated convs per resolution with per-pixel noise, and skip ToRGB outputs.

    ``synthesis`` takes w [B, w_dim] (all layers) or [B, n_latent, w_dim] (one per layer, for
    style mixing); ``n_latent = 2 * log2(resolution) - 2``.
    """

    arch = "stylegan2"

    def __init__(self, resolution: int = 256, z_dim: int = 512, w_dim: int = 512,
                 channels: dict[int, int] | None = None, channel_max: int = 512,
                 channel_multiplier: int = 2, n_mlp: int = 8, lr_mlp: float = 0.01,
                 blur_kernel: Sequence[float] = DEFAULT_BLUR):
        check_positive(n_mlp=n_mlp)
        chans = make_channels(resolution, channels, channel_max, channel_multiplier)
        super().__init__(resolution, z_dim, w_dim, chans)
        self.style = nn.Sequential(PixelNorm(), *[
            EqualLinear(z_dim if i == 0 else w_dim, w_dim, lr_mul=lr_mlp, activation=True)
            for i in range(n_mlp)])
        self.input = ConstantInput(chans[4])
        self.conv1 = StyledConv(chans[4], chans[4], w_dim, blur_kernel=blur_kernel)
        self.to_rgb1 = ToRGB(chans[4], w_dim, upsample=False)
        self.convs, self.to_rgbs = nn.ModuleList(), nn.ModuleList()
        for i in range(3, self.log_size + 1):
            cin, cout = chans[2 ** (i - 1)], chans[2 ** i]
            self.convs.append(StyledConv(cin, cout, w_dim, upsample=True,
                                         blur_kernel=blur_kernel))
            self.convs.append(StyledConv(cout, cout, w_dim, blur_kernel=blur_kernel))
            self.to_rgbs.append(ToRGB(cout, w_dim, blur_kernel=blur_kernel))
        self.n_latent = 2 * self.log_size - 2

    def synthesis(self, w: torch.Tensor, noise: NoiseArg = None,
                  generator: torch.Generator | None = None) -> torch.Tensor:
        if w.ndim == 2:
            w = w[:, None].expand(-1, self.n_latent, -1)
        if w.ndim != 3 or tuple(w.shape[1:]) != (self.n_latent, self.w_dim):
            raise ValueError(f"w must be [B, {self.w_dim}] or [B, {self.n_latent}, {self.w_dim}],"
                             f" got {tuple(w.shape)}")
        noise = self._noise_list(noise)
        x = self.conv1(self.input(w.shape[0]), w[:, 0], noise[0], generator)
        skip = self.to_rgb1(x, w[:, 1])
        for k, to_rgb in enumerate(self.to_rgbs):
            i = 2 * k + 1
            x = self.convs[2 * k](x, w[:, i], noise[i], generator)
            x = self.convs[2 * k + 1](x, w[:, i + 1], noise[i + 1], generator)
            skip = to_rgb(x, w[:, i + 2], skip)
        return skip
