"""Improved precision and recall (Kynkäänniemi et al. 2019), density and coverage (Naeem et al.
2020) on feature sets with known answers, against plain-loop references, and through
``evaluate``."""

from __future__ import annotations

import math

import pytest
import torch
from test_metrics import FakeSpatial, gaussian

from ssnlib.metrics import (
    METRICS,
    density_coverage,
    evaluate,
    expected_coverage,
    knn_radii,
    precision_recall,
)
from ssnlib.metrics.featurenet import DomainFeatures
from ssnlib.metrics.reference import reference_stats
from ssnlib.metrics.sampling import generated_batches


def brute_force_precision_recall(real: torch.Tensor, fake: torch.Tensor, k: int = 3):
    """The paper's definition, one pair of points at a time."""
    real, fake = real.tolist(), fake.tolist()

    def radii(points):
        return [sorted(math.dist(p, q) for j, q in enumerate(points) if j != i)[k - 1]
                for i, p in enumerate(points)]

    def share_inside(points, manifold, r):
        inside = [any(math.dist(x, s) <= r[j] for j, s in enumerate(manifold)) for x in points]
        return sum(inside) / len(points)

    r_real, r_fake = radii(real), radii(fake)
    return share_inside(fake, real, r_real), share_inside(real, fake, r_fake), r_real


def test_knn_radii_on_a_line_match_the_hand_computation():
    x = torch.tensor([[0.0], [1.0], [3.0], [6.0], [10.0]])
    assert knn_radii(x, k=1).tolist() == [1, 1, 2, 3, 4]
    # point 3: others at 3, 2, 3, 7 -> sorted 2, 3, 3, 7 -> the third is 3
    assert knn_radii(x, k=3).tolist() == [6, 5, 3, 5, 9]


def test_a_duplicate_point_is_a_neighbour_at_distance_zero():
    x = torch.tensor([[0.0, 0.0], [0.0, 0.0], [3.0, 4.0]])
    assert knn_radii(x, k=1).tolist() == [0, 0, 5]


def test_a_point_on_a_balls_boundary_is_inside():
    real = torch.tensor([[0.0], [1.0], [2.0], [3.0]])       # 3-NN radii 3, 2, 2, 3
    fake = real + 4                                         # 3-NN radii 3, 2, 2, 3
    # 4 and 5 lie inside the ball of 3 (radius 3), 6 on its boundary, 7 outside every ball;
    # the same by symmetry for the real points 3, 2, 1 and 0 against the fake balls
    assert precision_recall(real, fake) == {"precision": 0.75, "recall": 0.75,
                                            "radius_ratio": 1.0, "k": 3}


def test_identical_sets_have_full_precision_and_recall():
    x = gaussian(200, 8, 0)
    assert precision_recall(x, x.clone()) == {"precision": 1.0, "recall": 1.0,
                                              "radius_ratio": 1.0, "k": 3}


def test_a_collapsed_generator_has_full_precision_and_almost_no_recall():
    real = gaussian(500, 8, 1)
    # every sample within ~0.03 of one real point, far inside that point's k-NN ball
    fake = real[0] + 0.01 * gaussian(200, 8, 2)
    out = precision_recall(real, fake)
    assert out["precision"] == 1.0
    assert out["recall"] <= 0.01
    # the samples' balls are about 100 times smaller than the data's
    assert out["radius_ratio"] < 0.02


def test_a_far_away_set_has_zero_precision_and_recall():
    out = precision_recall(gaussian(200, 8, 3), gaussian(150, 8, 4, shift=100.0))
    assert out["precision"] == 0.0 and out["recall"] == 0.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_a_brute_force_loop_exactly(seed):
    real = gaussian(60, 5, 10 + seed)
    fake = gaussian(45, 5, 20 + seed, shift=0.6, scale=0.8)
    precision, recall, r_real = brute_force_precision_recall(real, fake)
    assert 0 < precision < 1 and 0 < recall < 1          # a case where the loop decides
    out = precision_recall(real, fake, block=16)
    assert (out["precision"], out["recall"]) == (precision, recall)
    torch.testing.assert_close(knn_radii(real), torch.tensor(r_real, dtype=torch.float64),
                               rtol=1e-12, atol=1e-12)


