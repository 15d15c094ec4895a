"""Losses and regularisers: gradients against finite differences (float64), closed forms, and
the locality property of the distortion regulariser (eq. 2)."""

import math

import pytest
import torch
from torch import nn

from ssnlib.blocks import BlockGrid
from ssnlib.losses import (
    d_logistic_loss,
    distortion_penalty,
    distortion_weights,
    eq2_factor,
    g_nonsaturating_loss,
    path_length_penalty,
    path_lengths,
    r1_penalty,
    update_mean_path_length,
)
from ssnlib.models import build_generator

DT = torch.float64


class BlockGenerator(nn.Module):
    """A spatial test generator on a 2x2 grid of 4x4-pixel blocks.

    Each block of z goes through its own-position MLP (1x1 convs) to w, and each block of w
    writes only its own pixel block (a 1x1 conv to 3*4*4 channels, then pixel shuffle), so the
    generator is perfectly local. ``leak > 0`` adds the mean of w over all blocks to every
    block: the image then depends on every block everywhere.
    """

    def __init__(self, leak: float = 0.0, dim: int = 3):
        super().__init__()
        self.grid = BlockGrid(2, 2, 8, 8)
        self.z_dim, self.leak = dim, leak
        self.style = nn.Sequential(nn.Conv2d(dim, dim, 1), nn.Tanh(), nn.Conv2d(dim, dim, 1))
        self.to_pixels = nn.Conv2d(dim, 3 * 16, 1)
        self.noise_weight = nn.Parameter(torch.tensor(0.3))

    def sample_z(self, batch, generator=None, device=None):
        return torch.randn(batch, self.z_dim, 2, 2, generator=generator, dtype=DT)

    def make_noise(self, batch=1, generator=None, device=None):
        return [torch.randn(batch, 1, 8, 8, generator=generator, dtype=DT)]

    def mapping(self, z):
        return self.style(z)

    def synthesis(self, w, noise=None, generator=None):
        if self.leak:
            w = w + self.leak * w.mean((2, 3), keepdim=True)
        x = torch.tanh(nn.functional.pixel_shuffle(self.to_pixels(w), 4))
        n = noise[0] if noise is not None else self.make_noise(w.shape[0], generator)[0]
        return x + self.noise_weight * n

    def forward(self, z, noise=None, generator=None):
        return self.synthesis(self.mapping(z), noise, generator)


def smooth_discriminator():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 2, 3, padding=1), nn.Softplus(), nn.Flatten(),
                         nn.Linear(2 * 4 * 4, 1)).to(DT)


def gradcheck_param(module, name, fn):
    """Finite-difference check of d fn(module) / d param ``name``, the others held fixed."""
    prefix, _, attr = name.rpartition(".")
    owner = module.get_submodule(prefix)
    saved = owner._parameters[attr]
    module.requires_grad_(False)

    def f(p):
        owner._parameters[attr] = p            # the module now computes with p
        return fn(module)
    try:
        assert torch.autograd.gradcheck(f, (saved.detach().clone().requires_grad_(),),
                                        eps=1e-6, atol=1e-5, rtol=1e-4)
    finally:
        owner._parameters[attr] = saved


def test_logistic_losses_match_finite_differences_and_definition():
    real = torch.randn(5, 1, dtype=DT, requires_grad=True)
    fake = torch.randn(5, 1, dtype=DT, requires_grad=True)
    assert torch.autograd.gradcheck(d_logistic_loss, (real, fake))
    assert torch.autograd.gradcheck(g_nonsaturating_loss, (fake,))
    expected = -(torch.sigmoid(real).log().mean() + (1 - torch.sigmoid(fake)).log().mean())
    torch.testing.assert_close(d_logistic_loss(real, fake), expected)
    torch.testing.assert_close(g_nonsaturating_loss(fake), -torch.sigmoid(fake).log().mean())


