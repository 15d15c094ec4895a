"""An independent reference of rosinality/stylegan2-pytorch's ``Generator`` and ``Discriminator``
(``model.py``), written from the published architecture (StyleGAN2 config-f, Karras et al.
2020) as plain functions of a rosinality-format state dict, and builders of such state dicts.

Deliberately other code paths than ``ssnlib``: one sample at a time instead of grouped
convolutions, the up-sampling convolution as zero insertion + an ordinary convolution with the
flipped kernel instead of ``conv_transpose2d``, FIR filters as sums of shifted copies, the
minibatch-stddev groups as an explicit loop. Only the tests use it.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

SQRT2 = math.sqrt(2.0)
BLUR = (1.0, 3.0, 3.0, 1.0)


def blur_kernel(factor: int = 1) -> torch.Tensor:
    """rosinality's ``make_kernel([1, 3, 3, 1]) * factor**2``: outer product, sum ``factor**2``."""
    k = torch.tensor(BLUR)
    k = k[None, :] * k[:, None]
    return k / k.sum() * factor ** 2


def lrelu(x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """``FusedLeakyReLU``: bias per channel (dim 1), slope 0.2, gain sqrt 2."""
    x = x + bias.reshape(1, -1, *([1] * (x.ndim - 2)))
    return torch.where(x >= 0, x, 0.2 * x) * SQRT2


def fir(x: torch.Tensor, kernel: torch.Tensor, pad: tuple[int, int]) -> torch.Tensor:
    """``upfirdn2d(x, kernel, up=1, down=1, pad)``: pad both axes by (before, after), then a
    true convolution with ``kernel``, written as a sum of shifted copies."""
    x = F.pad(x, [pad[0], pad[1], pad[0], pad[1]])
    kh, kw = kernel.shape
    h, w = x.shape[2] - kh + 1, x.shape[3] - kw + 1
    flipped = kernel.flip([0, 1])
    out = torch.zeros(*x.shape[:2], h, w, dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            out += flipped[i, j] * x[:, :, i:i + h, j:j + w]
    return out


def zero_insert(x: torch.Tensor, trailing: bool) -> torch.Tensor:
    """Every pixel followed by a zero along both axes (``trailing=False``: not the last)."""
    n, c, h, w = x.shape
    extra = 0 if trailing else 1
    out = torch.zeros(n, c, 2 * h - extra, 2 * w - extra, dtype=x.dtype)
    out[:, :, ::2, ::2] = x
    return out


def equal_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                 lr_mul: float = 1.0) -> torch.Tensor:
    """``EqualLinear`` without activation: ``x (W lr_mul / sqrt(in))^T + b lr_mul``."""
    out = x @ (weight * (lr_mul / math.sqrt(weight.shape[1]))).t()
    return out + bias * lr_mul if bias is not None else out


# -- Generator ---------------------------------------------------------------------------------


def mapping(state: dict, z: torch.Tensor, n_mlp: int) -> torch.Tensor:
    """PixelNorm, then ``n_mlp`` EqualLinear (lr_mul 0.01) + leaky ReLU: z [B, D] -> w."""
    x = z * torch.rsqrt(z.pow(2).mean(1, keepdim=True) + 1e-8)
    for i in range(1, n_mlp + 1):
        x = lrelu(equal_linear(x, state[f"style.{i}.weight"], None, 0.01),
                  state[f"style.{i}.bias"] * 0.01)
    return x


def modulated_conv(state: dict, prefix: str, x: torch.Tensor, w: torch.Tensor,
                   demodulate: bool = True, upsample: bool = False) -> torch.Tensor:
    """``ModulatedConv2d`` one sample at a time; ``prefix.weight`` is [1, O, I, k, k]."""
    weight = state[f"{prefix}.weight"][0]                      # [O, I, k, k]
    o, i, k, _ = weight.shape
    s = equal_linear(w, state[f"{prefix}.modulation.weight"],
                     state[f"{prefix}.modulation.bias"])       # [B, I]
    outs = []
    for b in range(x.shape[0]):
        wb = weight / math.sqrt(i * k * k) * s[b].reshape(1, i, 1, 1)
        if demodulate:
            wb = wb / torch.sqrt(wb.pow(2).sum([1, 2, 3], keepdim=True) + 1e-8)
        xb = x[b:b + 1]
        if upsample:
            # transposed stride-2 conv = zeros between pixels, pad k-1, conv with flipped kernel
            y = F.conv2d(F.pad(zero_insert(xb, False), [k - 1] * 4), wb.flip([2, 3]))
            y = fir(y, state[f"{prefix}.blur.kernel"], (1, 1))
        else:
            y = F.conv2d(xb, wb, padding=k // 2)
        outs.append(y)
    return torch.cat(outs)


def styled_conv(state, prefix, x, w, noise, upsample=False):
    """Modulated 3x3 conv -> ``+ strength * noise`` -> bias + leaky ReLU."""
    x = modulated_conv(state, f"{prefix}.conv", x, w, upsample=upsample)
    x = x + state[f"{prefix}.noise.weight"] * noise
    return lrelu(x, state[f"{prefix}.activate.bias"])


def to_rgb(state, prefix, x, w, skip=None):
    """Modulated 1x1 conv (no demodulation) + bias, plus the skip up-sampled x2."""
    out = modulated_conv(state, f"{prefix}.conv", x, w, demodulate=False)
    out = out + state[f"{prefix}.bias"]
    if skip is not None:
        out = out + fir(zero_insert(skip, True), state[f"{prefix}.upsample.kernel"], (2, 1))
    return out


def generator(state: dict, z: torch.Tensor, noise: list[torch.Tensor]) -> torch.Tensor:
    """rosinality's ``Generator(z, noise=noise)``, no truncation or mixing: [B, 3, R, R]."""
    n_mlp = sum(1 for k in state if k.startswith("style.") and k.endswith(".weight"))
    n_up = sum(1 for k in state if k.startswith("to_rgbs.") and k.endswith(".conv.weight"))
    w = mapping(state, z, n_mlp)
    x = state["input.input"].expand(z.shape[0], -1, -1, -1)
    x = styled_conv(state, "conv1", x, w, noise[0])
    skip = to_rgb(state, "to_rgb1", x, w)
    for k in range(n_up):
        x = styled_conv(state, f"convs.{2 * k}", x, w, noise[2 * k + 1], upsample=True)
        x = styled_conv(state, f"convs.{2 * k + 1}", x, w, noise[2 * k + 2])
        skip = to_rgb(state, f"to_rgbs.{k}", x, w, skip)
    return skip


def rosinality_channels(size: int, channel_multiplier: int) -> dict[int, int]:
    """rosinality's table (``Generator.channels``), up to ``size``."""
    table = {4: 512, 8: 512, 16: 512, 32: 512, 64: 256, 128: 128, 256: 64, 512: 32, 1024: 16}
    return {r: c if r <= 32 else c * channel_multiplier
            for r, c in table.items() if r <= size}


def _make(shape, gen, device, scale=1.0, offset=0.0):
    if device == "meta":
        return torch.empty(shape, device="meta")
    return torch.randn(shape, generator=gen) * scale + offset


def generator_state(size: int, style_dim: int, n_mlp: int, channels: dict[int, int],
                    seed: int = 0, device: str = "cpu") -> dict[str, torch.Tensor]:
    """A rosinality ``Generator`` state dict with random, trained-looking values (non-zero
    biases and noise strengths, so every term shows); ``device="meta"``: shapes only."""
    g = torch.Generator().manual_seed(seed)
    t = lambda *shape, **kw: _make(shape, g, device, **kw)    # noqa: E731
    state = {}
    for i in range(1, n_mlp + 1):
        state[f"style.{i}.weight"] = t(style_dim, style_dim, scale=100.0)   # N(0, 1) / lr_mul
        state[f"style.{i}.bias"] = t(style_dim, scale=10.0)
    state["input.input"] = t(1, channels[4], 4, 4)

    def styled(prefix, cin, cout, up):
        state[f"{prefix}.conv.weight"] = t(1, cout, cin, 3, 3)
        if up:
            state[f"{prefix}.conv.blur.kernel"] = blur_kernel(2).to(device)
        state[f"{prefix}.conv.modulation.weight"] = t(cin, style_dim)
        state[f"{prefix}.conv.modulation.bias"] = t(cin, scale=0.2, offset=1.0)
        state[f"{prefix}.noise.weight"] = t(1, scale=0.3)
        state[f"{prefix}.activate.bias"] = t(cout, scale=0.2)

    def rgb(prefix, cin, up):
        if up:
            state[f"{prefix}.upsample.kernel"] = blur_kernel(2).to(device)
        state[f"{prefix}.conv.weight"] = t(1, 3, cin, 1, 1)
        state[f"{prefix}.conv.modulation.weight"] = t(cin, style_dim)
        state[f"{prefix}.conv.modulation.bias"] = t(cin, scale=0.2, offset=1.0)
        state[f"{prefix}.bias"] = t(1, 3, 1, 1, scale=0.1)

    styled("conv1", channels[4], channels[4], False)
    rgb("to_rgb1", channels[4], False)
    log_size = int(math.log2(size))
    for k, i in enumerate(range(3, log_size + 1)):
        cin, cout = channels[2 ** (i - 1)], channels[2 ** i]
        styled(f"convs.{2 * k}", cin, cout, True)
        styled(f"convs.{2 * k + 1}", cout, cout, False)
    for k, i in enumerate(range(3, log_size + 1)):
        rgb(f"to_rgbs.{k}", channels[2 ** i], True)
    for layer in range(2 * (log_size - 2) + 1):
        r = 2 ** ((layer + 5) // 2)
        state[f"noises.noise_{layer}"] = t(1, 1, r, r)
    return state


# -- Discriminator -----------------------------------------------------------------------------


def conv_layer(state, prefix, x, k, downsample=False, activate=True, bias=True):
    """``ConvLayer``: [Blur ->] EqualConv2d (stride 2 when down-sampling) [-> leaky ReLU]."""
    idx = 0
    if downsample:
        p = 2 + (k - 1)
        x = fir(x, state[f"{prefix}.0.kernel"], ((p + 1) // 2, p // 2))
        idx = 1
    weight = state[f"{prefix}.{idx}.weight"]
    weight = weight / math.sqrt(weight.shape[1] * k * k)
    x = F.conv2d(x, weight, stride=2 if downsample else 1, padding=0 if downsample else k // 2)
    if activate:
        return lrelu(x, state[f"{prefix}.{idx + 1}.bias"])
    return x + state[f"{prefix}.{idx}.bias"].reshape(1, -1, 1, 1) if bias else x


def minibatch_stddev(x: torch.Tensor, group_size: int = 4) -> torch.Tensor:
    """rosinality's stddev feature: sample n is grouped with n + j * B/g (``view(g, -1, ...)``)."""
    b = x.shape[0]
    g = min(b, group_size)
    m = b // g
    feature = torch.zeros(b, 1, *x.shape[2:], dtype=x.dtype)
    for start in range(m):
        members = x[start::m]                                   # [g, C, H, W]
        std = torch.sqrt(members.var(0, unbiased=False) + 1e-8).mean()
        feature[start::m] = std
    return torch.cat([x, feature], 1)


def discriminator(state: dict, images: torch.Tensor) -> torch.Tensor:
    """rosinality's ``Discriminator(images)``: logits [B, 1]."""
    n_blocks = sum(1 for k in state if k.endswith(".conv1.0.weight"))
    x = conv_layer(state, "convs.0", images, 1)
    for j in range(1, n_blocks + 1):
        y = conv_layer(state, f"convs.{j}.conv1", x, 3)
        y = conv_layer(state, f"convs.{j}.conv2", y, 3, downsample=True)
        skip = conv_layer(state, f"convs.{j}.skip", x, 1, downsample=True, activate=False,
                          bias=False)
        x = (y + skip) / SQRT2
    x = conv_layer(state, "final_conv", minibatch_stddev(x), 3).flatten(1)
    x = lrelu(equal_linear(x, state["final_linear.0.weight"], None),
              state["final_linear.0.bias"])
    return equal_linear(x, state["final_linear.1.weight"], state["final_linear.1.bias"])


def discriminator_state(size: int, channels: dict[int, int], seed: int = 0,
                        device: str = "cpu") -> dict[str, torch.Tensor]:
    """A rosinality ``Discriminator`` state dict with random values (``"meta"``: shapes only)."""
    g = torch.Generator().manual_seed(seed)
    t = lambda *shape, **kw: _make(shape, g, device, **kw)    # noqa: E731
    state = {"convs.0.0.weight": t(channels[size], 3, 1, 1),
             "convs.0.1.bias": t(channels[size], scale=0.1)}
    log_size = int(math.log2(size))
    for j, i in enumerate(range(log_size, 2, -1), start=1):
        cin, cout = channels[2 ** i], channels[2 ** (i - 1)]
        state[f"convs.{j}.conv1.0.weight"] = t(cin, cin, 3, 3)
        state[f"convs.{j}.conv1.1.bias"] = t(cin, scale=0.1)
        state[f"convs.{j}.conv2.0.kernel"] = blur_kernel().to(device)
        state[f"convs.{j}.conv2.1.weight"] = t(cout, cin, 3, 3)
        state[f"convs.{j}.conv2.2.bias"] = t(cout, scale=0.1)
        state[f"convs.{j}.skip.0.kernel"] = blur_kernel().to(device)
        state[f"convs.{j}.skip.1.weight"] = t(cout, cin, 1, 1)
    c4 = channels[4]
    state.update({"final_conv.0.weight": t(c4, c4 + 1, 3, 3),
                  "final_conv.1.bias": t(c4, scale=0.1),
                  "final_linear.0.weight": t(c4, c4 * 16),
                  "final_linear.0.bias": t(c4, scale=0.1),
                  "final_linear.1.weight": t(1, c4),
                  "final_linear.1.bias": t(1, scale=0.1)})
    return state
