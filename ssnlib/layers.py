"""Building blocks of the generators and the discriminator, in pure PyTorch.

References: rosinality's ``stylegan2-pytorch`` ``model.py`` (names and initialisation, so its
checkpoints load by name), NVlabs' ``stylegan2-ada-pytorch`` ``training/networks.py`` (the
modulated convolution as a plain function, :func:`modulated_conv2d`, and its training form),
Karras et al. 2020 (StyleGAN2, eqs. 1-3) and the SSN paper, whose new layer is
:class:`SpatiallyModulatedConv2d`, eq. (1). Everything here is shape-agnostic with respect to
dtype (bf16 autocast) and memory format (channels_last): no dtype asserts, no ``.view`` on
tensors that may be non-contiguous. Shapes: N batch, I / O input / output channels, H, W
input size, k kernel size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

DEFAULT_BLUR = (1, 3, 3, 1)
SQRT2 = math.sqrt(2.0)


def randn(shape: Sequence[int], generator: torch.Generator | None = None,
          device: torch.device | str | None = None,
          dtype: torch.dtype | None = None) -> torch.Tensor:
    """Standard normal samples drawn with ``generator`` (on the generator's own device, so a
    CPU generator gives the same numbers whatever ``device`` the result is moved to)."""
    gen_device = generator.device if generator is not None else device
    out = torch.randn(tuple(shape), generator=generator, device=gen_device)
    return out.to(device=device if device is not None else out.device, dtype=dtype)


def make_kernel(k: Sequence[float] | torch.Tensor) -> torch.Tensor:
    """A 2-D FIR kernel normalised to sum 1: the outer product of a 1-D kernel, or a 2-D one."""
    k = torch.as_tensor(k, dtype=torch.float32)
    if k.ndim == 1:
        k = k[None, :] * k[:, None]
    if k.ndim != 2 or k.sum() == 0:
        raise ValueError(f"kernel must be a 1-D or 2-D array with non-zero sum, got {k.tolist()}")
    return k / k.sum()


def upfirdn2d(x: torch.Tensor, kernel: torch.Tensor, up: int = 1, down: int = 1,
              pad: tuple[int, int] = (0, 0)) -> torch.Tensor:
    """Upsample (zero insertion), FIR-filter and downsample every channel of ``x`` [N, C, H, W].

    Same semantics as StyleGAN2's CUDA op (and rosinality's ``upfirdn2d_native``): insert
    ``up - 1`` zeros after every pixel, pad both axes by ``pad = (before, after)`` (negative
    values crop), *convolve* with ``kernel`` (flipped, a true convolution), keep every
    ``down``-th pixel. Output size per axis: ``(H * up + before + after - k) // down + 1``.
    Implemented as one depthwise ``conv2d`` so it runs on any device, dtype and layout.
    """
    if x.ndim != 4:
        raise ValueError(f"upfirdn2d expects [N, C, H, W], got shape {tuple(x.shape)}")
    if up < 1 or down < 1:
        raise ValueError(f"up and down must be >= 1, got up={up}, down={down}")
    n, c, h, w = x.shape
    if up > 1:
        # zero insertion as a strided write keeps autograd simple and works for any layout
        z = x.new_zeros(n, c, h * up, w * up)
        z[:, :, ::up, ::up] = x
        x = z
    p0, p1 = pad
    x = F.pad(x, [max(p0, 0), max(p1, 0), max(p0, 0), max(p1, 0)])
    x = x[:, :, max(-p0, 0):x.shape[2] - max(-p1, 0), max(-p0, 0):x.shape[3] - max(-p1, 0)]
    weight = torch.flip(kernel, [0, 1]).to(x.dtype)[None, None].expand(c, 1, -1, -1)
    return F.conv2d(x, weight, stride=down, groups=c)


class Blur(nn.Module):
    """FIR low-pass filter (default [1, 3, 3, 1]) with padding ``pad = (before, after)``.

    After a stride-2 transposed convolution the zero-stuffed signal has a quarter of the
    energy per pixel; ``upsample_factor`` multiplies the kernel by ``factor**2`` to restore it.
    """

    def __init__(self, kernel: Sequence[float] = DEFAULT_BLUR, pad: tuple[int, int] = (0, 0),
                 upsample_factor: int = 1):
        super().__init__()
        self.register_buffer("kernel", make_kernel(kernel) * upsample_factor ** 2)
        self.pad = tuple(pad)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return upfirdn2d(x, self.kernel, pad=self.pad)


class Upsample(nn.Module):
    """x2 up-sampling by zero insertion and the blur kernel (the skip path of ToRGB)."""

    def __init__(self, kernel: Sequence[float] = DEFAULT_BLUR, factor: int = 2):
        super().__init__()
        self.factor = factor
        self.register_buffer("kernel", make_kernel(kernel) * factor ** 2)
        p = self.kernel.shape[0] - factor
        self.pad = ((p + 1) // 2 + factor - 1, p // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return upfirdn2d(x, self.kernel, up=self.factor, pad=self.pad)


def fused_leaky_relu(x: torch.Tensor, bias: torch.Tensor | None = None,
                     negative_slope: float = 0.2, scale: float = SQRT2) -> torch.Tensor:
    """``leaky_relu(x + bias) * scale``; bias is per channel (dim 1). The gain sqrt(2)
    keeps unit second moment through the activation (He et al.), as in StyleGAN2."""
    if bias is not None:
        if bias.shape[0] != x.shape[1]:
            raise ValueError(f"bias has {bias.shape[0]} entries but input has {x.shape[1]} "
                             f"channels (shape {tuple(x.shape)})")
        x = x + bias.reshape(1, -1, *([1] * (x.ndim - 2))).to(x.dtype)
    return F.leaky_relu(x, negative_slope) * scale


class FusedLeakyReLU(nn.Module):
    """Bias (init 0) + leaky ReLU (slope 0.2) + gain sqrt(2), with rosinality's ``bias`` name."""

    def __init__(self, channels: int, bias: bool = True, negative_slope: float = 0.2,
                 scale: float = SQRT2):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channels)) if bias else None
        self.negative_slope, self.scale = negative_slope, scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return fused_leaky_relu(x, self.bias, self.negative_slope, self.scale)


