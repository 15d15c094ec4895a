"""Layers: upfirdn2d against a direct computation, equalised lr, modulated convolutions
(eq. 1 vs StyleGAN2, expected-statistics variance), noise, SPADE's normalisation."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ssnlib.layers import (
    SPADE,
    Blur,
    EqualConv2d,
    EqualLinear,
    FusedLeakyReLU,
    ModulatedConv2d,
    NoiseInjection,
    SpatiallyModulatedConv2d,
    Upsample,
    fused_leaky_relu,
    make_kernel,
    upfirdn2d,
)


def reference_upfirdn2d(x, k, up, down, pad):
    """Direct loops over the definition: zero-stuff, pad/crop, true convolution, decimate."""
    x, k = x.numpy(), k.numpy()
    n, c, h, w = x.shape
    u = np.zeros((n, c, h * up, w * up), x.dtype)
    u[:, :, ::up, ::up] = x
    p0, p1 = pad
    m = 8                                                          # margin for padding/cropping
    big = np.zeros((n, c, h * up + 2 * m, w * up + 2 * m))
    big[:, :, m:m + h * up, m:m + w * up] = u
    src = big[:, :, m - p0:m + h * up + p1, m - p0:m + w * up + p1]
    kh, kw = k.shape
    oh, ow = (src.shape[2] - kh) // down + 1, (src.shape[3] - kw) // down + 1
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            for a in range(kh):
                for b in range(kw):
                    tap = k[kh - 1 - a, kw - 1 - b]
                    out[:, :, i, j] += src[:, :, i * down + a, j * down + b] * tap
    return torch.from_numpy(out).float()


@pytest.mark.parametrize("up,down,pad", [(1, 1, (1, 2)), (2, 1, (2, 1)), (1, 2, (1, 1)),
                                         (2, 2, (0, -1)), (1, 1, (-1, 0))])
def test_upfirdn2d_matches_direct_computation(up, down, pad):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 5, 6, generator=g)
    k = torch.rand(4, 3, generator=g)                              # asymmetric: checks the flip
    out = upfirdn2d(x, k, up=up, down=down, pad=pad)
    ref = reference_upfirdn2d(x, k, up, down, pad)
    assert out.shape == ref.shape
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)


def test_blur_and_upsample_keep_constants_and_shapes():
    x = torch.full((1, 2, 8, 8), 3.0)
    up = Upsample()(x)
    assert up.shape == (1, 2, 16, 16)
    torch.testing.assert_close(up[:, :, 2:-2, 2:-2], torch.full((1, 2, 12, 12), 3.0))
    blurred = Blur(pad=(2, 1))(x)
    assert blurred.shape == x.shape and make_kernel([1, 3, 3, 1]).sum().item() == 1.0
    torch.testing.assert_close(blurred[:, :, 2:-2, 2:-2], x[:, :, 2:-2, 2:-2])


def test_equal_linear_and_conv_runtime_scale():
    g = torch.Generator().manual_seed(0)
    lin = EqualLinear(64, 32, bias_init=0.5, lr_mul=0.01)
    assert lin.weight.std().item() == pytest.approx(100, rel=0.1)   # stored N(0,1) / lr_mul
    x = torch.randn(8, 64, generator=g)
    ref = F.linear(x, lin.weight * 0.01 / 8.0, lin.bias * 0.01)
    torch.testing.assert_close(lin(x), ref)
    conv = EqualConv2d(16, 8, 3, padding=1, lr_mul=0.5)
    xc = torch.randn(4, 16, 6, 6, generator=g)
    ref = F.conv2d(xc, conv.weight * 0.5 / math.sqrt(16 * 9), conv.bias * 0.5, padding=1)
    torch.testing.assert_close(conv(xc), ref)
    # equalised lr: unit-variance input gives unit-variance output at init, whatever lr_mul
    big = EqualConv2d(256, 256, 1, bias=False, lr_mul=0.01)
    out = big(torch.randn(16, 256, 4, 4, generator=g))
    assert out.std().item() == pytest.approx(1.0, abs=0.1)
    act = EqualConv2d(16, 8, 1, activation=True)
    torch.testing.assert_close(act(xc), fused_leaky_relu(F.conv2d(xc, act.weight * 0.25), act.bias))


def test_fused_leaky_relu():
    x = torch.tensor([[-1.0, 2.0]])
    bias = torch.tensor([0.5, -1.0])
    expected = torch.tensor([[-0.5 * 0.2, 1.0]]) * math.sqrt(2)
    torch.testing.assert_close(fused_leaky_relu(x, bias), expected)
    mod = FusedLeakyReLU(2)
    mod.bias.data.copy_(bias)
    torch.testing.assert_close(mod(x), expected)
    with pytest.raises(ValueError, match="channels"):
        fused_leaky_relu(torch.zeros(1, 3), bias)


def test_noise_injection():
    layer = NoiseInjection()
    x = torch.randn(2, 4, 5, 5)
    assert torch.equal(layer(x), x)                              # weight starts at 0
    layer.weight.data.fill_(0.5)
    noise = torch.randn(1, 1, 5, 5)
    torch.testing.assert_close(layer(x, noise), x + 0.5 * noise)
    a = layer(x, generator=torch.Generator().manual_seed(3))
    b = layer(x, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and not torch.equal(a, x)
    with pytest.raises(ValueError, match="noise must have shape"):
        layer(x, torch.randn(2, 1, 4, 4))


def paired(up, kernel=3, cin=8, cout=6, style_dim=5, demodulate=True):
    torch.manual_seed(1)
    mod = ModulatedConv2d(cin, cout, kernel, style_dim, demodulate=demodulate, upsample=up)
    spatial = SpatiallyModulatedConv2d(cin, cout, kernel, style_dim=style_dim,
                                       demodulate=demodulate, upsample=up)
    spatial.weight.data.copy_(mod.weight.data)
    spatial.modulation.weight.data.copy_(mod.modulation.weight.data[:, :, None, None])
    spatial.modulation.bias.data.copy_(mod.modulation.bias.data)
    return mod, spatial


def test_modulated_conv_matches_per_sample_reference():
    mod, _ = paired(False)
    g = torch.Generator().manual_seed(0)
    x, style = torch.randn(3, 8, 7, 7, generator=g), torch.randn(3, 5, generator=g)
    out = mod(x, style)
    for b in range(3):
        s = mod.modulation(style[b:b + 1])[0]
        w = mod.weight * mod.scale * s[None, :, None, None]
        w = w / (w.pow(2).sum([1, 2, 3], keepdim=True) + 1e-8).sqrt()
        torch.testing.assert_close(out[b:b + 1], F.conv2d(x[b:b + 1], w, padding=1))


@pytest.mark.parametrize("up", [False, True])
@pytest.mark.parametrize("demodulate", [True, False])
def test_constant_style_map_equals_modulated_conv(up, demodulate):
    """Eq. 1 with a spatially constant style map is StyleGAN2's layer, borders included."""
    kernel = 3 if demodulate else 1
    mod, spatial = paired(up, kernel=kernel, demodulate=demodulate)
    g = torch.Generator().manual_seed(2)
    x, style = torch.randn(3, 8, 8, 8, generator=g), torch.randn(3, 5, generator=g)
    expected = mod(x, style)
    # through the layer's own modulation, from a 2x2 map of identical styles
    got = spatial(x, style[:, :, None, None].expand(-1, -1, 2, 2))
    assert got.shape == expected.shape == (3, 6, 16 if up else 8, 16 if up else 8)
    assert (got - expected).abs().max().item() < 1e-5
    # and the bare eq. 1 layer fed the modulated style map at the input's resolution
    bare = SpatiallyModulatedConv2d(8, 6, kernel, demodulate=demodulate, upsample=up)
    bare.weight.data.copy_(mod.weight.data)
    s = mod.modulation(style)[:, :, None, None].expand(-1, -1, 8, 8)
    assert (bare(x, s) - expected).abs().max().item() < 1e-5


