"""Perceptual path length (Karras et al. 2019), as stylegan2-ada computes it, in a feature
space we ship instead of LPIPS (whose VGG weights would be a download).

For each sample, two latents ``z0, z1`` and one set of noise maps are drawn, ``t`` is 0
(``sampling="end"``, stylegan2-ada's ``ppl2_wend``, the default) or uniform in [0, 1]
(``"full"``), and

    PPL sample = || f(g(x(t))) - f(g(x(t + eps))) ||^2 / eps^2,   eps = 1e-4,

with f the feature extractor (the domain net's embedding by default) and x the path:

* ``space="w"`` (default): linear interpolation of the mapped latents, ``lerp(w0, w1, t)``;
  for an SSN that is the whole w-grid [w_dim, n_h, n_w], every block moving at once;
* ``space="z"``: spherical interpolation of the latents, ``slerp(z0, z1, t)``, done per block
  for an SSN (each block is its own N(0, I) vector, normalised per block by PixelNorm).

``crop=True`` keeps stylegan2-ada's face crop (rows 3/8 .. 7/8, columns 2/8 .. 6/8) before the
features. The reported value is the mean over the samples between the 1st and 99th percentiles
(``np.percentile`` with ``lower``/``higher``, as stylegan2-ada). Everything runs in float32
(bf16 round-off would swamp a 1e-4 step). Values are comparable between models only in the same
feature space; they are not the paper's LPIPS numbers.
"""

from __future__ import annotations

import numpy as np
import torch

from ssnlib.metrics.features import FeatureExtractor
from ssnlib.metrics.sampling import batches, draw

SPACES, SAMPLINGS = ("w", "z"), ("end", "full")


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor, dim: int = 1) -> torch.Tensor:
    """Spherical interpolation between the directions of ``a`` and ``b`` along ``dim`` (norm of
    the result 1), ``t`` broadcast against the other dims, as in the StyleGAN PPL code."""
    a = a / a.norm(dim=dim, keepdim=True)
    b = b / b.norm(dim=dim, keepdim=True)
    d = (a * b).sum(dim, keepdim=True).clamp(-1, 1)
    p = t * torch.acos(d)
    c = b - d * a
    c = c / c.norm(dim=dim, keepdim=True)
    return a * torch.cos(p) + c * torch.sin(p)


def _t_shape(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    return t.reshape(-1, *([1] * (x.ndim - 1))).to(x)


@torch.no_grad()
def path_distances(G, extractor: FeatureExtractor, indices: range, seed: int = 0,
                   space: str = "w", sampling: str = "end", epsilon: float = 1e-4,
                   crop: bool = False) -> torch.Tensor:
    """The unfiltered per-sample PPL values [len(indices)] (float64)."""
    if space not in SPACES or sampling not in SAMPLINGS:
        raise ValueError(f"space must be in {SPACES} and sampling in {SAMPLINGS}, "
                         f"got {space!r}, {sampling!r}")
    (z0, z1), noise, u = draw(G, indices, seed, n_latents=2, n_uniform=1)
    t = u[:, 0] if sampling == "full" else torch.zeros(len(indices))
    if space == "w":
        w0, w1 = G.mapping(z0).float(), G.mapping(z1).float()
        ws = [torch.lerp(w0, w1, _t_shape(w0, t)), torch.lerp(w0, w1, _t_shape(w0, t + epsilon))]
    else:
        ws = [G.mapping(slerp(z0, z1, _t_shape(z0, tt))) for tt in (t, t + epsilon)]
    images = [G.synthesis(w, noise).float() for w in ws]
    if crop:
        c = images[0].shape[2] // 8
        images = [x[:, :, 3 * c:7 * c, 2 * c:6 * c] for x in images]
    f0, f1 = (extractor(x, precise=True).double() for x in images)
    return (f0 - f1).square().sum(1) / epsilon ** 2


def ppl(G, extractor: FeatureExtractor, count: int, seed: int = 0, space: str = "w",
        sampling: str = "end", epsilon: float = 1e-4, crop: bool = False, batch: int = 16,
        percentiles: tuple[float, float] | None = (1, 99)) -> dict:
    """PPL over ``count`` samples; ``percentiles=None`` averages all of them."""
    dist = torch.cat([path_distances(G, extractor, idx, seed, space, sampling, epsilon, crop)
                      for idx in batches(count, batch, "ppl")]).numpy()
    keep = dist
    if percentiles is not None:
        lo = np.percentile(dist, percentiles[0], method="lower")
        hi = np.percentile(dist, percentiles[1], method="higher")
        keep = dist[(dist >= lo) & (dist <= hi)]
    return {"ppl": float(keep.mean()), "space": space, "sampling": sampling,
            "epsilon": epsilon, "crop": crop, "features": extractor.name, "count": count,
            "kept": int(keep.size)}