def test_r1_of_linear_discriminator_is_closed_form():
    torch.manual_seed(0)
    D = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 1)).to(DT)
    real = torch.randn(6, 3, 8, 8, dtype=DT)
    gamma = 3.0
    expected = gamma / 2 * D[1].weight.square().sum()
    torch.testing.assert_close(r1_penalty(D, real, gamma), expected)


def test_r1_gradient_matches_finite_differences():
    D = smooth_discriminator()
    real = torch.randn(3, 3, 4, 4, dtype=DT, generator=torch.Generator().manual_seed(1))
    gradcheck_param(D, "0.weight", lambda d: r1_penalty(d, real, gamma=2.0))


def test_path_length_penalty_gradient_matches_finite_differences():
    G = BlockGenerator(leak=0.5).to(DT)
    z = G.sample_z(3, torch.Generator().manual_seed(2))
    noise = G.make_noise(3, torch.Generator().manual_seed(3))
    mean = torch.tensor(0.1, dtype=DT)

    def penalty(g):
        lengths = path_lengths(g, z, noise, torch.Generator().manual_seed(4))
        return path_length_penalty(lengths, mean)

    gradcheck_param(G, "to_pixels.weight", penalty)
    gradcheck_param(G, "style.0.weight", penalty)


def test_path_length_of_linear_synthesis_is_the_whole_gradient_norm():
    """sqrt(sum over blocks of ||d<g(w), y>/dw_block||^2), y ~ N(0, I) / sqrt(HW)."""
    G = BlockGenerator().to(DT)
    G.synthesis = lambda w, noise=None, generator=None: nn.functional.pixel_shuffle(
        G.to_pixels(w), 4)
    z = G.sample_z(2, torch.Generator().manual_seed(5))
    lengths = path_lengths(G, z, None, torch.Generator().manual_seed(6))
    y = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(6)).to(DT) / 8
    # d<pixel_shuffle(A w + b), y>/dw_k = A^T y_k, y_k the block's pixels in channel order
    y_blocks = nn.functional.pixel_unshuffle(y, 4)                       # [B, 48, 2, 2]
    grad = torch.einsum("oi,boyx->biyx", G.to_pixels.weight[:, :, 0, 0], y_blocks)
    expected = grad.square().sum((1, 2, 3)).sqrt()
    torch.testing.assert_close(lengths, expected)


def test_path_length_keeps_its_scale_across_grid_sizes():
    """The same weights on a 1x1, 2x2 and 4x4 grid give path lengths within 25 % (a mean over
    blocks instead of the sum would shrink them 2x per step)."""
    means = []
    for n in (1, 2, 4):
        torch.manual_seed(0)
        G = build_generator("ssn", "tiny", grid=(n, n))
        z = G.sample_z(16, torch.Generator().manual_seed(1))
        noise = G.make_noise(16, torch.Generator().manual_seed(2))
        means.append(float(path_lengths(G, z, noise, torch.Generator().manual_seed(3)).mean()))
    assert max(means) / min(means) < 1.25, means


def test_mean_path_length_decays():
    a = torch.tensor(1.0)
    torch.testing.assert_close(update_mean_path_length(a, torch.tensor(3.0), 0.01),
                               torch.tensor(1.02))


def test_distortion_is_zero_for_a_local_generator_and_positive_otherwise():
    gen = torch.Generator().manual_seed(7)
    local, leaky = BlockGenerator().to(DT), BlockGenerator(leak=0.5).to(DT)
    leaky.load_state_dict(local.state_dict())
    z = local.sample_z(4, gen)
    for mode in ("outside", "radial", "share", "radial_share"):
        for resamples in (1, 3):
            zero = distortion_penalty(local, z, mode=mode, resamples=resamples,
                                      generator=torch.Generator().manual_seed(8))
            assert zero.item() == 0.0
            pos = distortion_penalty(leaky, z, mode=mode, resamples=resamples,
                                     generator=torch.Generator().manual_seed(8))
            assert pos.item() > 1e-4