def test_the_block_size_does_not_change_the_result():
    real, fake = gaussian(300, 16, 5), gaussian(250, 16, 6, shift=0.3, scale=1.2)
    small = precision_recall(real, fake, block=7)
    for other in (precision_recall(real, fake, block=1000), precision_recall(real, fake)):
        # the shares are counts, so exact; the radii's distances may differ in the last bit
        # with the block's matrix product shape (float64)
        assert {k: v for k, v in other.items() if k != "radius_ratio"} == {
            k: v for k, v in small.items() if k != "radius_ratio"}
        assert other["radius_ratio"] == pytest.approx(small["radius_ratio"], rel=1e-12)
    assert 0 < small["precision"] < 1 and 0 < small["recall"] < 1
    torch.testing.assert_close(knn_radii(real, block=7), knn_radii(real, block=1000),
                               rtol=1e-12, atol=0)


def test_swapping_real_and_fake_swaps_precision_and_recall():
    a, b = gaussian(120, 6, 7), gaussian(90, 6, 8, shift=0.4, scale=0.7)
    ab, ba = precision_recall(a, b), precision_recall(b, a)
    assert (ab["precision"], ab["recall"]) == (ba["recall"], ba["precision"])
    assert ab["precision"] != ab["recall"]
    assert ab["radius_ratio"] == pytest.approx(1 / ba["radius_ratio"], rel=1e-12)


def test_the_radius_ratio_scales_with_the_samples_spread():
    real, fake = gaussian(300, 6, 11), gaussian(300, 6, 12)
    base = precision_recall(real, fake)["radius_ratio"]
    assert base == pytest.approx(1, abs=0.1)
    assert precision_recall(real, 0.5 * fake)["radius_ratio"] == pytest.approx(0.5 * base,
                                                                               rel=1e-9)


@pytest.mark.parametrize(("real", "fake", "kwargs", "message"), [
    (torch.zeros(10, 4), torch.zeros(10, 5), {}, r"feature dimensions differ: real \(10, 4\)"),
    (torch.zeros(10), torch.zeros(10, 4), {}, r"real features must be \[N, D\], got shape"),
    (torch.zeros(3, 4), torch.zeros(10, 4), {}, "k=3 need at least 4 real feature vectors, "
     "got 3"),
    (torch.zeros(10, 4), torch.zeros(2, 4), {}, "need at least 4 fake feature vectors"),
    (torch.zeros(10, 4), torch.zeros(10, 4), {"k": 0}, "k must be a positive integer"),
    (torch.zeros(10, 4), torch.zeros(10, 4), {"block": 0}, "block must be a positive"),
    (torch.full((10, 4), math.nan), torch.zeros(10, 4), {}, "real features contain NaN"),
])
@pytest.mark.parametrize("function", [precision_recall, density_coverage])
def test_bad_input_is_named_in_one_line(real, fake, kwargs, message, function):
    with pytest.raises(ValueError, match=message) as info:
        function(real, fake, **kwargs)
    assert "\n" not in str(info.value)


def test_evaluate_scores_a_tiny_generator_against_its_reference(tmp_path):
    assert "pr" in METRICS
    G = FakeSpatial("linear", resolution=16)
    out = evaluate(G, ["pr"], num=8, ref="faces", ref_num=8, batch=8, cache_dir=tmp_path)
    pr = out["pr"]
    assert 0 <= pr["precision"] <= 1 and 0 <= pr["recall"] <= 1 and pr["k"] == 3
    # the same numbers as the pure function on the cached reference and the generated features
    f = DomainFeatures()
    reference = reference_stats("faces", f, 8, 16, cache_dir=tmp_path)
    assert pr["reference"] == reference.key and pr["features"] == f.name
    fake = f.features_of(generated_batches(G, 8, seed=0, batch=8))
    expected = precision_recall(reference.features, fake)
    assert (pr["precision"], pr["recall"]) == (expected["precision"], expected["recall"])
    expected = density_coverage(reference.features, fake)
    assert (pr["density"], pr["coverage"]) == (expected["density"], expected["coverage"])