class EqualLinear(nn.Module):
    """Linear layer with equalised learning rate (Karras et al., ProGAN).

    Stored weight ~ N(0, 1) / lr_mul; the runtime weight is ``stored * lr_mul / sqrt(in_dim)``
    and the runtime bias ``stored_bias * lr_mul``, so Adam's per-parameter step moves every layer
    at the same relative speed and ``lr_mul`` (0.01 in the mapping network) slows a layer down.
    """

    def __init__(self, in_dim: int, out_dim: int, bias: bool = True, bias_init: float = 0.0,
                 lr_mul: float = 1.0, activation: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_dim, in_dim) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_dim,), float(bias_init))) if bias else None
        self.scale = lr_mul / math.sqrt(in_dim)
        self.lr_mul, self.activation = lr_mul, activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias = self.bias * self.lr_mul if self.bias is not None else None
        if self.activation:
            return fused_leaky_relu(F.linear(x, self.weight * self.scale), bias)
        return F.linear(x, self.weight * self.scale, bias)

    def extra_repr(self) -> str:
        return (f"{self.weight.shape[1]}, {self.weight.shape[0]}, lr_mul={self.lr_mul}, "
                f"activation={self.activation}")


class EqualConv2d(nn.Module):
    """Conv2d with equalised learning rate: runtime weight ``stored * lr_mul / sqrt(fan_in)``,
    ``fan_in = in_channels * k * k``; optional fused bias + leaky ReLU (``activation=True``).

    A 1x1 ``EqualConv2d`` applied to a latent grid is the same map as an :class:`EqualLinear`
    applied to every block (weight [out, in] <-> [out, in, 1, 1]): how SSNs run StyleGAN2's
    mapping MLP on each block of z (paper, section 3.2).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int = 0, bias: bool = True, bias_init: float = 0.0,
                 lr_mul: float = 1.0, activation: bool = False):
        super().__init__()
        self.weight = nn.Parameter(
            torch.randn(out_channels, in_channels, kernel_size, kernel_size) / lr_mul)
        self.bias = (nn.Parameter(torch.full((out_channels,), float(bias_init)))
                     if bias else None)
        self.scale = lr_mul / math.sqrt(in_channels * kernel_size ** 2)
        self.stride, self.padding = stride, padding
        self.lr_mul, self.activation = lr_mul, activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != self.weight.shape[1]:
            raise ValueError(f"EqualConv2d expects [N, {self.weight.shape[1]}, H, W], "
                             f"got shape {tuple(x.shape)}")
        bias = self.bias * self.lr_mul if self.bias is not None else None
        if self.activation:
            out = F.conv2d(x, self.weight * self.scale, stride=self.stride, padding=self.padding)
            return fused_leaky_relu(out, bias)
        return F.conv2d(x, self.weight * self.scale, bias, stride=self.stride,
                        padding=self.padding)

    def extra_repr(self) -> str:
        o, i, k, _ = self.weight.shape
        return (f"{i}, {o}, {k}, stride={self.stride}, padding={self.padding}, "
                f"lr_mul={self.lr_mul}, activation={self.activation}")


class PixelNorm(nn.Module):
    """Normalise every position to unit mean square over channels (dim 1): for z [B, C] this
    is StyleGAN2's input normalisation; for a latent grid [B, C, n_h, n_w] it normalises each
    block on its own, keeping blocks independent."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + 1e-8)