def exact_variance(layer, style, shape):
    """Per-pixel output variance for i.i.d. unit-variance input: the squared Jacobian summed
    over the inputs (the layer is linear in h for a fixed style map)."""
    x = torch.zeros(shape)
    jac = torch.autograd.functional.jacobian(lambda h: layer(h, style), x,
                                               vectorize=True)
    return jac.pow(2).flatten(-4).sum(-1)[0]                      # [O, H', W']


def test_spatial_demodulation_gives_unit_variance_in_the_interior():
    """sigma_E is the exact standard deviation wherever the 3x3 window is inside the image;
    at the border h is zero-padded but s^2 is edge-replicated (StyleGAN2's convention), so the
    variance there is lower (fewer inputs)."""
    torch.manual_seed(0)
    layer = SpatiallyModulatedConv2d(4, 3, 3)
    g = torch.Generator().manual_seed(5)
    style = torch.exp(torch.randn(1, 4, 8, 8, generator=g))      # rough, positive, 1-to-50 range
    var = exact_variance(layer, style, (1, 4, 8, 8))
    torch.testing.assert_close(var[:, 1:-1, 1:-1], torch.ones(3, 6, 6), atol=1e-5, rtol=1e-5)
    assert (var[:, 0] < 1).all()
    # Monte Carlo: 4000 samples, per-pixel std of the variance estimate is sqrt(2/4000) = 0.022,
    # so 5 sigma = 0.11 for any single pixel
    x = torch.randn(4000, 4, 8, 8, generator=g)
    with torch.no_grad():
        mc = layer(x, style.expand(4000, -1, -1, -1)).var(0)
    assert (mc[:, 1:-1, 1:-1] - 1).abs().max().item() < 0.11


