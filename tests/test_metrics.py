"""FID, KID, distortion/locality and PPL on synthetic features and generators with known
answers."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.linalg
import torch
import torch.nn.functional as F
from torch import nn

from ssnlib.blocks import BlockGrid
from ssnlib.cli import main as cli_main
from ssnlib.losses import distortion_penalty
from ssnlib.metrics.distortion import block_changes, distortion_and_locality
from ssnlib.metrics.features import FunctionFeatures
from ssnlib.metrics.fid import GaussianStats, fid, frechet_distance, trace_sqrt_product
from ssnlib.metrics.floor import noise_floor
from ssnlib.metrics.kid import kid
from ssnlib.metrics.ppl import path_distances, ppl, slerp
from ssnlib.metrics.precision_recall import density_coverage, precision_recall
from ssnlib.metrics.reference import reference_stats
from ssnlib.metrics.sampling import draw
from ssnlib.zoo import load_eval_generator


class FakeSpatial(nn.Module):
    """z [B, C, n_h, n_w] -> image [B, 3, R, R]; ``mode``:

    * ``local``: each block paints only its own pixels (a fixed linear map of its z block,
      nearest up-sampled), so resampling block a changes nothing outside a;
    * ``global``: every pixel of every channel equals the sum over blocks of z[:, 0]; resampling
      block a shifts the whole image by z_new[0, a] - z[0, a];
    * ``linear``: image = A w with w = z (identity mapping), for PPL's closed form.
    """

    spatial = True

    def __init__(self, mode: str, z_dim: int = 4, grid: tuple[int, int] = (2, 2),
                 resolution: int = 8):
        super().__init__()
        self.mode, self.z_dim = mode, z_dim
        self.grid = BlockGrid(*grid, resolution, resolution)
        self.resolution = resolution
        gen = torch.Generator().manual_seed(1)
        self.register_buffer("A", torch.randn(3 * resolution ** 2, z_dim * grid[0] * grid[1],
                                              generator=gen) * 0.1)
        self.register_buffer("P", torch.randn(3, z_dim, generator=gen))

    @property
    def z_shape(self):
        return (self.z_dim, self.grid.n_h, self.grid.n_w)

    def sample_z(self, batch, generator=None, device=None):
        return torch.randn((batch, *self.z_shape), generator=generator).to(device)

    def make_noise(self, batch=1, generator=None, device=None):
        return [torch.randn((batch, 1, 4, 4), generator=generator).to(device)]

    def mapping(self, z):
        return z

    def synthesis(self, w, noise=None, generator=None):
        b, r = w.shape[0], self.resolution
        if self.mode == "local":
            rgb = torch.einsum("oc,bchw->bohw", self.P, w)
            return F.interpolate(rgb, size=(r, r), mode="nearest")
        if self.mode == "global":
            return w[:, 0].sum((1, 2)).reshape(b, 1, 1, 1).expand(b, 3, r, r)
        return (w.flatten(1) @ self.A.T).reshape(b, 3, r, r)

    def forward(self, z, noise=None, **kwargs):
        return self.synthesis(self.mapping(z), noise)


def gaussian(n, d, seed, shift=0.0, scale=1.0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=gen, dtype=torch.float64) * scale + shift


def test_fid_of_a_set_against_itself_is_zero():
    x = gaussian(500, 16, 0)
    assert fid(GaussianStats.of(x), GaussianStats.of(x)) == pytest.approx(0, abs=1e-8)


def test_fid_of_a_shifted_set_is_the_squared_shift():
    x = gaussian(400, 8, 1)
    delta = torch.linspace(-1, 1, 8, dtype=torch.float64)
    # same covariance: the trace term vanishes, FID = ||delta||^2 exactly
    assert fid(GaussianStats.of(x), GaussianStats.of(x + delta)) == pytest.approx(
        delta.square().sum().item(), rel=1e-6)


def test_frechet_distance_matches_closed_form_for_diagonal_gaussians():
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    s1, s2 = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    expected = np.square(mu1 - mu2).sum() + np.sum(s1 + s2 - 2 * np.sqrt(s1 * s2))
    assert frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2)) == pytest.approx(expected)


def test_trace_term_matches_scipy_sqrtm():
    a = np.cov(gaussian(50, 6, 8).numpy(), rowvar=False)
    b = np.cov(gaussian(50, 6, 9, scale=2.0).numpy(), rowvar=False)
    expected = np.trace(np.real(scipy.linalg.sqrtm(a @ b)))
    assert trace_sqrt_product(a, b) == pytest.approx(expected, rel=1e-8)


def test_fid_of_independent_gaussian_samples_is_small_and_grows_with_the_shift():
    a, b = GaussianStats.of(gaussian(2000, 4, 2)), GaussianStats.of(gaussian(2000, 4, 3))
    c = GaussianStats.of(gaussian(2000, 4, 3, shift=1.0))
    assert fid(a, b) < 0.05
    assert fid(a, c) == pytest.approx(4.0, rel=0.05)


def test_kid_is_unbiased_over_same_distribution_splits():
    # KID's U-statistic has mean 0 when both sets come from one law; the standard deviation of
    # one estimate here is about 1e-3, so the mean of 20 is within 1.5e-3 with margin.
    values = [kid(gaussian(200, 8, 2 * s), gaussian(200, 8, 2 * s + 1), num_subsets=10,
                  generator=torch.Generator().manual_seed(s)) for s in range(20)]
    assert abs(np.mean(values)) < 1.5e-3
    assert np.std(values) > 0


def test_kid_detects_a_shift_and_is_deterministic_under_a_seed():
    x, y = gaussian(300, 8, 4), gaussian(300, 8, 5, shift=0.5)
    a = kid(x, y, num_subsets=5, generator=torch.Generator().manual_seed(7))
    b = kid(x, y, num_subsets=5, generator=torch.Generator().manual_seed(7))
    assert a == b and a > 0.01


def test_distortion_is_zero_for_a_perfectly_local_generator():
    G = FakeSpatial("local")
    out = distortion_and_locality(G, count=6, seed=0, batch=4)
    assert out["distortion"] == 0 and out["inside"] > 0 and out["leak_ratio"] == 0
    assert out["energy_inside"] == 1 and out["distortion_radial"] == 0


def test_distortion_of_a_global_generator_matches_the_hand_computation():
    G = FakeSpatial("global")
    gen = torch.Generator().manual_seed(0)
    z, z_new = G.sample_z(3, gen), G.sample_z(3, gen)
    inside, outside, radial = block_changes(G, z, G.make_noise(3, gen), z_new)
    # resampling block a moves every pixel by (z_new - z)[:, 0, a]
    expected = (z_new - z)[:, 0].flatten(1).square()
    torch.testing.assert_close(outside, expected)
    torch.testing.assert_close(inside, expected)
    torch.testing.assert_close(radial, expected)      # radial weights average 1 outside
    out = distortion_and_locality(G, count=6, seed=0, batch=3)
    # every pixel moves alike: the block holds its share of the pixels, 1 / n_blocks
    assert out["energy_inside"] == pytest.approx(1 / G.grid.n_blocks)


def test_distortion_equals_the_regulariser_for_the_same_draws():
    G = FakeSpatial("linear")
    gen = torch.Generator().manual_seed(3)
    z, z_new, noise = G.sample_z(2, gen), G.sample_z(2, gen), G.make_noise(2, gen)
    _, outside, radial = block_changes(G, z, noise, z_new)
    n = G.grid.n_blocks
    blocks = torch.arange(n).repeat_interleave(2)
    inside = block_changes(G, z, noise, z_new)[0]
    whole = outside * (n - 1) + inside                  # the whole change over a block's size
    share_out = outside * (n - 1) / whole                            # 1 - energy inside
    radial_share = radial * (n - 1) / whole
    for mode, metric in (("outside", outside), ("radial", radial), ("share", share_out),
                         ("radial_share", radial_share)):
        penalty = distortion_penalty(G, z, noise, mode, resamples=n, blocks=blocks,
                                     z_fresh=z_new.repeat(n, 1, 1, 1))
        assert penalty.item() == pytest.approx(metric.mean().item(), rel=1e-5), mode


def test_distortion_is_deterministic_under_a_seed_and_depends_on_it():
    G = FakeSpatial("linear")
    a = distortion_and_locality(G, count=5, seed=1, batch=2)
    assert distortion_and_locality(G, count=5, seed=1, batch=2) == a
    b = distortion_and_locality(G, count=5, seed=1, batch=5)      # batch size: round-off only
    assert b["distortion"] == pytest.approx(a["distortion"], rel=1e-5)
    c = distortion_and_locality(G, count=5, seed=2, batch=2)
    assert c["distortion"] != pytest.approx(a["distortion"], rel=1e-3)


def flat_features(resolution):
    return FunctionFeatures(lambda x: x.flatten(1), dim=3 * resolution ** 2,
                            input_size=resolution, name="flat")


def test_ppl_of_a_linear_generator_matches_its_closed_form():
    G = FakeSpatial("linear")
    f = flat_features(G.resolution)
    # t = 0 ("end"): every sample's value is ||A (w1 - w0)||^2 exactly
    dist = path_distances(G, f, range(6), seed=0)
    (z0, z1), _, _ = draw(G, range(6), seed=0, n_latents=2)
    expected = ((z1 - z0).flatten(1) @ G.A.T).square().sum(1).double()
    torch.testing.assert_close(dist, expected, rtol=2e-2, atol=0)
    # unfiltered mean -> E ||A (w1 - w0)||^2 = 2 tr(A^T A)
    out = ppl(G, f, count=400, seed=0, batch=200, percentiles=None)
    assert out["ppl"] == pytest.approx(2 * G.A.square().sum().item(), rel=0.08)
    assert ppl(G, f, count=400, seed=0, batch=100)["kept"] < 400      # 1st-99th percentile


def test_ppl_z_space_and_full_sampling_are_deterministic():
    G = FakeSpatial("linear")
    f = flat_features(G.resolution)
    a = ppl(G, f, count=20, seed=3, space="z", sampling="full", batch=10)
    assert a == ppl(G, f, count=20, seed=3, space="z", sampling="full", batch=10)
    assert a["ppl"] > 0


def test_slerp_stays_on_the_sphere_and_hits_its_ends():
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(5, 7, generator=gen), torch.randn(5, 7, generator=gen)
    for t in (0.0, 0.3, 1.0):
        x = slerp(a, b, torch.full((5, 1), t))
        torch.testing.assert_close(x.norm(dim=1), torch.ones(5))
    torch.testing.assert_close(slerp(a, b, torch.ones(5, 1)), b / b.norm(dim=1, keepdim=True))


def test_reference_stats_are_cached_atomically_and_reloaded(tmp_path):
    f = FunctionFeatures(lambda x: x.mean((2, 3)), dim=3, input_size=16, name="rgbmean")
    first = reference_stats("faces", f, count=6, resolution=32, cache_dir=tmp_path, workers=1)
    files = list(tmp_path.iterdir())
    assert [p.name for p in files] == [f"{first.key}.safetensors"]
    assert first.key == "faces-32px-n6-seed0-start0-rgbmean"
    again = reference_stats("faces", f, count=6, resolution=32, cache_dir=tmp_path)
    np.testing.assert_allclose(again.stats.mu, first.stats.mu)
    torch.testing.assert_close(again.features, first.features, atol=1e-3, rtol=1e-3)


def test_noise_floor_scores_the_two_cached_halves_against_each_other(tmp_path):
    f = FunctionFeatures(lambda x: x.mean((2, 3)), dim=3, input_size=16, name="rgbmean")
    out = noise_floor("faces", f, count=24, resolution=32, cache_dir=tmp_path, workers=1)
    a, b = (reference_stats("faces", f, 12, 32, 0, start, tmp_path) for start in (0, 12))
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{a.key}.safetensors",
                                                          f"{b.key}.safetensors"]
    assert out["per_half"] == 12 and out["fid"] == fid(a.stats, b.stats) > 0
    for expected in (precision_recall(a.features, b.features),
                     density_coverage(a.features, b.features)):
        assert {k: out[k] for k in expected} == expected
    assert 0 < out["coverage"] <= 1 and 0 < out["recall"] <= 1


def test_eval_command_writes_distortion_and_locality_json(tmp_path):
    out = tmp_path / "result.json"
    assert cli_main(["eval", "--arch", "ssn", "--config", "tiny", "--metrics",
                     "distortion,locality", "--num", "2", "--batch", "2", "--device", "cpu",
                     "--out", str(out)]) == 0
    result = json.loads(out.read_text())["metrics"]
    assert result["distortion"]["grid"] == [4, 4] and len(result["distortion"]["per_block"]) == 16
    assert result["locality"]["outside"] == result["distortion"]["distortion"] > 0
    assert 0 < result["locality"]["leak_ratio"]


def test_eval_command_loads_a_training_checkpoint(tmp_path):
    from ssnlib.train import load_config, train

    cfg = load_config(None, [
        "model.overrides.channel_max=8", "model.overrides.z_dim=8", "model.overrides.w_dim=8",
        "model.overrides.n_mlp=2", "model.d_overrides.channel_max=8", "data.length=8",
        "batch=2", "progress=false", "tensorboard=false", "n_samples=2", "steps=1",
        "ckpt_every=1", f"run_dir={tmp_path / 'run'}"])
    train(cfg)
    out = tmp_path / "result.json"
    assert cli_main(["eval", "--ckpt", str(tmp_path / "run"), "--metrics", "distortion",
                     "--num", "2", "--device", "cpu", "--out", str(out)]) == 0
    G = load_eval_generator(tmp_path / "run")
    expected = distortion_and_locality(G, count=2, seed=0, batch=8)["distortion"]
    got = json.loads(out.read_text())["metrics"]["distortion"]["distortion"]
    assert got == pytest.approx(expected, rel=1e-5)


def test_truncated_samples_follow_the_truncation_equation():
    """``generated_batches(truncation=psi)``: psi 1 is the untruncated draw; psi 0 puts every
    sample's w at the centre, so the latent no longer matters (only the noise maps do); psi
    in between is G's own truncation around ``mean_w`` of seed 0."""
    from ssnlib.metrics.sampling import generated_batches

    torch.manual_seed(0)
    G = load_eval_generator(arch="stylegan2", config="tiny")
    (z,), noise, _ = draw(G, range(4), seed=3)
    plain = torch.cat(list(generated_batches(G, 4, seed=3, batch=2)))
    torch.testing.assert_close(plain, G(z, noise=noise))
    centre = G.mean_w(generator=torch.Generator().manual_seed(0))
    half = torch.cat(list(generated_batches(G, 4, seed=3, batch=2, truncation=0.5)))
    torch.testing.assert_close(half, G(z, noise=noise, truncation=0.5, truncation_w=centre))
    still = torch.cat(list(generated_batches(G, 4, seed=3, batch=4, truncation=0.0)))
    torch.testing.assert_close(still, G(torch.randn_like(z), noise=noise, truncation=0.0,
                                        truncation_w=centre))
    assert (half - plain).abs().mean() > 1e-3


def test_eval_command_scores_truncated_samples_but_never_records_them(tmp_path, capsys):
    args = ["eval", "--arch", "ssn", "--config", "tiny", "--metrics", "seams", "--num", "4",
            "--batch", "4", "--device", "cpu"]
    assert cli_main([*args, "--truncation", "0.5", "--out", str(tmp_path / "psi.json")]) == 0
    report = json.loads((tmp_path / "psi.json").read_text())
    assert report["args"]["truncation"] == 0.5 and report["metrics"]["seams"]["seam_contrast"] > 0
    assert cli_main([*args, "--truncation", "0.5", "--pretrained", "faces32-ssn-ld100",
                     "--record"]) == 2
    assert "--record keeps the zoo's untruncated scores" in capsys.readouterr().err


def test_eval_command_names_a_missing_checkpoint(tmp_path, capsys):
    assert cli_main(["eval", "--ckpt", str(tmp_path), "--metrics", "distortion"]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path}: no checkpoint (ckpt-*.pt or state.pt) in this folder" in err