class ConstantInput(nn.Module):
    """The learnt 4x4 constant the synthesis network starts from (rosinality: ``input.input``)."""

    def __init__(self, channels: int, size: int = 4):
        super().__init__()
        self.input = nn.Parameter(torch.randn(1, channels, size, size))

    def forward(self, batch: int) -> torch.Tensor:
        return self.input.expand(batch, -1, -1, -1)


class NoiseInjection(nn.Module):
    """Per-pixel noise times one learnt scalar (init 0, so a new layer starts noise-free).

    ``noise`` [N or 1, 1, H, W] is used as given, which is how two calls share noise (the
    distortion regulariser, eq. 2, compares g(z) and g(z^a) under the SAME noise); if it is
    ``None`` fresh noise is drawn with ``generator``.
    """

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor, noise: torch.Tensor | None = None,
                generator: torch.Generator | None = None) -> torch.Tensor:
        n, _, h, w = x.shape
        if noise is None:
            noise = randn((n, 1, h, w), generator, device=x.device, dtype=x.dtype)
        elif noise.ndim != 4 or noise.shape[1] != 1 or tuple(noise.shape[2:]) != (h, w) \
                or noise.shape[0] not in (1, n):
            raise ValueError(f"noise must have shape [{n} or 1, 1, {h}, {w}], "
                             f"got {tuple(noise.shape)}")
        return x + self.weight.to(x.dtype) * noise.to(x.dtype)


def _check_pair(h: torch.Tensor, in_channels: int, name: str) -> None:
    if h.ndim != 4 or h.shape[1] != in_channels:
        raise ValueError(f"{name} expects input [N, {in_channels}, H, W], "
                         f"got shape {tuple(h.shape)}")


def _init_conv_weight(conv: nn.Module, in_channels: int, out_channels: int, kernel_size: int,
                      demodulate: bool, upsample: bool) -> None:
    """The fields both modulated convolutions share, and their raw weight [O, I, k, k]
    (equalised lr: N(0, 1) at rest, scaled by 1/sqrt(fan_in) at run time)."""
    conv.in_channels, conv.out_channels = in_channels, out_channels
    conv.kernel_size, conv.demodulate, conv.upsample = kernel_size, demodulate, upsample
    # rosinality stores [1, O, I, k, k], a 5-D tensor that breaks
    # Module.to(memory_format=torch.channels_last): importers reshape it
    conv.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
    conv.scale = 1 / math.sqrt(in_channels * kernel_size ** 2)
    conv.padding = kernel_size // 2