def test_upsampling_layer_keeps_stylegan2_variance_for_any_style_map():
    """With one input channel the phase ratios trivially agree, so for any style map the
    up layer's per-pixel variance is exactly StyleGAN2's (constant style) level, phase by
    phase, away from the border."""
    torch.manual_seed(0)
    layer = SpatiallyModulatedConv2d(1, 2, 3, upsample=True)
    g = torch.Generator().manual_seed(6)
    style = torch.exp(torch.randn(1, 1, 6, 6, generator=g))
    var = exact_variance(layer, style, (1, 1, 6, 6))[:, 4:-4, 4:-4]
    level = exact_variance(layer, torch.ones(1, 1, 6, 6), (1, 1, 6, 6))[:, 4:-4, 4:-4]
    torch.testing.assert_close(var, level, atol=1e-5, rtol=1e-4)
    assert level.std().item() > 0.01         # the phase pattern is real, not a constant


def test_spatial_modulation_is_local():
    """Changing the style map at one pixel changes the output only within the 3x3 kernel's reach
    (numerator and sigma_E alike)."""
    torch.manual_seed(0)
    layer = SpatiallyModulatedConv2d(4, 3, 3)
    x, s = torch.randn(1, 4, 9, 9), torch.rand(1, 4, 9, 9) + 0.5
    s2 = s.clone()
    s2[:, :, 4, 4] += 1.0
    changed = (layer(x, s) != layer(x, s2)).any(1)[0]
    window = torch.zeros(9, 9, dtype=torch.bool)
    window[3:6, 3:6] = True
    assert torch.equal(changed, window)


@pytest.mark.parametrize(("mode", "up"), [("exact", True), ("fast", False), ("fast", True)])
def test_spatial_conv_channels_last_and_bf16_autocast(mode, up):
    torch.manual_seed(0)
    layer = SpatiallyModulatedConv2d(8, 4, 3, style_dim=5, upsample=up, sigma_mode=mode)
    layer.fast_from = 4                                        # "fast" at every resolution
    x, s = torch.randn(2, 8, 8, 8), torch.randn(2, 5, 2, 2)
    ref = layer(x, s)
    cl = layer(x.to(memory_format=torch.channels_last), s)
    torch.testing.assert_close(cl, ref, atol=1e-5, rtol=1e-5)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = layer(x, s)
    assert torch.isfinite(low).all()
    assert (low.float() - ref).abs().mean().item() < 0.05 * ref.abs().mean().item()