def test_distortion_uses_the_same_noise_for_both_images():
    """A noise-only difference would show up as distortion; shared noise cancels exactly."""
    G = BlockGenerator().to(DT)
    G.noise_weight.data.fill_(5.0)
    z = G.sample_z(3, torch.Generator().manual_seed(9))
    assert distortion_penalty(G, z, generator=torch.Generator().manual_seed(1)).item() == 0.0


def test_distortion_outside_is_mean_block_mse_over_other_blocks():
    G = BlockGenerator(leak=1.0).to(DT)
    z = G.sample_z(2, torch.Generator().manual_seed(10))
    noise = G.make_noise(2, torch.Generator().manual_seed(11))
    blocks = torch.tensor([0, 3])
    gen = torch.Generator().manual_seed(12)
    value = distortion_penalty(G, z, noise, blocks=blocks, generator=gen)
    fresh = torch.randn(z.shape, generator=torch.Generator().manual_seed(12)).to(DT)
    z_a = z.clone()
    z_a[0, :, 0, 0], z_a[1, :, 1, 1] = fresh[0, :, 0, 0], fresh[1, :, 1, 1]
    diff = (G(z, noise) - G(z_a, noise)).square().mean(1)                 # [B, 8, 8]
    per_block = diff.reshape(2, 2, 4, 2, 4).mean((2, 4)).flatten(1)      # [B, 4]
    expected = (per_block[0, [1, 2, 3]].mean() + per_block[1, [0, 1, 2]].mean()) / 2
    torch.testing.assert_close(value, expected)


def test_distortion_gradient_matches_finite_differences():
    G = BlockGenerator(leak=0.5).to(DT)
    z = G.sample_z(2, torch.Generator().manual_seed(13))
    for mode in ("outside", "radial", "share", "radial_share"):
        gradcheck_param(G, "style.2.weight", lambda g, mode=mode: distortion_penalty(
            g, z, mode=mode, generator=torch.Generator().manual_seed(14)))


def test_the_share_mode_is_blind_to_how_much_the_image_varies():
    """Scale every image by c: eq. 2's outside change grows c^2 times, the share of the change
    that lands outside stays put, so only locality can lower it (varying less cannot)."""

    class Scaled(BlockGenerator):
        scale = 1.0

        def forward(self, z, noise=None, generator=None):
            return self.scale * super().forward(z, noise, generator)

    G = Scaled(leak=0.5).to(DT)
    z = G.sample_z(3, torch.Generator().manual_seed(15))
    values = {}
    for c in (1.0, 0.1):
        G.scale = c
        values[c] = {mode: distortion_penalty(G, z, mode=mode, resamples=2,
                                              generator=torch.Generator().manual_seed(16))
                     for mode in ("outside", "share", "radial_share")}
    torch.testing.assert_close(values[0.1]["outside"], values[1.0]["outside"] * 0.01)
    for mode in ("share", "radial_share"):
        torch.testing.assert_close(values[0.1][mode], values[1.0][mode], rtol=1e-4, atol=0)
    assert 0 < values[1.0]["share"].item() < 1


class SpreadGenerator(nn.Module):
    """A 4x4 grid of 4x4-pixel blocks: each z block paints its own pixels, then either a 3x3
    box blur lets every change spill one pixel into the neighbours (``"near"``) or the mean of
    z is added everywhere, so every pixel outside moves alike (``"even"``)."""

    def __init__(self, spread: str):
        super().__init__()
        self.grid, self.z_dim, self.spread = BlockGrid(4, 4, 16, 16), 1, spread

    def make_noise(self, batch=1, generator=None, device=None):
        return [None]

    def forward(self, z, noise=None):
        x = nn.functional.interpolate(z, scale_factor=4).repeat(1, 3, 1, 1)   # [B, 3, 16, 16]
        if self.spread == "near":
            return nn.functional.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
        return x + z.mean((2, 3), keepdim=True)


