"""Improved precision and recall (Kynkäänniemi, Karras, Laine, Lehtinen and Aila, NeurIPS 2019,
"Improved Precision and Recall Metric for Assessing Generative Models"), with k = 3.

FID folds two failures into one number: samples that look like nothing in the data, and data
that the generator never produces. This metric keeps them apart. Each set of feature vectors
estimates its own manifold as a union of balls, one per point, whose radius reaches the
point's k-th nearest neighbour in the same set:

    r_k(s) = || s - NN_k(s, S \\ {s}) ||                     (the k-NN radius of s in S)
    inside(x, S) = 1  if  || x - s || <= r_k(s)  for some s in S,  else 0

and, with real features Phi_r and generated features Phi_g,

    precision = (1 / |Phi_g|) sum_{x in Phi_g} inside(x, Phi_r)
    recall    = (1 / |Phi_r|) sum_{y in Phi_r} inside(y, Phi_g)

Precision is the share of samples that land on the data's manifold ("looks like the data"),
recall the share of the data that the samples' manifold covers (a collapsed generator has
high precision and low recall). Swapping the two sets swaps the two numbers.

Density and coverage (Naeem, Oh, Uh, Choi and Yoo, ICML 2020, "Reliable Fidelity and Diversity
Metrics for Generative Models") read the same balls, but only the real ones, which a few
outlying or clustered samples cannot inflate or shrink:

    density  = (1 / (k |Phi_g|)) sum_{x in Phi_g} #{y in Phi_r : || x - y || <= r_k(y)}
    coverage = (1 / |Phi_r|) sum_{y in Phi_r} 1[ min_{x in Phi_g} || x - y || <= r_k(y) ]

Coverage is the share of real points with a sample inside their ball. Unlike recall it does not
depend on the samples' own k-NN radii, so a generator whose samples sit in tight clumps (small
radii: recall near 0) still scores the share of the data it comes near. For two samples of one
distribution, density is about 1 and coverage about 1 - 2^-k when |Phi_g| = |Phi_r|
(:func:`expected_coverage` gives the exact value). Naeem et al. use k = 5; here k is the
caller's, 3 by default, so that one k describes all four numbers.

Distances are Euclidean in the feature space of whatever :class:`FeatureExtractor` produced
the vectors. As in NVlabs' ``ManifoldEstimator`` and ``DistanceBlock``
(``improved-precision-and-recall-metric``, stylegan2-ada's ``metrics/precision_recall.py``),
distances are computed a block of rows at a time, so memory grows with the block, never with
N x M. Deviations, with reasons: distances here are float64 on the CPU (NVlabs: float16 on the
GPU), since 10k x 10k takes seconds and ties then only occur for truly equal distances; and
the feature network is the caller's (NVlabs: VGG16), so the values compare only within one
feature space.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import torch

from ssnlib.errors import InputError

BLOCK_ENTRIES = 2 ** 24            # distances per block: 128 MB in float64


def _as_features(x: torch.Tensor | np.ndarray, which: str) -> torch.Tensor:
    """``x`` as a float64 CPU tensor [N, D], or a one-line error naming ``which`` set."""
    x = torch.as_tensor(x).detach()
    if x.ndim != 2:
        raise InputError(f"{which} features must be [N, D], got shape {tuple(x.shape)}")
    x = x.to("cpu", torch.float64)
    if not torch.isfinite(x).all():
        raise InputError(f"{which} features contain NaN or inf")
    return x


def _check_k(k: int, block: int | None) -> None:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise InputError(f"k must be a positive integer, got {k!r}")
    if block is not None and (isinstance(block, bool)
                              or not isinstance(block, int | np.integer) or block < 1):
        raise InputError(f"block must be a positive integer or None, got {block!r}")


def _rows_per_block(block: int | None, columns: int) -> int:
    return block if block is not None else max(1, BLOCK_ENTRIES // max(columns, 1))


def distance_blocks(a: torch.Tensor, b: torch.Tensor,
                    block: int | None = None) -> Iterator[tuple[int, torch.Tensor]]:
    """``(start, D)`` for consecutive row blocks of ``a`` [N, F] against all of ``b`` [M, F]:
    ``D[i, j] = ||a[start + i] - b[j]||`` (float64 [<=block, M]), from
    ``||a||^2 + ||b||^2 - 2 a.b`` (clamped at 0 against round-off)."""
    b_sq = b.square().sum(1)                                      # [M]
    rows = _rows_per_block(block, b.shape[0])
    for start in range(0, a.shape[0], rows):
        x = a[start:start + rows]                                 # [n, F]
        sq = (x @ b.T).mul_(-2).add_(x.square().sum(1, keepdim=True)).add_(b_sq)   # [n, M]
        yield start, sq.clamp_min_(0).sqrt_()                     # in place, no other [n, M]


def knn_radii(features: torch.Tensor | np.ndarray, k: int = 3,
              block: int | None = None) -> torch.Tensor:
    """r_k(s) for every row s of ``features`` [N, D]: the distance to its k-th nearest other
    row (itself excluded by index, so a duplicate counts as a neighbour at distance 0).
    Returns float64 [N]."""
    _check_k(k, block)
    x = _as_features(features, "the")
    n = x.shape[0]
    if n < k + 1:
        raise InputError(f"a k-NN radius with k={k} needs at least {k + 1} feature vectors, "
                         f"got {n}")
    radii = torch.empty(n, dtype=torch.float64)
    for start, d in distance_blocks(x, x, block):                # d [m, N]
        m = d.shape[0]
        d[torch.arange(m), torch.arange(start, start + m)] = math.inf   # not its own neighbour
        radii[start:start + m] = d.topk(k, dim=1, largest=False).values[:, -1]
    return radii


def _one_pass(fake: torch.Tensor, real: torch.Tensor, r_fake: torch.Tensor,
              r_real: torch.Tensor, block: int | None) -> tuple[torch.Tensor, ...]:
    """One pass over the fake-real distances [M, N]: which fake rows lie in the real manifold
    (bool [M]), which real rows lie in the fake manifold (bool [N]), how many real balls hold
    a fake row in all (a scalar) and each real row's distance to its nearest fake row
    (float64 [N])."""
    fake_in = torch.zeros(fake.shape[0], dtype=torch.bool)
    real_in = torch.zeros(real.shape[0], dtype=torch.bool)
    balls = torch.zeros((), dtype=torch.float64)
    nearest = torch.full((real.shape[0],), math.inf, dtype=torch.float64)
    for start, d in distance_blocks(fake, real, block):          # d [m, N]
        m = d.shape[0]
        in_real = d <= r_real                                    # in the ball of a real s
        fake_in[start:start + m] = in_real.any(1)
        balls += in_real.sum()
        real_in |= (d <= r_fake[start:start + m, None]).any(0)   # some ball of a fake x
        nearest = torch.minimum(nearest, d.min(0).values)
    return fake_in, real_in, balls, nearest


def manifold_scores(real_feats: torch.Tensor | np.ndarray,
                    fake_feats: torch.Tensor | np.ndarray, k: int = 3,
                    block: int | None = None) -> dict:
    """Precision, recall and the radius ratio (:func:`precision_recall`) with density and
    coverage (:func:`density_coverage`) of generated features ``fake_feats`` [M, D] against
    real features ``real_feats`` [N, D]: each set's k-NN radii once, one pass over the
    distances between them (``ssn eval``'s ``pr``).

    ``block``: rows of distances computed at once (default: about 2^24 distances, 128 MB).
    Deterministic; the block size does not change the result."""
    _check_k(k, block)
    real, fake = _as_features(real_feats, "real"), _as_features(fake_feats, "fake")
    if real.shape[1] != fake.shape[1]:
        raise InputError(f"feature dimensions differ: real {tuple(real.shape)} vs fake "
                         f"{tuple(fake.shape)}")
    for which, x in (("real", real), ("fake", fake)):
        if x.shape[0] < k + 1:
            raise InputError(f"k-NN manifolds with k={k} need at least {k + 1} {which} "
                             f"feature vectors, got {x.shape[0]}")
    r_real, r_fake = knn_radii(real, k, block), knn_radii(fake, k, block)   # [N], [M]
    fake_in, real_in, balls, nearest = _one_pass(fake, real, r_fake, r_real, block)
    return {"precision": fake_in.double().mean().item(),
            "recall": real_in.double().mean().item(),
            "radius_ratio": (r_fake.median() / r_real.median()).item(),
            "density": (balls / (k * fake.shape[0])).item(),
            "coverage": (nearest <= r_real).double().mean().item(), "k": k}


def precision_recall(real_feats: torch.Tensor | np.ndarray,
                     fake_feats: torch.Tensor | np.ndarray, k: int = 3,
                     block: int | None = None) -> dict:
    """Improved precision and recall of generated features ``fake_feats`` [M, D] against real
    features ``real_feats`` [N, D] (see the module docstring), with k-NN radius ``k``; the
    arguments as :func:`manifold_scores`'s. Returns ``{"precision", "recall",
    "radius_ratio", "k"}``: ``radius_ratio`` is the samples' median k-NN radius over the
    data's. Below 1 the samples sit closer together than the data do (at equal counts), so
    their balls are small and recall falls even where the samples land among the data
    (coverage, :func:`density_coverage`, does not depend on it)."""
    scores = manifold_scores(real_feats, fake_feats, k, block)
    return {key: scores[key] for key in ("precision", "recall", "radius_ratio", "k")}


def density_coverage(real_feats: torch.Tensor | np.ndarray,
                     fake_feats: torch.Tensor | np.ndarray, k: int = 3,
                     block: int | None = None) -> dict:
    """Density and coverage (Naeem et al. 2020, see the module docstring) of generated
    features ``fake_feats`` [M, D] against real features ``real_feats`` [N, D], from the real
    points' k-NN balls only; the arguments as :func:`manifold_scores`'s. Returns
    ``{"density", "coverage", "k"}``."""
    scores = manifold_scores(real_feats, fake_feats, k, block)
    return {key: scores[key] for key in ("density", "coverage", "k")}


def expected_coverage(n_real: int, n_fake: int, k: int = 3) -> float:
    """The coverage two independent samples of one distribution have on average, with
    ``n_real`` real and ``n_fake`` generated points (Naeem et al. 2020, section 3.3): a real
    ball holds no sample only if the k nearest of the other n_real - 1 + n_fake points around
    its centre are all real,

        E[coverage] = 1 - prod_{i=1..k} (n_real - i) / (n_real + n_fake - i).
    """
    return 1.0 - math.prod((n_real - i) / (n_real + n_fake - i) for i in range(1, k + 1))
