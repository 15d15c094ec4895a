"""The noise floor of the distribution metrics: a dataset's two halves scored against each other.

No generator can beat, on average, the FID of ``count / 2`` real images against ``count / 2``
other real images of the same dataset: that value is the floor below which differences between
models at this sample count are noise. Precision, recall, density and coverage have a ceiling
instead: what a perfect generator scores at these counts (the k-NN balls of a finite sample
miss part of the other sample, so it is below 1). Both halves go through the reference cache
(:func:`~ssnlib.metrics.reference.reference_stats`, first indices ``0`` and ``count / 2``).
In the domain network's features of a procedural dataset, the floor also holds the attribute
shares' distance (:mod:`ssnlib.metrics.attributes`): ``attribute_tv`` and ``spread_ratio``.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ssnlib.data import DATASETS
from ssnlib.metrics.attributes import attribute_shares
from ssnlib.metrics.features import FeatureExtractor
from ssnlib.metrics.fid import fid
from ssnlib.metrics.kid import kid
from ssnlib.metrics.precision_recall import manifold_scores
from ssnlib.metrics.reference import DEFAULT_CACHE, reference_stats


def noise_floor(source: str, extractor: FeatureExtractor, count: int, resolution: int = 64,
                seed: int = 0, cache_dir: str | Path | None = DEFAULT_CACHE,
                workers: int = 2) -> dict:
    """FID, KID, precision, recall, density and coverage (k = 3) between images
    ``0 .. count/2 - 1`` (as real) and ``count/2 .. count - 1`` (as generated)."""
    half = count // 2
    a, b = (reference_stats(source, extractor, half, resolution, seed, start, cache_dir, workers)
            for start in (0, half))
    out = {"source": source, "resolution": resolution, "per_half": half,
           "features": extractor.name, "fid": fid(a.stats, b.stats),
           "kid": kid(a.features, b.features, generator=torch.Generator().manual_seed(seed)),
           **manifold_scores(a.features, b.features)}
    if hasattr(extractor, "net") and source in DATASETS:      # the domain network's heads
        shares = attribute_shares(extractor.net, a.features, b.features, source)
        out.update(attribute_tv=shares["mean_tv"], spread_ratio=shares["min_spread_ratio"])
    return out
