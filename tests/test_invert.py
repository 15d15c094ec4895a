"""Inversion of held-out images of a fixed-seed, untrained ``tiny`` SSN (no trained model ships
yet): the targets come from latents and noise the optimiser never sees."""

import pytest
import torch

from ssnlib.invert import extractor_features, invert, latent_prior, noise_regularization, psnr
from ssnlib.models import build_generator

STEPS, MIN_PSNR = 60, 18.0       # measured 23.2 and 18.7 dB (seed 0, torch 2.13 CPU)


@pytest.fixture(scope="module")
def G():
    torch.manual_seed(0)
    return build_generator("ssn", "tiny").eval()


@pytest.fixture(scope="module")
def targets(G):
    gen = torch.Generator().manual_seed(1234)
    with torch.no_grad():
        return G(G.sample_z(2, gen), noise=G.make_noise(2, gen))


@pytest.fixture(scope="module")
def result(G, targets):
    return invert(G, targets, steps=STEPS, seed=0, progress=False)


def test_inversion_reaches_the_stated_psnr(G, targets, result):
    assert result.z.shape == (2, 64, 4, 4) and len(result.noise) == G.num_noise
    assert (result.psnr >= MIN_PSNR).all(), result.psnr
    assert result.history["psnr"][-1] > result.history["psnr"][0] + 6
    assert all(len(v) == STEPS for v in result.history.values())
    with torch.no_grad():
        assert torch.allclose(psnr(G(result.z, noise=result.noise), targets), result.psnr)


def test_noise_renormalised_prior_kept_and_weights_untouched(G, result):
    for n in result.noise:
        assert torch.allclose(n.mean((1, 2, 3)), torch.zeros(2), atol=1e-5)
        assert torch.allclose(n.std((1, 2, 3)), torch.ones(2), atol=1e-4)
    assert latent_prior(result.z).max() < 0.05
    assert all(p.grad is None for p in G.parameters())


def test_reproducible_and_single_image(G, targets):
    a = invert(G, targets[0], steps=2, seed=3, progress=False)
    b = invert(G, targets[0], steps=2, seed=3, progress=False)
    assert a.z.shape == (1, 64, 4, 4) and torch.equal(a.z, b.z)


def test_feature_loss_is_pluggable(G, targets):
    calls = []

    def pooled(images):                       # a stand-in feature network: two scales
        calls.append(images.shape)
        return [torch.nn.functional.avg_pool2d(images, 4), images.mean((2, 3))]

    r = invert(G, targets[:1], steps=3, seed=0, pixel_weight=0.0, feature_weight=10.0,
               feature_fn=pooled, optimize_noise=False, progress=False)
    assert len(calls) == 1 + 3                # the target once, then every step
    assert r.history["feature"][0] > 0 and r.history["noise"] == [0.0] * 3


def test_metrics_extractor_plugs_in(G, targets):
    from ssnlib.metrics import FunctionFeatures

    conv = torch.nn.Conv2d(3, 8, 3, stride=2)
    extractor = FunctionFeatures(lambda x: conv(x).relu().mean((2, 3)), dim=8, input_size=16)
    fn = extractor_features(extractor)
    x = targets[:1].clone().requires_grad_(True)
    fn(x).sum().backward()                    # differentiable, unlike extractor(x)
    assert x.grad.abs().sum() > 0 and fn(x).shape == (1, 8)
    r = invert(G, targets[:1], steps=2, feature_fn=fn, progress=False)
    assert r.history["feature"][0] > 0


def test_regularisers():
    white = [torch.randn(2, 1, 32, 32, generator=torch.Generator().manual_seed(0))]
    smooth = [torch.nn.functional.interpolate(w[:, :, :8, :8], size=32, mode="bilinear")
              for w in white]
    assert (noise_regularization(smooth) > 100 * noise_regularization(white)).all()
    assert latent_prior(torch.randn(3, 512, 2, 2)).max() < 0.02
    assert latent_prior(torch.full((1, 8), 2.0)).item() == pytest.approx(9.0)


def test_bad_image_size(G):
    with pytest.raises(ValueError, match="resize it"):
        invert(G, torch.zeros(3, 64, 64), steps=1, progress=False)
    with pytest.raises(ValueError, match="steps"):
        invert(G, torch.zeros(3, 32, 32), steps=0, progress=False)