def brute_force_density_coverage(real: torch.Tensor, fake: torch.Tensor, k: int = 3):
    """Naeem et al.'s definitions, one pair of points at a time."""
    real, fake = real.tolist(), fake.tolist()
    r = [sorted(math.dist(p, q) for j, q in enumerate(real) if j != i)[k - 1]
         for i, p in enumerate(real)]
    balls = sum(math.dist(x, y) <= r[j] for x in fake for j, y in enumerate(real))
    covered = sum(any(math.dist(x, y) <= r[j] for x in fake) for j, y in enumerate(real))
    return balls / (k * len(fake)), covered / len(real)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_density_coverage_match_a_brute_force_loop(seed):
    real = gaussian(60, 5, 30 + seed)
    fake = gaussian(45, 5, 40 + seed, shift=0.5, scale=0.7)
    density, coverage = brute_force_density_coverage(real, fake)
    assert 0 < coverage < 1 and density > 0
    out = density_coverage(real, fake, block=16)
    assert out["coverage"] == coverage and out["k"] == 3
    assert out["density"] == pytest.approx(density, rel=1e-12)
    assert out == density_coverage(real, fake, block=1000) == density_coverage(real, fake)


def test_a_set_against_itself_has_density_k_plus_one_over_k_and_full_coverage():
    # each real ball holds its centre's copy and the copies of its k neighbours: k + 1 samples.
    # Powers of two on a line: every distance is exact in float64 and distinct from each point,
    # so no copy lands on a ball's boundary by round-off
    x = 2.0 ** torch.arange(20, dtype=torch.float64)[:, None]
    for k in (1, 3, 5):
        assert density_coverage(x, x.clone(), k=k) == {"density": (k + 1) / k, "coverage": 1.0,
                                                       "k": k}


def test_expected_coverage_by_hand():
    # k = 1: a real ball is empty of samples when the nearest of the 3 other real and 4
    # generated points is real: 3 / 7
    assert expected_coverage(4, 4, k=1) == pytest.approx(1 - 3 / 7)
    assert expected_coverage(4, 4, k=2) == pytest.approx(1 - (3 * 2) / (7 * 6))
    # equal sizes, many points: 1 - 2^-k
    assert expected_coverage(10 ** 6, 10 ** 6, k=3) == pytest.approx(1 - 2 ** -3, abs=1e-5)


@pytest.mark.parametrize(("n_real", "n_fake"), [(20, 20), (20, 40)])
def test_two_samples_of_one_distribution_have_the_expected_density_and_coverage(n_real, n_fake):
    gen = torch.Generator().manual_seed(n_fake)
    runs = [density_coverage(torch.randn(n_real, 2, generator=gen, dtype=torch.float64),
                             torch.randn(n_fake, 2, generator=gen, dtype=torch.float64))
            for _ in range(400)]
    coverage = torch.tensor([r["coverage"] for r in runs])
    density = torch.tensor([r["density"] for r in runs])
    # the means over 400 draws, within about 4 standard errors (0.004 and 0.007)
    assert coverage.mean().item() == pytest.approx(expected_coverage(n_real, n_fake), abs=0.016)
    assert density.mean().item() == pytest.approx(1.0, abs=0.03)


def test_clumped_samples_lose_recall_but_keep_coverage():
    # four samples within ~0.03 of each of the first 100 of 500 real points: the samples' own
    # 3-NN balls are that small, so they hold at most those 100 real points (recall <= 0.2),
    # while every real ball that reaches one of the clumps counts as covered
    real = gaussian(500, 8, 9)
    fake = real[:100].repeat(4, 1) + 0.01 * gaussian(400, 8, 10)
    pr = precision_recall(real, fake)
    assert pr["recall"] <= 0.2 and pr["radius_ratio"] < 0.05
    coverage = density_coverage(real, fake)["coverage"]
    assert coverage == brute_force_density_coverage(real, fake)[1]
    assert coverage > 0.4
