"""Building blocks of the generators and the discriminator, in pure PyTorch.

Names and initialisation follow rosinality's ``stylegan2-pytorch`` ``model.py`` (so its
checkpoints load by name) and the StyleGAN2 paper; the new layer is
:class:`SpatiallyModulatedConv2d`, the paper's eq. (1). Everything here is shape-agnostic with
respect to dtype (bf16 autocast) and memory format (channels_last): no dtype asserts, no
``.view`` on tensors that may be non-contiguous.
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


class ModulatedConv2d(nn.Module):
    """StyleGAN2's modulated convolution with a style *vector* per sample.

    ``w'_{oik} = w_{oik} * s_i`` (modulation by ``modulation(style)``, bias init 1), then, if
    ``demodulate``, ``w''_{oik} = w'_{oik} / sqrt(sum_{ik} w'^2_{oik} + 1e-8)``: division by the
    *expected* output standard deviation for unit-variance input (StyleGAN2, eq. 3). The batch is
    folded into the channels and run as one grouped convolution. ``upsample`` uses a stride-2
    transposed convolution followed by the [1, 3, 3, 1] blur, as in rosinality's model.py.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, style_dim: int,
                 demodulate: bool = True, upsample: bool = False,
                 blur_kernel: Sequence[float] = DEFAULT_BLUR):
        super().__init__()
        _init_conv_weight(self, in_channels, out_channels, kernel_size, demodulate, upsample)
        self.modulation = EqualLinear(style_dim, in_channels, bias_init=1.0)
        if upsample:
            self.blur = _upsample_blur(blur_kernel, kernel_size)

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        _check_pair(x, self.in_channels, type(self).__name__)
        b, c, h, w = x.shape
        if style.ndim != 2 or style.shape[0] != b:
            raise ValueError(f"style must be [{b}, style_dim], got shape {tuple(style.shape)}")
        s = self.modulation(style).reshape(b, 1, c, 1, 1)
        weight = self.scale * self.weight[None] * s              # [B, O, I, k, k]
        if self.demodulate:
            weight = weight * torch.rsqrt(weight.pow(2).sum([2, 3, 4], keepdim=True) + 1e-8)
        x = x.reshape(1, b * c, h, w)
        k = self.kernel_size
        if self.upsample:
            weight = weight.transpose(1, 2).reshape(b * c, self.out_channels, k, k)
            out = F.conv_transpose2d(x, weight.to(x.dtype), stride=2, groups=b)
            out = self.blur(out.reshape(b, self.out_channels, *out.shape[2:]))
        else:
            weight = weight.reshape(b * self.out_channels, c, k, k)
            out = F.conv2d(x, weight.to(x.dtype), padding=self.padding, groups=b)
            out = out.reshape(b, self.out_channels, h, w)
        return out

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


class SpatiallyModulatedConv2d(nn.Module):
    """The paper's spatially modulated convolution (eq. 1), with a style *map* per sample.

    For input h [N, C, H, W] and style map s [N, C, H, W]::

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
    through the same geometry. A stride-2 transposed convolution feeds each output pixel from one
    *phase* (a parity class) of W's taps, and the phases carry different energy, so StyleGAN2's
    up layer does not have unit variance either (about 0.3, slightly different per phase). To stay
    exactly StyleGAN2 for a constant s we rescale every phase of W^2 to sum to ``sum_k w_k^2``
    (StyleGAN2's demodulation); the output variance is then StyleGAN2's per-phase level for any
    style map (exactly so when the phase ratios agree across input channels), rather than a
    level the network would have to relearn. The extra cost is one transposed convolution with
    a 6x6 kernel per up layer.
    ``style_dim``: if given, the layer owns ``modulation``, a 1x1 :class:`EqualConv2d`
    (style_dim -> C, bias init 1; rosinality's ``conv.modulation`` as a 1x1 conv) applied to a
    style map of ``style_dim`` channels at *any* resolution, which is then :func:`resize`-d to
    h's resolution. Applying the affine map before resizing is exact (both are linear and the
    resize keeps constants) and much cheaper at the low resolution of a latent grid.
    ``demodulate=False`` (ToRGB) is plain modulation: ``y = conv(h * s, w)``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int,
                 style_dim: int | None = None, demodulate: bool = True, upsample: bool = False,
                 blur_kernel: Sequence[float] = DEFAULT_BLUR):
        super().__init__()
        _init_conv_weight(self, in_channels, out_channels, kernel_size, demodulate, upsample)
        self.modulation = (EqualConv2d(style_dim, in_channels, 1, bias_init=1.0)
                           if style_dim is not None else None)
        if upsample:
            self.blur = _upsample_blur(blur_kernel, kernel_size)
            # transposed-conv padding of the fused kernel blur * w (see variance_kernel)
            self.fused_padding = len(blur_kernel) - 1 - self.blur.pad[0]

    def variance_kernel(self) -> torch.Tensor:
        """Kernel [I, O, K, K] that maps s^2 to sigma_E^2 in the up-sampling layer: the squared
        fused kernel ``blur * w``, each phase rescaled to sum to ``sum_k w_k^2``."""
        w = self.weight * self.scale
        o, i, k, _ = w.shape
        blur = self.blur.kernel.to(w.dtype)
        taps = blur.shape[0] - 1
        fused = F.conv2d(F.pad(w.reshape(o * i, 1, k, k), [taps] * 4), blur[None, None])
        fused2 = fused.reshape(o, i, *fused.shape[-2:]).pow(2)
        phase_sum = torch.zeros_like(fused2)
        for a in range(2):
            for b in range(2):
                total = fused2[:, :, a::2, b::2].sum([2, 3], keepdim=True)
                phase_sum[:, :, a::2, b::2] = total.expand_as(fused2[:, :, a::2, b::2])
        kernel = fused2 * w.pow(2).sum([2, 3], keepdim=True) / (phase_sum + 1e-12)
        return kernel.transpose(0, 1)

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        _check_pair(x, self.in_channels, type(self).__name__)
        b, _, h, w = x.shape
        if self.modulation is not None:
            if style.ndim != 4 or style.shape[0] != b:
                raise ValueError(f"style must be a map [{b}, style_dim, h, w], "
                                 f"got shape {tuple(style.shape)}")
            style = resize(self.modulation(style), (h, w))
        elif style.ndim != 4 or style.shape[0] != b or tuple(style.shape[1:]) != (
                self.in_channels, h, w):
            raise ValueError(f"style map must have the input's shape [{b}, {self.in_channels}, "
                             f"{h}, {w}], got {tuple(style.shape)}")
        weight = (self.weight * self.scale).to(x.dtype)
        xs = x * style.to(x.dtype)
        if self.upsample:
            out = self.blur(F.conv_transpose2d(xs, weight.transpose(0, 1), stride=2))
        else:
            out = F.conv2d(xs, weight, padding=self.padding)
        if not self.demodulate:
            return out
        s2 = style.pow(2)
        if self.upsample:
            kernel = self.variance_kernel()
            r = -(-kernel.shape[-1] // 4)           # input pixels a fused kernel reaches
            var = F.conv_transpose2d(F.pad(s2, [r] * 4, mode="replicate"), kernel.to(s2.dtype),
                                     stride=2, padding=self.fused_padding + 2 * r)
        else:
            if self.padding:
                s2 = F.pad(s2, [self.padding] * 4, mode="replicate")
            var = F.conv2d(s2, weight.pow(2).to(s2.dtype))
        return out * torch.rsqrt(var + 1e-8).to(out.dtype)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, {self.kernel_size}, "
                f"demodulate={self.demodulate}, upsample={self.upsample}")


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
