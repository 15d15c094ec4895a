"""Inversion: find the spatial z (and noise) whose image reproduces a given picture.

Block resampling (Definition 1) starts from a latent; for a real photograph we first have to
find one. :func:`invert` follows the StyleGAN2 projector (Karras et al. 2020, appendix D;
rosinality's ``projector.py``), adapted to an SSN's spatial z instead of w:

* Adam on z and on every noise map, learning rate ramped up over the first 5 % of the steps and
  down (cosine) over the last 25 %;
* loss = ``pixel_weight`` x pixel MSE + ``feature_weight`` x feature MSE through a pluggable
  ``feature_fn`` + ``noise_weight`` x the projector's noise regulariser (squared
  autocorrelation of each noise map at shifts of one pixel, at every scale down to 8x8, so the
  noise cannot smuggle the image in) + ``prior_weight`` x a prior on z;
* after every step each noise map is renormalised to zero mean and unit variance;
* the prior keeps z a plausible N(0, I) draw, so that freshly drawn blocks (resampling) meet
  neighbours with the statistics they were trained with: each block's squared norm over its
  ``z_dim`` channels should be about ``z_dim`` (the typical shell of N(0, I); its direction is
  uniform under N(0, I), so the norm is what a prior can pull on). Our mapping networks start
  with PixelNorm, which makes the image blind to the norm: the prior only stops it drifting.

``feature_fn`` is any differentiable callable from images [B, 3, H, W] in [-1, 1] to features
[B, ...] (or a list of such tensors), e.g. a perceptual network; the target's features are
computed once. A metrics feature extractor (``ssnlib.metrics.DomainFeatures``, the small domain
network for the procedural datasets, or any ``FeatureExtractor``) plugs in through
:func:`extractor_features`: ``invert(G, image, feature_fn=extractor_features(DomainFeatures()))``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from tqdm.auto import trange

FeatureFn = Callable[[torch.Tensor], torch.Tensor | Sequence[torch.Tensor]]


def psnr(image: torch.Tensor, target: torch.Tensor, value_range: float = 2.0) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB per image of a batch [B, C, H, W] (images in [-1, 1]
    by default, so the peak is ``value_range = 2``)."""
    mse = (image.detach().float() - target.detach().float()).pow(2).flatten(1).mean(1)
    return 10 * torch.log10(value_range ** 2 / mse.clamp(min=1e-12))


