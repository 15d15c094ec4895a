"""Generators and discriminator: shapes and gradients at 32/64/256, determinism, shared noise,
the SSN's locality and its exact reduction to StyleGAN2, configs, and errors."""

import pytest
import torch

from ssnlib.blocks import BlockGrid
from ssnlib.models import (
    CONFIGS,
    Discriminator,
    SSNGenerator,
    StyleGAN2Generator,
    build_discriminator,
    build_generator,
)
from ssnlib.models.common import make_channels
from ssnlib.models.discriminator import minibatch_stddev

ARCHS = ("stylegan2", "ssn", "spade")


def small(resolution, width=16):
    return dict(resolution=resolution, z_dim=width, w_dim=width, channel_max=width,
                n_mlp=2)


def gen(arch, resolution, seed=0, **kw):
    torch.manual_seed(seed)
    opts = small(resolution)
    if arch == "spade":
        opts["spade_hidden"] = 8
    opts.update(kw)
    return build_generator(arch, "tiny", **opts)


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("resolution", [32, 64, 256])
def test_shapes_and_finite_gradients(arch, resolution):
    G = gen(arch, resolution)
    D = Discriminator(resolution, channel_max=16)
    z = G.sample_z(2, torch.Generator().manual_seed(0))
    expected_z = (2, 16) if arch == "stylegan2" else (2, 16, 4, 4)
    assert tuple(z.shape) == expected_z
    img = G(z, generator=torch.Generator().manual_seed(1))
    assert img.shape == (2, 3, resolution, resolution)
    logits = D(img)
    assert logits.shape == (2, 1)
    logits.sum().backward()
    for net in (G, D):
        grads = [p.grad for p in net.parameters() if p.requires_grad]
        assert all(g is not None and torch.isfinite(g).all() for g in grads)
    # the latent and the output reach every image pixel's gradient path
    assert G.conv1.conv.weight.grad.abs().sum() > 0


# the SSN's forward at 256 px with config-f widths takes 7-30 s on the 2-core CPU
@pytest.mark.parametrize("arch", ["stylegan2", pytest.param("ssn", marks=pytest.mark.slow)])
def test_paper256_builds_and_runs_on_cpu(arch):
    torch.manual_seed(0)
    G, D = build_generator(arch, "paper256"), build_discriminator("paper256")
    assert G.channels == {4: 512, 8: 512, 16: 512, 32: 512, 64: 512, 128: 256, 256: 128}
    with torch.no_grad():
        img = G(G.sample_z(1, torch.Generator().manual_seed(0)))
        logit = D(img)
    assert img.shape == (1, 3, 256, 256) and torch.isfinite(img).all() and logit.shape == (1, 1)
    n_params = sum(p.numel() for p in G.parameters())
    # rosinality's 256px config-f g_ema has 30.0M parameters (without the noise buffers)
    assert 25e6 < n_params < 40e6, n_params


def test_rosinality_names():
    keys = set(gen("stylegan2", 32).state_dict())
    for key in ("style.1.weight", "style.2.bias", "input.input", "conv1.conv.weight",
                "conv1.conv.modulation.weight", "conv1.conv.modulation.bias",
                "conv1.noise.weight", "conv1.activate.bias", "to_rgb1.conv.weight",
                "to_rgb1.bias", "convs.0.conv.blur.kernel", "convs.5.conv.weight",
                "to_rgbs.2.upsample.kernel", "noises.noise_6"):
        assert key in keys, key
    assert "noises.noise_7" not in keys                     # 1 + 2 * 3 noise maps at 32 px
    d_keys = set(Discriminator(32, channel_max=16).state_dict())
    for key in ("convs.0.0.weight", "convs.0.1.bias", "convs.1.conv1.0.weight",
                "convs.1.conv2.0.kernel", "convs.1.conv2.1.weight", "convs.1.skip.1.weight",
                "final_conv.0.weight", "final_linear.0.weight", "final_linear.1.bias"):
        assert key in d_keys, key


def transfer(sg2, ssn):
    """Copy StyleGAN2 weights into an SSN by name (section 3.4): linear -> 1x1 conv."""
    target = ssn.state_dict()
    for key, value in sg2.state_dict().items():
        target[key] = value.reshape(target[key].shape)
    ssn.load_state_dict(target)