def test_spade_normalises_by_actual_statistics():
    torch.manual_seed(0)
    spade = SPADE(6, 5, hidden=16)
    g = torch.Generator().manual_seed(0)
    x, cond = torch.randn(3, 6, 8, 8, generator=g), torch.randn(3, 5, 2, 2, generator=g)
    out = spade(x, cond)
    assert out.shape == x.shape
    # actual statistics: any per-(sample, channel) affine change of x is invisible ...
    a = torch.rand(3, 6, 1, 1, generator=g) * 10 + 0.1
    torch.testing.assert_close(spade(x * a + 3.0, cond), out, atol=1e-4, rtol=1e-4)
    # ... so a local spike in one pixel rescales the whole feature map (the droplet mechanism)
    spiked = x.clone()
    spiked[:, :, 0, 0] += 100.0
    far = (spade(spiked, cond) - out)[:, :, 4:, 4:].abs().mean().item()
    assert far > 0.1
    # with gamma = beta = 0 the output is exactly the instance norm: zero mean, unit variance
    for conv in (spade.mlp_gamma, spade.mlp_beta):
        conv.weight.data.zero_()
        conv.bias.data.zero_()
    plain = spade(x, cond)
    torch.testing.assert_close(plain.mean((2, 3)), torch.zeros(3, 6), atol=1e-5, rtol=0)
    torch.testing.assert_close(plain.var((2, 3), unbiased=False), torch.ones(3, 6),
                               atol=1e-3, rtol=0)
    batch = SPADE(6, 5, hidden=16, norm="batch")
    for conv in (batch.mlp_gamma, batch.mlp_beta):
        conv.weight.data.zero_()
        conv.bias.data.zero_()
    bn = batch(x, cond)
    torch.testing.assert_close(bn.mean((0, 2, 3)), torch.zeros(6), atol=1e-5, rtol=0)


def test_expected_statistics_do_not_see_the_spike():
    """Contrast with SPADE: eq. 1 is linear in h, so a spike changes the output only within the
    kernel's reach, and far pixels are untouched."""
    torch.manual_seed(0)
    layer = SpatiallyModulatedConv2d(6, 6, 3)
    x, s = torch.randn(3, 6, 8, 8), torch.rand(3, 6, 8, 8) + 0.5
    spiked = x.clone()
    spiked[:, :, 0, 0] += 100.0
    assert torch.equal(layer(spiked, s)[:, :, 4:, 4:], layer(x, s)[:, :, 4:, 4:])


def test_layer_shape_errors():
    mod = ModulatedConv2d(8, 4, 3, 5)
    with pytest.raises(ValueError, match=r"\[N, 8, H, W\]"):
        mod(torch.zeros(2, 7, 4, 4), torch.zeros(2, 5))
    with pytest.raises(ValueError, match="style must be"):
        mod(torch.zeros(2, 8, 4, 4), torch.zeros(3, 5))
    bare = SpatiallyModulatedConv2d(8, 4, 3)
    with pytest.raises(ValueError, match="input's shape"):
        bare(torch.zeros(2, 8, 4, 4), torch.zeros(2, 8, 2, 2))
    with pytest.raises(ValueError, match="norm must be"):
        SPADE(4, 4, norm="layer")
    with pytest.raises(ValueError, match="conditioning"):
        SPADE(4, 3)(torch.zeros(1, 4, 4, 4), torch.zeros(1, 4, 4, 4))


def test_stylegan2_up_layer_variance_is_five_eighths_squared():
    """StyleGAN2's up layer (transposed conv + [1, 3, 3, 1] blur, demodulated) gives i.i.d.
    unit-variance input a per-pixel variance of about (5/8)^2 = 0.39, not 1: each 1-D phase of
    the blur holds 1/16 + 9/16 of its energy. Measured from impulse responses: the variance at
    a pixel of phase (a, b) is the energy of the responses on that phase."""
    torch.manual_seed(0)
    layer = ModulatedConv2d(64, 64, 3, 8, upsample=True)
    x = torch.zeros(64, 64, 9, 9)
    x[torch.arange(64), torch.arange(64), 4, 4] = 1.0            # one impulse per input channel
    with torch.no_grad():
        energy = layer(x, torch.zeros(64, 8)).pow(2).sum(0)      # [O, 18, 18]
    phases = torch.stack([energy[:, a::2, b::2].sum([1, 2]) for a in (0, 1) for b in (0, 1)])
    assert phases.mean().item() == pytest.approx(0.39, abs=0.01)
    assert (phases.mean(1) - phases.mean()).abs().max().item() < 0.005   # every phase alike