def noise_regularization(noises: Sequence[torch.Tensor]) -> torch.Tensor:
    """StyleGAN2 projector's penalty, per sample [B]: squared mean autocorrelation of each
    noise map with itself shifted by one pixel (both axes), at every scale down to 8x8."""
    total = 0
    for noise in noises:
        if noise.shape[1] != 1:         # a global latent u [B, global_dim, 1, 1]: no pixels
            continue
        size = noise.shape[-1]
        while True:
            for dim in (2, 3):
                total = total + (noise * torch.roll(noise, 1, dims=dim)).flatten(1).mean(1) ** 2
            if size <= 8:
                break
            noise = noise.reshape(-1, 1, size // 2, 2, size // 2, 2).mean((3, 5))
            size //= 2
    return total


def latent_prior(z: torch.Tensor) -> torch.Tensor:
    """Per sample [B]: mean over blocks of ``(|z_a|^2 / z_dim - 1)^2``, zero on the typical
    shell of N(0, I) (channels are axis 1; a StyleGAN2 z is a single block)."""
    return (z.pow(2).mean(1) - 1).pow(2).reshape(z.shape[0], -1).mean(1)


def extractor_features(extractor) -> FeatureFn:
    """A ``ssnlib.metrics`` ``FeatureExtractor`` as a differentiable ``feature_fn``: its
    ``forward`` on images resized to its ``input_size`` (calling the extractor itself runs under
    ``torch.no_grad``, which would stop the gradient)."""
    from ssnlib.metrics.features import resize

    def features(images: torch.Tensor) -> torch.Tensor:
        return extractor.forward(resize(images.to(extractor.device), extractor.input_size))
    return features


def _features(feature_fn: FeatureFn, images: torch.Tensor) -> list[torch.Tensor]:
    out = feature_fn(images)
    return [out] if isinstance(out, torch.Tensor) else list(out)


@dataclass
class Inversion:
    """The result of :func:`invert`: ``z`` [B, *z_shape], ``noise`` (list for ``G(z,
    noise=...)``), the reconstruction ``image``, its ``psnr`` [B] against the target, and the
    loss ``history`` (one value per step, batch means: ``loss``, ``pixel``, ``feature``,
    ``noise``, ``prior``, ``psnr``)."""

    z: torch.Tensor
    noise: list[torch.Tensor]
    image: torch.Tensor
    psnr: torch.Tensor
    history: dict[str, list[float]] = field(default_factory=dict)


def _target_batch(G, image: torch.Tensor, device) -> torch.Tensor:
    target = (image[None] if image.ndim == 3 else image).to(device=device, dtype=torch.float32)
    size = (G.resolution, G.resolution)
    if target.ndim != 4 or target.shape[1] != 3 or tuple(target.shape[2:]) != size:
        raise ValueError(f"image must be [3, {size[0]}, {size[1]}] or [B, 3, {size[0]}, "
                         f"{size[1]}] (resize it to G's resolution), got {tuple(image.shape)}")
    return target


@torch.no_grad()
def _best_start(G, target: torch.Tensor, candidates: int, gen: torch.Generator):
    """One noise draw per image and, of ``candidates`` z draws, the one closest in pixels."""
    b, device = target.shape[0], target.device
    noise = G.make_noise(b, gen, device=device)
    pool = G.sample_z(b * candidates, gen, device=device)            # [B * candidates, ...]
    shared = [n.repeat_interleave(candidates, 0) for n in noise]
    err = (G(pool, noise=shared) - target.repeat_interleave(candidates, 0)).pow(2)
    best = err.flatten(1).mean(1).reshape(b, candidates).argmin(1)     # [B]
    return pool.reshape(b, candidates, *pool.shape[1:])[torch.arange(b), best].clone(), noise


def _learning_rate(lr: float, step: int, steps: int) -> float:
    """StyleGAN2 projector's schedule: a 5 % linear warm-up, a cosine ramp-down over the last
    quarter."""
    t = step / steps
    ramp = 0.5 - 0.5 * math.cos(math.pi * min(1.0, (1 - t) / 0.25))
    return lr * ramp * min(1.0, (step + 1) / (0.05 * steps))


def _terms(out, target, z, noise, optimize_noise, feature_fn, target_features):
    """Per-image loss terms [B] of one step (see the module docstring)."""
    b = out.shape[0]
    terms = {"pixel": (out - target).pow(2).flatten(1).mean(1),
             "noise": noise_regularization(noise) if optimize_noise else out.new_zeros(b),
             "prior": latent_prior(z), "feature": out.new_zeros(b)}
    if feature_fn is not None:
        terms["feature"] = sum((f - t_f).pow(2).flatten(1).mean(1) for f, t_f in
                               zip(_features(feature_fn, out), target_features, strict=True))
    return terms


def invert(G, image: torch.Tensor, steps: int = 300, lr: float = 0.2, *,
           pixel_weight: float = 1.0, feature_fn: FeatureFn | None = None,
           feature_weight: float = 1.0, noise_weight: float = 1e5, prior_weight: float = 1.0,
           optimize_noise: bool = True, candidates: int = 16, seed: int = 0,
           progress: bool = True) -> Inversion:
    """Find z and noise with ``G(z, noise=noise) ~ image`` (one image [3, R, R] or a batch
    [B, 3, R, R] in [-1, 1] at G's resolution; each image is inverted independently).

    The start is the best, by pixel loss, of ``candidates`` draws of z per image (and one noise
    draw), all from a generator seeded with ``seed``, so a run is reproducible. With
    ``optimize_noise=False`` the noise stays at its draw. ``G``'s weights are not touched (the
    gradients are taken with respect to z and the noise only). See the module docstring for
    the loss terms.
    """
    if steps < 1 or candidates < 1:
        raise ValueError(f"steps and candidates must be >= 1, got {steps}, {candidates}")
    target = _target_batch(G, image, next(G.parameters()).device)
    b = target.shape[0]
    z, noise = _best_start(G, target, candidates, torch.Generator().manual_seed(seed))
    with torch.no_grad():
        target_features = _features(feature_fn, target) if feature_fn is not None else []
    params = [z.requires_grad_(True)]
    if optimize_noise:
        params += [n.requires_grad_(True) for n in noise]
    opt = torch.optim.Adam(params, lr=lr, betas=(0.9, 0.999))
    weights = {"pixel": pixel_weight, "feature": feature_weight, "noise": noise_weight,
               "prior": prior_weight}
    history = {k: [] for k in ("loss", "pixel", "feature", "noise", "prior", "psnr")}
    with trange(steps, desc="invert", disable=not progress) as bar:
        for step in bar:
            for group in opt.param_groups:
                group["lr"] = _learning_rate(lr, step, steps)
            out = G(z, noise=noise)
            terms = _terms(out, target, z, noise, optimize_noise, feature_fn, target_features)
            # sum over the batch: each image's gradient is its own, whatever the batch size
            loss = sum(weights[k] * v for k, v in terms.items()).sum()
            for p, g in zip(params, torch.autograd.grad(loss, params), strict=True):
                p.grad = g
            opt.step()
            with torch.no_grad():
                for n in noise if optimize_noise else ():      # keep each map N(0, 1)
                    n -= n.mean((1, 2, 3), keepdim=True)
                    n /= n.std((1, 2, 3), keepdim=True)
            history["loss"].append(float(loss.detach()) / b)
            for k, v in terms.items():
                history[k].append(float(v.detach().mean()))
            history["psnr"].append(float(psnr(out, target).mean()))
            if step % 10 == 0 or step == steps - 1:
                bar.set_postfix(psnr=f"{history['psnr'][-1]:.1f} dB")
    z, noise = z.detach(), [n.detach() for n in noise]
    with torch.no_grad():
        final = G(z, noise=noise)
    return Inversion(z, noise, final, psnr(final, target), history)
