"""ssnlib.diagnostics: spike statistics, feature capture, the droplet toy, eq. 1's variance,
the up-sampling phases, the encoder's reach and the cost by part."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from ssnlib import diagnostics as dg
from ssnlib.blocks import BlockGrid
from ssnlib.layers import ModulatedConv2d, SpatiallyModulatedConv2d
from ssnlib.models import build_generator


def test_one_spike_holds_the_energy_and_gaussian_noise_does_not():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4, 8, 16, 16, generator=g)
    spiky = x.clone()
    spiky[:, 3, 5, 7] = 1000.0
    share = dg.top_energy_share(spiky, 1e-3)
    assert share.shape == (4,) and (share > 0.99).all()
    assert (dg.top_energy_share(x, 1e-3) < 0.05).all()
    assert (dg.peak_to_median(spiky) > 1000).all()
    assert (dg.channel_top_share(spiky) > 0.99).all()
    # a map of n activations at 0.1 % counts max(1, ceil(n / 1000)) of them
    one = torch.zeros(1, 10)
    one[0, :2] = 1.0
    assert float(dg.top_energy_share(one, 1e-3)) == pytest.approx(0.5)
    assert dg.gaussian_top_share(32768) == pytest.approx(0.0127, abs=0.001)
    with pytest.raises(ValueError, match="fraction"):
        dg.top_energy_share(x, 0)


def test_capture_outputs_records_every_synthesis_layer_and_removes_its_hooks():
    G = build_generator("spade", "tiny", channel_max=8, z_dim=8, w_dim=8).eval()
    layers = dg.synthesis_layers(G)
    assert list(layers) == ["4x4", "8x8 up", "8x8", "16x16 up", "16x16", "32x32 up", "32x32"]
    images, feats = dg.layer_features(G, n=2, seed=0)
    assert images.shape == (2, 3, 32, 32)
    assert {k: tuple(v.shape[-2:]) for k, v in feats.items()}["16x16 up"] == (16, 16)
    # the SPADE layer receives exactly the captured tensor
    seen = {}

    def keep_input(module, inputs, output):
        seen["x"] = inputs[0]

    G.convs[0].spade.register_forward_hook(keep_input)
    again, feats2 = dg.layer_features(G, n=2, seed=0)
    assert torch.equal(images, again) and torch.equal(seen["x"], feats2["8x8 up"])
    assert all(not m._forward_hooks for name, m in G.named_modules() if name != "convs.0.spade")
    with pytest.raises(KeyError, match="nope"):
        with dg.capture_outputs(G, ["nope"]):
            pass


def test_spike_table_is_deterministic_and_covers_every_layer():
    G = build_generator("ssn", "tiny", channel_max=8, z_dim=8, w_dim=8).eval()
    a, b = dg.spike_table(G, n=4, seed=3, batch=2), dg.spike_table(G, n=4, seed=3, batch=2)
    assert a == b and [r.layer for r in a] == list(dg.synthesis_layers(G))
    assert all(0 < r.top_share <= r.top_share_max <= 1 and r.peak_ratio >= 1 for r in a)


def test_instance_norm_learns_a_spike_and_demodulation_does_not():
    """The droplet mechanism, deterministic for a seed: under instance norm the bias map
    concentrates its energy in one pixel; under expected statistics it decays to nothing."""
    inst = dg.magnitude_toy("instance", steps=400, seed=1)
    expd = dg.magnitude_toy("expected", steps=400, seed=1)
    assert inst.losses == dg.magnitude_toy("instance", steps=400, seed=1).losses

    def spike(b):
        e = (b - b.mean()).pow(2).flatten()
        return float(e.max() / e.sum())

    assert spike(inst.bias_map) > 0.5 and inst.bias_map.abs().max() > 5
    assert expd.bias_map.abs().max() < 1e-3           # it started at 1e-3 noise
    assert expd.losses[-1] < inst.losses[-1]
    # the spike carries the magnitude through instance norm: output scales with m elsewhere
    u = torch.randn(1, 1, 32, 32, generator=torch.Generator().manual_seed(9))
    far = (inst.bias_map - inst.bias_map.mean()).abs() < 0.5 * (
        inst.bias_map - inst.bias_map.mean()).abs().max()
    lo, hi = (inst(m * u)[0, 0][far].std() for m in (0.1, 1.0))
    assert float(hi / lo) > 3


def _smooth_map(c, size, seed):
    g = torch.Generator().manual_seed(seed)
    return F.interpolate(torch.randn(1, c, 4, 4, generator=g), size=(size, size),
                         mode="bilinear") + 1.5


@pytest.mark.parametrize("rough", [False, True])
def test_eq1_has_unit_variance_at_interior_pixels(rough):
    torch.manual_seed(0)
    layer = SpatiallyModulatedConv2d(6, 3, 3)
    s = (torch.rand(1, 6, 12, 12, generator=torch.Generator().manual_seed(1)) * 2 + 0.1
         if rough else _smooth_map(6, 12, 1))

    def f(x):
        return layer(x, s.expand(x.shape[0], -1, -1, -1))

    exact = dg.jacobian_variance(f, (6, 12, 12))
    jac = torch.autograd.functional.jacobian(f, torch.zeros(1, 6, 12, 12))   # autograd's
    assert torch.allclose(exact, jac.pow(2).flatten(4).sum(-1)[0], atol=1e-5)
    with pytest.raises(ValueError, match="linear"):
        dg.jacobian_variance(lambda x: f(x) + 1, (6, 12, 12))
    inside = dg.interior((12, 12), 1)
    assert torch.allclose(exact[:, inside], torch.ones(()), atol=1e-4)
    mc = dg.monte_carlo_variance(f, (6, 12, 12), n=1000)
    assert float(mc[:, inside].mean()) == pytest.approx(1.0, abs=0.02)
    assert float(exact[:, ~inside].max()) < 0.9           # zero-padded h at the border


def test_up_layer_levels_are_stylegan2s_phase_levels():
    torch.manual_seed(0)
    layer = SpatiallyModulatedConv2d(5, 3, 3, upsample=True)
    const = torch.full((1, 5, 8, 8), 0.7)
    exact = dg.jacobian_variance(lambda x: layer(x, const.expand(x.shape[0], -1, -1, -1)),
                                 (5, 8, 8))
    assert exact.shape == (3, 16, 16)
    levels = dg.phase_levels(layer)
    phase = dg.output_phases((16, 16))
    inside = dg.interior((16, 16), 4)
    for p in range(4):
        want = levels[:, p // 2, p % 2][:, None]
        assert torch.allclose(exact[:, inside & (phase == p)], want, rtol=1e-4)
    # white weights: the expected level is (5/8)^2
    wide = SpatiallyModulatedConv2d(256, 64, 3, upsample=True)
    assert float(dg.phase_levels(wide).mean()) == pytest.approx(0.390625, abs=0.01)
    fused = dg.fused_upsample_kernel(layer)
    assert fused.shape == (3, 5, 6, 6)
    with pytest.raises(ValueError, match="up-sampling"):
        dg.fused_upsample_kernel(SpatiallyModulatedConv2d(2, 2, 3))


def test_encoder_reach_half_a_block_more_through_area_pooling():
    G = build_generator("ssn", "tiny", channel_max=8, z_dim=8, w_dim=8).eval()
    with torch.no_grad():
        G.encoder.gain.fill_(0.5)
    w = G.mapping(G.sample_z(1, torch.Generator().manual_seed(0)))
    block = G.grid.index(1, 1)
    reach = {size: dg.footprint_reach(dg.style_footprint(G, w, block, size), G.grid, block)
             for size in (None, 4, 8, 16, 32)}
    assert reach == {None: (2, 0.5), 4: (1, 1.0), 8: (1, 0.5), 16: (2, 0.5), 32: (5, 0.625)}
    with torch.no_grad():
        G.encoder.gain.zero_()
    fp = dg.style_footprint(G, w, block, None)
    assert dg.footprint_reach(fp, G.grid, block) == (0, 0.0)
    with pytest.raises(ValueError, match="divide"):
        dg.footprint_reach(torch.ones(6, 6), BlockGrid(4, 4, 32, 32), 0)


def test_constant_style_map_is_stylegan2_and_costs_match_the_flop_counter():
    torch.manual_seed(0)
    for up in (False, True):
        sg2 = ModulatedConv2d(8, 4, 3, style_dim=6, upsample=up)
        ssn = SpatiallyModulatedConv2d(8, 4, 3, style_dim=6, upsample=up)
        with torch.no_grad():
            ssn.weight.copy_(sg2.weight)
            ssn.modulation.weight.copy_(sg2.modulation.weight[:, :, None, None])
            ssn.modulation.bias.copy_(sg2.modulation.bias)
        x = torch.randn(2, 8, 8, 8)
        v = torch.randn(2, 6)
        with torch.no_grad():
            a = sg2(x, v)
            b = ssn(x, v[:, :, None, None].expand(-1, -1, 4, 4))
        assert torch.allclose(a, b, atol=1e-5)
        for layer, style in ((sg2, v[:1]), (ssn, v[:1, :, None, None].expand(-1, -1, 4, 4))):
            parts = dg.layer_flops(layer, 8, style_size=4)
            with FlopCounterMode(display=False) as counter, torch.no_grad():
                layer(x[:1], style)
            # the counter sees convolutions and matrix products, not elementwise work
            counted = sum(v for k, v in parts.items() if k in ("affine", "convolution"))
            if isinstance(layer, SpatiallyModulatedConv2d):
                kk = 6 if up else 3
                r = math.ceil(kk / 4) if up else 1
                counted += 2 * 8 * 4 * kk * kk * (8 + 2 * r) ** 2 if up else 2 * 4 * 8 * 9 * 64
                if up:
                    counted += 2 * 4 * 8 * 16 * kk * kk        # the fused kernel W = blur * w
            assert counter.get_total_flops() == counted, (up, type(layer).__name__, parts)
        assert sum(dg.layer_flops(ssn, 8, 4).values()) > 1.9 * sum(
            dg.layer_flops(sg2, 8).values())


@pytest.mark.parametrize("up", [False, True])
def test_fast_sigma_e_costs_match_the_flop_counter(up):
    torch.manual_seed(0)
    layer = SpatiallyModulatedConv2d(8, 4, 3, style_dim=6, upsample=up, sigma_mode="fast")
    layer.fast_from = 1                                   # fast at every resolution
    style = torch.randn(1, 6, 4, 4)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        layer(torch.randn(1, 8, 8, 8), style)
    parts = dg.layer_flops(layer, 8, style_size=4, fast=True)
    kk, out = (6, 16) if up else (3, 8)
    counted = parts["affine"] + parts["convolution"] + 2 * 4 * 8 * 64      # 1x1 over channels
    counted += 2 * 4 * kk * kk * ((8 + 4) ** 2 if up else out * out)       # depthwise taps
    if up:
        counted += 2 * 4 * 8 * 16 * kk * kk                                # W = blur * w
    assert counter.get_total_flops() == counted
    exact = dg.layer_flops(layer, 8, style_size=4)["sigma_E"]
    assert parts["sigma_E"] < exact / 2


def test_data_flow_reads_the_ssn_architecture_from_a_forward_pass():
    """Section 3.2's pipeline, as the code runs it: z grid -> w grid (per block, same grid)
    -> w-map (subdiv cells per block) -> 4x4 constant -> two 3x3 layers per resolution, the
    first doubling it -> an RGB image; StyleGAN2 has no grid to show."""
    G = build_generator("ssn", "tiny", channel_max=8, z_dim=8, w_dim=6).eval()
    stages = dg.data_flow(G)
    latent = [s for s in stages if s.latent]
    assert [s.shape for s in latent] == [(8, 4, 4), (6, 4, 4), (6, 4 * G.encoder.subdiv,
                                                                4 * G.encoder.subdiv)]
    synthesis = [s.shape[1] for s in stages if not s.latent]
    assert synthesis == [4, 4, 8, 8, 16, 16, 32, 32, 32]
    assert stages[-1].shape == (3, 32, 32)
    assert sum("up-sampling" in s.how for s in stages) == 3
    with pytest.raises(ValueError, match="spatial generator"):
        dg.data_flow(build_generator("stylegan2", "tiny", channel_max=8, z_dim=8, w_dim=8))