def _upsample_blur(blur_kernel: Sequence[float], kernel_size: int) -> Blur:
    """The blur after a stride-2 transposed convolution with a ``kernel_size`` kernel."""
    p = (len(blur_kernel) - 2) - (kernel_size - 1)
    return Blur(blur_kernel, pad=((p + 1) // 2 + 1, p // 2 + 1), upsample_factor=2)


def modulated_conv2d(x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor,
                     demodulate: bool = True, padding: int = 0, up: Blur | None = None,
                     fused: bool = False) -> torch.Tensor:
    """StyleGAN2's modulated convolution (its section 2.2, eqs. 1-3), as a plain function.

    x [B, I, H, W], weight [O, I, k, k] (equalised-lr scale already applied), styles s [B, I];
    ``up``: the blur after a stride-2 transposed convolution (x2 up-sampling), or None.

    * ``fused=False`` (training, stylegan2-ada's way): modulate the *activations*, run one
      convolution with the shared weight for the whole batch, and scale its output by the
      demodulation coefficients: ``y = conv(x * s, w) * d``. The weight gradient is one
      ordinary convolution backward, not a per-sample one.
    * ``fused=True`` (inference): fold the batch into the channels, modulate and demodulate the
      weight per sample and run one grouped convolution (rosinality's and NVlabs' fused form).

    Both compute the same map: d_bo depends on the sample only through s_b, so it commutes
    with the convolution (and with the blur, a per-channel filter).
    """
    b, c, h, w = x.shape
    o, _, k, _ = weight.shape
    if not fused:
        # StyleGAN2 eq. 1 on the activations: w'_oik x_i = w_oik (s_i x_i)
        x = x * styles.reshape(b, c, 1, 1).to(x.dtype)
        weight = weight.to(x.dtype)
        if up is not None:
            out = up(F.conv_transpose2d(x, weight.transpose(0, 1), stride=2))
        else:
            out = F.conv2d(x, weight, padding=padding)
        if not demodulate:
            return out
        # eq. 2-3: d_bo = 1 / sqrt(sum_{i,k} (s_bi w_oik)^2 + eps), in fp32 under autocast
        w2 = weight.float().square().sum([2, 3])                              # [O, I]
        dcoefs = torch.rsqrt((styles.float().square()[:, None, :] * w2).sum(2) + 1e-8)  # [B, O]
        return out * dcoefs.reshape(b, o, 1, 1).to(out.dtype)
    # eq. 1: w'_boik = s_bi w_oik, one weight per sample
    weight = weight[None] * styles.reshape(b, 1, c, 1, 1)                     # [B, O, I, k, k]
    if demodulate:
        # eq. 3: w''_boik = w'_boik / sqrt(sum_{i,k} w'^2_boik + eps)
        weight = weight * torch.rsqrt(weight.pow(2).sum([2, 3, 4], keepdim=True) + 1e-8)
    x = x.reshape(1, b * c, h, w)                                             # batch -> groups
    if up is not None:
        weight = weight.transpose(1, 2).reshape(b * c, o, k, k)               # [B*I, O, k, k]
        out = F.conv_transpose2d(x, weight.to(x.dtype), stride=2, groups=b)
        return up(out.reshape(b, o, *out.shape[2:]))
    weight = weight.reshape(b * o, c, k, k)                                   # [B*O, I, k, k]
    out = F.conv2d(x, weight.to(x.dtype), padding=padding, groups=b)
    return out.reshape(b, o, h, w)


class ModulatedConv2d(nn.Module):
    """StyleGAN2's modulated convolution with a style *vector* per sample (see
    :func:`modulated_conv2d`).

    ``w'_{oik} = w_{oik} * s_i`` (modulation by ``modulation(style)``, bias init 1), then, if
    ``demodulate``, ``w''_{oik} = w'_{oik} / sqrt(sum_{ik} w'^2_{oik} + 1e-8)``: division by the
    *expected* output standard deviation for unit-variance input (StyleGAN2, eq. 3).
    ``upsample`` uses a stride-2 transposed convolution followed by the [1, 3, 3, 1] blur, as in
    rosinality's model.py. In training (``self.training`` or gradients enabled) the activations
    are modulated and one shared-weight convolution serves the whole batch, as stylegan2-ada
    trains; in inference (eval mode under ``no_grad``) the batch runs as one grouped convolution
    of per-sample weights, as before. ``fused`` (a plain attribute, not a parameter) forces one
    form: True grouped, False shared, None (default) chooses as above.
    """

    fused: bool | None = None

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, style_dim: int,
                 demodulate: bool = True, upsample: bool = False,
                 blur_kernel: Sequence[float] = DEFAULT_BLUR):
        super().__init__()
        _init_conv_weight(self, in_channels, out_channels, kernel_size, demodulate, upsample)
        self.modulation = EqualLinear(style_dim, in_channels, bias_init=1.0)
        if upsample:
            self.blur = _upsample_blur(blur_kernel, kernel_size)

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """x [B, I, H, W], style [B, style_dim] -> [B, O, H', W'] (H' = 2H when up-sampling)."""
        _check_pair(x, self.in_channels, type(self).__name__)
        b = x.shape[0]
        if style.ndim != 2 or style.shape[0] != b:
            raise ValueError(f"style must be [{b}, style_dim], got shape {tuple(style.shape)}")
        fused = self.fused
        if fused is None:
            fused = not (self.training or torch.is_grad_enabled())
        return modulated_conv2d(x, self.weight * self.scale, self.modulation(style),
                                self.demodulate, self.padding,
                                self.blur if self.upsample else None, fused)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, {self.kernel_size}, "
                f"demodulate={self.demodulate}, upsample={self.upsample}")


