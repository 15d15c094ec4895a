"""The StyleGAN2 residual discriminator (config-f), rosinality's names (``convs.N``,
``final_conv``, ``final_linear``)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from ssnlib.layers import DEFAULT_BLUR, Blur, EqualConv2d, EqualLinear, FusedLeakyReLU
from ssnlib.models.common import make_channels
from ssnlib.utils import check_positive


class ConvLayer(nn.Sequential):
    """[Blur ->] EqualConv2d (stride 2 when down-sampling) [-> bias + leaky ReLU]."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int,
                 downsample: bool = False, bias: bool = True, activate: bool = True,
                 blur_kernel: Sequence[float] = DEFAULT_BLUR):
        layers = []
        if downsample:
            # low-pass before the stride-2 conv, so down-sampling does not alias
            p = (len(blur_kernel) - 2) + (kernel_size - 1)
            layers.append(Blur(blur_kernel, pad=((p + 1) // 2, p // 2)))
        layers.append(EqualConv2d(in_channels, out_channels, kernel_size,
                                  stride=2 if downsample else 1,
                                  padding=0 if downsample else kernel_size // 2,
                                  bias=bias and not activate))
        if activate:
            layers.append(FusedLeakyReLU(out_channels, bias=bias))
        super().__init__(*layers)


class ResBlock(nn.Module):
    """Two 3x3 convs (the second down-samples) plus a 1x1 down-sampled skip, scaled 1/sqrt 2."""

    def __init__(self, in_channels: int, out_channels: int,
                 blur_kernel: Sequence[float] = DEFAULT_BLUR):
        super().__init__()
        self.conv1 = ConvLayer(in_channels, in_channels, 3, blur_kernel=blur_kernel)
        self.conv2 = ConvLayer(in_channels, out_channels, 3, downsample=True,
                               blur_kernel=blur_kernel)
        self.skip = ConvLayer(in_channels, out_channels, 1, downsample=True, activate=False,
                              bias=False, blur_kernel=blur_kernel)

    def forward(self, x):
        return (self.conv2(self.conv1(x)) + self.skip(x)) / math.sqrt(2)


def minibatch_stddev(x: torch.Tensor, group_size: int = 4, features: int = 1) -> torch.Tensor:
    """Append the minibatch standard deviation feature map(s) (ProGAN, StyleGAN2).

    Samples are split into groups of ``g`` (the largest divisor of the batch not above
    ``group_size``, so any batch size works; sample i is in group i mod B/g, as rosinality),
    the std over each group is averaged over channels and pixels and appended as ``features``
    constant channels: it lets D see a lack of variety in the batch.
    """
    b, c, h, w = x.shape
    if c % features:
        raise ValueError(f"{c} channels cannot be split into {features} stddev features")
    g = max(d for d in range(1, min(group_size, b) + 1) if b % d == 0)
    y = x.float().reshape(g, -1, features, c // features, h, w)
    y = torch.sqrt(y.var(0, unbiased=False) + 1e-8).mean([2, 3, 4])       # [B/g, F]
    y = y.reshape(-1, features, 1, 1).repeat(g, 1, h, w)
    return torch.cat([x, y.to(x.dtype)], 1)


class Discriminator(nn.Module):
    """StyleGAN2's residual D: fromRGB 1x1, residual blocks with blur down-sampling to 4x4,
    minibatch stddev, a 3x3 conv and two linear layers to one logit per image."""

    def __init__(self, resolution: int = 256, channels: dict[int, int] | None = None,
                 channel_max: int = 512, channel_multiplier: int = 2, mbstd_group: int = 4,
                 mbstd_features: int = 1, blur_kernel: Sequence[float] = DEFAULT_BLUR):
        super().__init__()
        check_positive(mbstd_group=mbstd_group, mbstd_features=mbstd_features)
        chans = make_channels(resolution, channels, channel_max, channel_multiplier)
        self.resolution, self.channels = resolution, chans
        self.mbstd_group, self.mbstd_features = mbstd_group, mbstd_features
        log_size = int(math.log2(resolution))
        convs = [ConvLayer(3, chans[resolution], 1)]
        for i in range(log_size, 2, -1):
            convs.append(ResBlock(chans[2 ** i], chans[2 ** (i - 1)], blur_kernel))
        self.convs = nn.Sequential(*convs)
        self.final_conv = ConvLayer(chans[4] + mbstd_features, chans[4], 3)
        self.final_linear = nn.Sequential(
            EqualLinear(chans[4] * 16, chans[4], activation=True), EqualLinear(chans[4], 1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Images [B, 3, R, R] -> logits [B, 1]."""
        shape = (3, self.resolution, self.resolution)
        if images.ndim != 4 or tuple(images.shape[1:]) != shape:
            raise ValueError(f"Discriminator expects images [B, 3, {self.resolution}, "
                             f"{self.resolution}], got {tuple(images.shape)}")
        x = minibatch_stddev(self.convs(images), self.mbstd_group, self.mbstd_features)
        return self.final_linear(self.final_conv(x).flatten(1))