def test_ssn_with_identical_blocks_is_stylegan2():
    """With every block of z equal, the w-map is constant, every style map is constant, and
    eq. 1 reduces to StyleGAN2's modulated convolution: the transferred SSN reproduces the
    StyleGAN2 image exactly (same noise)."""
    sg2, ssn = gen("stylegan2", 32), gen("ssn", 32, seed=1)
    transfer(sg2, ssn)
    z = sg2.sample_z(2, torch.Generator().manual_seed(0))
    noise = sg2.make_noise(2, torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = sg2(z, noise=noise)
        got = ssn(z[:, :, None, None].expand(-1, -1, 4, 4), noise=noise)
    assert (got - expected).abs().max().item() < 1e-4
    # a differing block changes the picture
    z_grid = z[:, :, None, None].repeat(1, 1, 4, 4)
    z_grid[:, :, 1, 2] = torch.randn(2, 16, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        assert (ssn(z_grid, noise=noise) - expected).abs().max().item() > 1e-2


@pytest.mark.parametrize("arch", ["ssn", "spade"])
def test_block_of_z_changes_w_map_only_near_its_block(arch):
    """Bounded receptive field: a block of z changes only its own cell of the w-grid, and the
    encoder's w-map only within ``encoder.reach`` cells of the block."""
    G = gen(arch, 32)
    with torch.no_grad():
        G.encoder.gain.fill_(1.0)                           # make the refinement matter
    z = G.sample_z(1, torch.Generator().manual_seed(0))
    z2 = z.clone()
    a = G.grid.index(1, 2)
    z2[:, :, 1, 2] = torch.randn(16, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        w, w2 = G.mapping(z), G.mapping(z2)
        assert torch.equal((w != w2).any(1)[0], G.grid.latent_mask(a))
        changed = (G.encoder(w) != G.encoder(w2)).any(1)[0]
    s, r = G.encoder.subdiv, G.encoder.reach
    cells = BlockGrid(4, 4, 4 * s, 4 * s)
    near = cells.distance_map(a) * s <= r * 2 ** 0.5 + 1e-6
    dilated = torch.zeros_like(near)
    top, left, bottom, right = cells.box(a)
    dilated[max(top - r, 0):bottom + r, max(left - r, 0):right + r] = True
    assert changed[cells.block_mask(a)].all()
    assert not changed[~dilated].any() and near.any()
    assert changed[~cells.block_mask(a)].any()             # the refinement does reach out


@pytest.mark.parametrize("arch", ARCHS)
def test_determinism_and_shared_noise(arch):
    G1, G2 = gen(arch, 32, seed=3), gen(arch, 32, seed=3)
    z1 = G1.sample_z(2, torch.Generator().manual_seed(7))
    z2 = G2.sample_z(2, torch.Generator().manual_seed(7))
    assert torch.equal(z1, z2)
    with torch.no_grad():
        a = G1(z1, generator=torch.Generator().manual_seed(9))
        b = G2(z2, generator=torch.Generator().manual_seed(9))
        assert torch.equal(a, b)                             # same seeds, same images
        for net in (G1,):
            for name, p in net.named_parameters():
                if name.endswith("noise.weight"):
                    p.fill_(0.5)                             # make the noise visible
        noise = G1.make_noise(2, torch.Generator().manual_seed(4))
        assert len(noise) == G1.num_noise
        assert torch.equal(G1(z1, noise=noise), G1(z1, noise=noise))
        fresh1 = G1(z1, generator=torch.Generator().manual_seed(1))
        fresh2 = G1(z1, generator=torch.Generator().manual_seed(2))
        assert not torch.equal(fresh1, fresh2)               # noise matters, so sharing is real
        assert torch.equal(G1(z1, noise="const"), G1(z1, noise="const"))
        torch.testing.assert_close(G1.synthesis(G1.mapping(z1), noise), G1(z1, noise=noise))


def test_stylegan2_per_layer_w_and_truncation():
    G = gen("stylegan2", 32)
    z = G.sample_z(3, torch.Generator().manual_seed(0))
    noise = G.make_noise(1, torch.Generator().manual_seed(0))
    with torch.no_grad():
        w = G.mapping(z)
        per_layer = w[:, None].expand(-1, G.n_latent, -1)
        torch.testing.assert_close(G.synthesis(per_layer, noise), G.synthesis(w, noise))
        avg = G.mean_w(256, torch.Generator().manual_seed(1))
        assert avg.shape == (16,)
        out = G(z, noise=noise, truncation=0.0, truncation_w=avg)
    assert torch.allclose(out[0], out[1], atol=1e-5) and torch.allclose(out[0], out[2], atol=1e-5)


def test_ssn_truncation_pulls_blocks_to_mean():
    G = gen("ssn", 32)
    z = G.sample_z(2, torch.Generator().manual_seed(0))
    noise = G.make_noise(1, torch.Generator().manual_seed(0))
    with torch.no_grad():
        avg = G.mean_w(128, torch.Generator().manual_seed(1))
        out = G(z, noise=noise, truncation=0.0, truncation_w=avg)
        flat = G.synthesis(avg[None, :, None, None].expand(2, -1, 4, 4), noise)
    torch.testing.assert_close(out, flat)
    with pytest.raises(ValueError, match="truncation_w"):
        G(z, truncation=0.5)


def test_discriminator_any_batch_size_and_mbstd():
    D = Discriminator(32, channel_max=16)
    for batch in (1, 3, 5, 6):
        assert D(torch.randn(batch, 3, 32, 32)).shape == (batch, 1)
    x = torch.randn(6, 4, 2, 2)
    out = minibatch_stddev(x, group_size=4)                  # 6 -> groups of 3
    assert out.shape == (6, 5, 2, 2)
    group = x[[0, 2, 4]]                                     # sample i sits in group i mod 2
    expected = group.var(0, unbiased=False).add(1e-8).sqrt().mean()
    torch.testing.assert_close(out[0, 4], torch.full((2, 2), expected.item()))
    torch.testing.assert_close(out[2, 4], out[0, 4])


def test_channels_last_and_bf16_autocast():
    G, D = gen("ssn", 32), Discriminator(32, channel_max=16)
    G, D = G.to(memory_format=torch.channels_last), D.to(memory_format=torch.channels_last)
    z = G.sample_z(2, torch.Generator().manual_seed(0))
    noise = G.make_noise(2, torch.Generator().manual_seed(0))
    ref = G(z, noise=noise)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        img = G(z, noise=noise)
        logits = D(img)
    assert torch.isfinite(img).all() and torch.isfinite(logits).all()
    assert (img.float() - ref).abs().mean() < 0.1 * ref.abs().mean()


def test_configs():
    assert set(CONFIGS) >= {"tiny", "small", "paper256"}
    tiny = build_generator("ssn", "tiny")
    assert tiny.resolution == 32 and tiny.grid == BlockGrid(4, 4, 32, 32)
    assert set(tiny.channels.values()) == {64}
    assert build_generator("stylegan2", "small").resolution == 64
    assert build_generator("ssn", "tiny", grid=(2, 2)).grid.n_blocks == 4
    assert build_discriminator("small").resolution == 64
    assert make_channels(1024, channel_multiplier=2) == {
        4: 512, 8: 512, 16: 512, 32: 512, 64: 512, 128: 256, 256: 128, 512: 64, 1024: 32}


@pytest.mark.parametrize("call,match", [
    (lambda: StyleGAN2Generator(48), "power of 2"),
    (lambda: StyleGAN2Generator(16), "power of 2"),
    (lambda: StyleGAN2Generator(2048), "power of 2"),
    (lambda: SSNGenerator(32, channels={4: 8, 8: 8, 16: 8}), "lacks resolutions"),
    (lambda: SSNGenerator(32, grid=(3, 3), channel_max=8), "does not divide"),
    (lambda: SSNGenerator(32, z_dim=0, channel_max=8), "z_dim"),
    (lambda: build_generator("stylegan3"), "unknown arch"),
    (lambda: build_generator("ssn", "huge"), "unknown config"),
    (lambda: Discriminator(32, channel_max=16)(torch.zeros(1, 3, 64, 64)), "expects images"),
])
def test_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_call_errors():
    G = gen("ssn", 32)
    with pytest.raises(ValueError, match=r"z must have shape \[\*, 16, 4, 4\]"):
        G(torch.zeros(1, 16))
    with pytest.raises(ValueError, match="noise entries"):
        G(G.sample_z(1), noise=G.make_noise(1)[:-1])
    with pytest.raises(ValueError, match="w-grid"):
        G.synthesis(torch.zeros(1, 16, 2, 2))
    S = gen("stylegan2", 32)
    with pytest.raises(ValueError, match=r"z must have shape \[\*, 16\]"):
        S(torch.zeros(1, 16, 4, 4))