def resize(x: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    """Resize a map [N, C, h, w] to ``size``: bilinear (centre-aligned, edges clamped) when
    enlarging, area averaging when shrinking. Both keep a constant map constant, which is what
    makes a spatially constant style map reproduce StyleGAN2 exactly."""
    size = tuple(int(v) for v in size)
    if tuple(x.shape[-2:]) == size:
        return x
    if size[0] <= x.shape[-2] and size[1] <= x.shape[-1]:
        return F.adaptive_avg_pool2d(x, size)
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


SIGMA_MODES = ("exact", "fast")


def variance_kernel(weight: torch.Tensor, blur: torch.Tensor) -> torch.Tensor:
    """The kernel [I, O, K, K] (K = k + taps - 1, 6 for 3x3 and [1, 3, 3, 1]) that takes s^2 to
    sigma_E^2 in an up-sampling layer, by a stride-2 transposed convolution.

    h goes through a stride-2 transposed convolution with w [O, I, k, k] and then the blur, one
    transposed convolution with the fused kernel ``W = blur * w``; for i.i.d. unit-variance h
    the output variance is therefore ``convT(s^2, W^2)``. Each output pixel is fed by one phase
    (a parity class) of W's taps, and every phase of W^2 is rescaled to sum to ``sum_k w^2``
    (see :class:`SpatiallyModulatedConv2d`).
    """
    o, i, k, _ = weight.shape
    taps = blur.shape[0] - 1
    # W = blur * w: a full 2-D convolution of every [k, k] slice with the blur
    fused = F.conv2d(F.pad(weight.reshape(o * i, 1, k, k), [taps] * 4),
                     blur.to(weight.dtype)[None, None])                   # [O*I, 1, K, K]
    fused2 = fused.reshape(o, i, *fused.shape[-2:]).pow(2)                 # W^2 [O, I, K, K]
    # each phase (a, b) of W^2 rescaled to sum to sum_k w_k^2, StyleGAN2's demodulation
    phase_sum = torch.zeros_like(fused2)
    for a in range(2):
        for b in range(2):
            total = fused2[:, :, a::2, b::2].sum([2, 3], keepdim=True)
            phase_sum[:, :, a::2, b::2] = total.expand_as(fused2[:, :, a::2, b::2])
    kernel = fused2 * weight.pow(2).sum([2, 3], keepdim=True) / (phase_sum + 1e-12)
    return kernel.transpose(0, 1)                                          # [I, O, K, K]


class SpatiallyModulatedConv2d(nn.Module):
    """The paper's spatially modulated convolution (eq. 1), with a style *map* per sample.

    For input h [N, I, H, W] and style map s [N, I, H, W]::

        y = conv(h * s, w) / sigma_E,     sigma_E = sqrt(conv(s^2, w^2) + 1e-8).

    sigma_E is the standard deviation y would have if h were i.i.d. with unit variance: the
    *expected* statistics, as in StyleGAN2's demodulation, but per pixel. Normalising by expected
    rather than actual statistics (as SPADE does, see :class:`SPADE`) is what removes the droplet
    artefacts: the network cannot inflate the actual statistics with a local spike to shrink
    everything else, because the normaliser does not look at h at all.

    Padding of sigma_E. h is zero-padded, but s^2 is padded by replicating its border, i.e. the
    normaliser assumes the statistics of the missing pixels equal their neighbours'. Then a
    spatially constant s gives exactly StyleGAN2's :class:`ModulatedConv2d` everywhere
    (transfer, section 3.4, relies on it), and y has unit variance at every pixel whose
    receptive field lies inside the image (the border pixels see fewer inputs, as in StyleGAN2).

    Up-sampling. h goes through a stride-2 transposed convolution and the [1, 3, 3, 1] blur, as
    in StyleGAN2; together they are one stride-2 transposed convolution with the 6x6 kernel
    ``W = blur * w``, so the exact variance of the output is ``convT(s^2, W^2)``: s^2 pushed
    through the same geometry (:func:`variance_kernel`). A stride-2 transposed convolution feeds
    each output pixel from one *phase* (a parity class) of W's taps, and the phases carry less
    energy than w: StyleGAN2's up layer does not have unit variance either. Its per-pixel
    variance is about (5/8)^2 = 0.39 of the unit level (each 1-D phase of the blur
    [1, 3, 3, 1] / 4 holds 1/16 + 9/16 = 5/8 of the energy; measured 0.394 on a random
    64 -> 64 layer, every phase alike, 0.33 to 0.47 per output channel; ``tests/test_layers.py``).
    To stay exactly StyleGAN2 for a constant s we rescale
    every phase of W^2 to sum to ``sum_k w_k^2`` (StyleGAN2's demodulation); the output variance
    is then StyleGAN2's per-phase level for any style map (exactly so when the phase ratios
    agree across input channels), rather than a level the network would have to relearn.

    ``sigma_mode``. ``"exact"`` (the default) is eq. 1 as above; it costs a second convolution
    as large as the layer's own (3x3), or four times as large (up layers, the 6x6 variance
    kernel): 185 of an SSN's 281 GFLOP per image at 256 px. ``"fast"`` keeps it exact below
    ``fast_from`` px (64) and above factors the variance kernel per output channel,
    ``w_oik^2 ~ (sum_k w_oik^2) m_ok`` with m_o output channel o's tap profile averaged over
    the inputs (:meth:`fast_sigma_e_squared`): the sum over input channels then runs once, as a
    1x1 convolution at h's resolution, and the taps as a depthwise convolution. That is 9 (3x3)
    to 36 (up) times cheaper, exact for a style map constant over the kernel's window (so a
    fast SSN still starts as StyleGAN2) and for any map when all inputs share one profile;
    on an SSN's smooth style maps at paper256's widths sigma_E is within 0.1 % (median) and
    2 % (worst pixel) of eq. 1 at 64 px, 0.05 % and 0.7 % at 256 px
    (``tests/test_layers_fast.py`` bounds a narrow model's error per resolution).

    ``style_dim``: if given, the layer owns ``modulation``, a 1x1 :class:`EqualConv2d`
    (style_dim -> I, bias init 1; rosinality's ``conv.modulation`` as a 1x1 conv) applied to a
    style map of ``style_dim`` channels at *any* resolution, which is then :func:`resize`-d to
    h's resolution. Applying the affine map before resizing is exact (both are linear and the
    resize keeps constants) and much cheaper at the low resolution of a latent grid.
    ``demodulate=False`` (ToRGB) is plain modulation: ``y = conv(h * s, w)``.
    """

    fast_from: int = 64            # "fast" sigma_E from this output resolution (px) on

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int,
                 style_dim: int | None = None, demodulate: bool = True, upsample: bool = False,
                 blur_kernel: Sequence[float] = DEFAULT_BLUR, sigma_mode: str = "exact"):
        super().__init__()
        if sigma_mode not in SIGMA_MODES:
            raise ValueError(f"sigma_mode must be one of {SIGMA_MODES}, got {sigma_mode!r}")
        _init_conv_weight(self, in_channels, out_channels, kernel_size, demodulate, upsample)
        self.sigma_mode = sigma_mode
        self.modulation = (EqualConv2d(style_dim, in_channels, 1, bias_init=1.0)
                           if style_dim is not None else None)
        if upsample:
            self.blur = _upsample_blur(blur_kernel, kernel_size)
            # transposed-conv padding of the fused kernel blur * w (see variance_kernel)
            self.fused_padding = len(blur_kernel) - 1 - self.blur.pad[0]

    def variance_kernel(self) -> torch.Tensor:
        """This up layer's :func:`variance_kernel` [I, O, 6, 6]."""
        return variance_kernel(self.weight * self.scale, self.blur.kernel)

    def style_map(self, h: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """s [N, I, H, W] at h's resolution: ``resize(modulation(style))``, or ``style`` as
        given by a layer without ``modulation``."""
        b, _, height, width = h.shape
        if self.modulation is not None:
            if style.ndim != 4 or style.shape[0] != b:
                raise ValueError(f"style must be a map [{b}, style_dim, h, w], "
                                 f"got shape {tuple(style.shape)}")
            return resize(self.modulation(style), (height, width))
        if style.ndim != 4 or style.shape[0] != b or tuple(style.shape[1:]) != (
                self.in_channels, height, width):
            raise ValueError(f"style map must have the input's shape [{b}, {self.in_channels}, "
                             f"{height}, {width}], got {tuple(style.shape)}")
        return style

    def sigma_e_squared(self, s2: torch.Tensor, w: torch.Tensor, fast: bool) -> torch.Tensor:
        """sigma_E^2 [N, O, H', W'] from s^2 [N, I, H, W] and the runtime weight w [O, I, k, k]
        (eq. 1 without the 1e-8), exact or ``fast`` (see the class docstring)."""
        if fast:
            return self.fast_sigma_e_squared(s2, w)
        if self.upsample:
            # sigma_E^2 = convT(s^2, W^2) stride 2, W = blur * w; s^2 edge-replicated by r
            # input pixels, the reach of the 6x6 kernel, then cropped by the transposed padding
            kernel = self.variance_kernel()                                 # [I, O, 6, 6]
            r = -(-kernel.shape[-1] // 4)
            s2 = F.pad(s2, [r] * 4, mode="replicate")                       # [N, I, H+2r, W+2r]
            return F.conv_transpose2d(s2, kernel.to(s2.dtype), stride=2,
                                      padding=self.fused_padding + 2 * r)   # [N, O, 2H, 2W]
        # sigma_E^2 = conv(s^2, w^2), s^2 edge-replicated where h is zero-padded
        if self.padding:
            s2 = F.pad(s2, [self.padding] * 4, mode="replicate")            # [N, I, H+2p, W+2p]
        return F.conv2d(s2, w.pow(2).to(s2.dtype))                          # [N, O, H, W]

    def fast_sigma_e_squared(self, s2: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """sigma_E^2 with the variance kernel factored per output channel (see the class
        docstring): ``w_oik^2 ~ (sum_k w_oik^2) * m_ok``, where ``m_o`` [k, k] (up: [6, 6]) is
        output channel o's tap profile averaged over the inputs. Then the channel sum runs as one
        1x1 convolution at h's resolution and the taps as one depthwise convolution."""
        o = w.shape[0]
        w2 = w.float().pow(2)                                               # [O, I, k, k]
        w0 = w2.sum([2, 3])                                                 # sum_k w^2 [O, I]
        kernel = self.variance_kernel().transpose(0, 1) if self.upsample else w2  # [O, I, K, K]
        # m_ok = sum_i kernel_oik / sum_i w0_oi: sums to 1 (each phase of an up kernel too)
        m = kernel.sum(1, keepdim=True) / w0.sum(1)[:, None, None, None]    # [O, 1, K, K]
        # t_o = sum_i (sum_k w_oik^2) s_i^2, the channel sum at h's resolution
        t = F.conv2d(s2, w0[:, :, None, None].to(s2.dtype))                 # [N, O, H, W]
        if self.upsample:
            r = -(-m.shape[-1] // 4)
            t = F.pad(t, [r] * 4, mode="replicate")                         # [N, O, H+2r, W+2r]
            return F.conv_transpose2d(t, m.to(t.dtype), stride=2, groups=o,
                                      padding=self.fused_padding + 2 * r)   # [N, O, 2H, 2W]
        if self.padding:
            t = F.pad(t, [self.padding] * 4, mode="replicate")              # [N, O, H+2p, W+2p]
        return F.conv2d(t, m.to(t.dtype), groups=o)                         # [N, O, H, W]

    def forward(self, h: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """h [N, I, H, W]; style: a map [N, style_dim, h, w] at any resolution (through
        ``modulation``), or s [N, I, H, W] for a layer without it -> y [N, O, H', W'],
        H' = 2H when up-sampling."""
        _check_pair(h, self.in_channels, type(self).__name__)
        s = self.style_map(h, style)                                        # [N, I, H, W]
        w = (self.weight * self.scale).to(h.dtype)                          # [O, I, k, k]
        # eq. 1, numerator: conv(h * s, w) (up: stride-2 transposed conv, then the blur)
        hs = h * s.to(h.dtype)
        if self.upsample:
            y = self.blur(F.conv_transpose2d(hs, w.transpose(0, 1), stride=2))  # [N, O, 2H, 2W]
        else:
            y = F.conv2d(hs, w, padding=self.padding)                        # [N, O, H, W]
        if not self.demodulate:
            return y
        # eq. 1, denominator: sigma_E = sqrt(conv(s^2, w^2) + 1e-8)
        fast = self.sigma_mode == "fast" and y.shape[-1] >= self.fast_from
        sigma_e2 = self.sigma_e_squared(s.pow(2), w, fast)                   # [N, O, H', W']
        return y * torch.rsqrt(sigma_e2 + 1e-8).to(y.dtype)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, {self.kernel_size}, "
                f"demodulate={self.demodulate}, upsample={self.upsample}, "
                f"sigma_mode={self.sigma_mode}")


class SPADE(nn.Module):
    """Spatially-adaptive normalisation (Park et al., NVlabs/SPADE).

    ``SPADE(x, m) = norm(x) * (1 + gamma(m)) + beta(m)``, where ``norm`` is parameter-free
    instance or batch normalisation by the *actual* statistics of x, and gamma, beta are 3x3
    convolutions of a shared 3x3 conv + ReLU of the conditioning map m, resized to x's resolution
    (:func:`resize`; NVlabs uses nearest for label maps, a latent map is smooth).

    Why it makes droplets (StyleGAN2, section 2; SSN paper, section 3.1): the division by the
    actual standard deviation lets the generator plant a strong, localised spike that dominates
    the statistics and so scales down everything else, a way to smuggle signal strength past the
    normalisation. :class:`SpatiallyModulatedConv2d` divides by expected statistics instead.
    """

    def __init__(self, channels: int, cond_channels: int, hidden: int = 128,
                 norm: str = "instance", kernel_size: int = 3):
        super().__init__()
        if norm not in ("instance", "batch"):
            raise ValueError(f"norm must be 'instance' or 'batch', got {norm!r}")
        self.channels, self.cond_channels, self.norm = channels, cond_channels, norm
        pad = kernel_size // 2
        self.mlp_shared = EqualConv2d(cond_channels, hidden, kernel_size, padding=pad)
        self.mlp_gamma = EqualConv2d(hidden, channels, kernel_size, padding=pad)
        self.mlp_beta = EqualConv2d(hidden, channels, kernel_size, padding=pad)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        _check_pair(x, self.channels, "SPADE")
        if cond.ndim != 4 or cond.shape[0] != x.shape[0] or cond.shape[1] != self.cond_channels:
            raise ValueError(f"SPADE conditioning must be [{x.shape[0]}, {self.cond_channels}, "
                             f"h, w], got shape {tuple(cond.shape)}")
        if self.norm == "instance":
            normed = F.instance_norm(x, eps=1e-5)
        else:
            normed = F.batch_norm(x, None, None, training=True, eps=1e-5)
        actv = F.relu(self.mlp_shared(resize(cond, x.shape[-2:])))
        return normed * (1 + self.mlp_gamma(actv)) + self.mlp_beta(actv)