def test_the_radial_share_spares_changes_next_to_the_block():
    """Both shares see the same fraction of the change outside; the radial one discounts it
    when it stays next to the block and leaves it alone when it spreads evenly."""
    z = torch.randn(4, 1, 4, 4, generator=torch.Generator().manual_seed(17), dtype=DT)

    def value(spread, mode):
        return distortion_penalty(SpreadGenerator(spread), z, mode=mode, resamples=3,
                                  generator=torch.Generator().manual_seed(18)).item()

    assert value("near", "radial_share") < 0.3 * value("near", "share")
    assert value("even", "radial_share") == pytest.approx(value("even", "share"), rel=1e-6)


def test_radial_weights_grow_with_distance_and_average_one_outside():
    grid = BlockGrid(4, 4, 16, 16)
    w = distortion_weights(grid, torch.tensor([5]), "radial")[0, 0]
    inside = grid.block_mask(5)
    assert (w[inside] == 0).all() and (w[~inside] > 0).all()
    torch.testing.assert_close(w[~inside].mean(), torch.tensor(1.0))
    assert w[4, 8] < w[4, 12] < w[4, 15]                     # along the row, moving away
    assert w[15, 15] == w.max()
    outside = distortion_weights(grid, torch.tensor([5]), "outside")[0, 0]
    assert torch.equal(outside, (~inside).float())


def test_distortion_needs_a_spatial_generator():
    with pytest.raises(ValueError, match="spatial generator"):
        distortion_penalty(nn.Linear(2, 2), torch.zeros(1, 2))
    with pytest.raises(ValueError, match="distortion mode"):
        distortion_weights(BlockGrid(2, 2, 8, 8), torch.tensor([0]), "gaussian")


@pytest.mark.parametrize("arch", ["ssn", "stylegan2"])
def test_regularisers_run_on_the_real_models(arch):
    from ssnlib.models import build_generator

    G = build_generator(arch, "tiny", channel_max=8, z_dim=8, w_dim=8, n_mlp=2)
    gen = torch.Generator().manual_seed(0)
    z = G.sample_z(2, gen)
    lengths = path_lengths(G, z, G.make_noise(2, gen), gen)
    assert lengths.shape == (2,) and torch.isfinite(lengths).all() and (lengths > 0).all()
    path_length_penalty(lengths, lengths.mean() * 0.5).backward()
    assert G.style[1].weight.grad is not None
    if arch == "ssn":
        value = distortion_penalty(G, z, mode="radial", generator=gen)
        assert math.isfinite(value.item()) and value.item() > 0


@pytest.mark.parametrize("divergence", ["block_mse", "block_sse"])
def test_estimator_times_the_factor_is_eq2s_double_sum(divergence):
    """Exactly, on a leaky (non-local) generator: the mean of our estimator over every block a
    times eq2_factor equals sum_a sum_{b != a} D_b, written out as a plain loop."""
    G = BlockGenerator(leak=0.7).to(DT)
    gen = torch.Generator().manual_seed(9)
    z, fresh, noise = G.sample_z(1, gen), G.sample_z(1, gen), G.make_noise(1, gen)
    grid, n = G.grid, G.grid.n_blocks
    base = G(z, noise=noise)
    double_sum = 0.0
    for a in range(n):
        z_a = z.clone()
        r, c = grid.position(a)
        z_a[:, :, r, c] = fresh[:, :, r, c]
        sq = (G(z_a, noise=noise) - base).square()
        for b in range(n):
            if b != a:
                top, left, bottom, right = grid.box(b)
                block = sq[:, :, top:bottom, left:right]
                double_sum += float(block.mean() if divergence == "block_mse" else block.sum())
    ours = distortion_penalty(G, z, noise, resamples=n, blocks=torch.arange(n),
                              z_fresh=fresh.repeat(n, 1, 1, 1))
    assert float(ours) * eq2_factor(grid, divergence=divergence) == pytest.approx(double_sum,
                                                                                 rel=1e-10)
