"""ssnlib.toy: exact laws, block-resampling kernels, Definition 1, distortion and the
Gaussian closed forms, checked against each other and against Monte Carlo."""

import numpy as np
import pytest

from ssnlib import toy as T


def _inpainting(law, part):
    return [T.inpainting_kernel(law, part, a) for a in range(part.n_blocks)]


# ------------------------------------------------------------------ partitions and laws


def test_partitions_cover_and_reject_overlaps():
    part = T.grid_blocks((4, 6), (2, 3))
    assert part.n_blocks == 4 and part.n_pixels == 24
    assert part.labels().tolist()[0] == [0, 0, 0, 1, 1, 1]
    assert part.mask(3).sum() == 6 and len(part.outside(3)) == 18
    assert T.pixel_blocks((2, 2)).blocks == ((0,), (1,), (2,), (3,))
    with pytest.raises(ValueError):
        T.BlockPartition((1, 3), ((0, 1), (1, 2)))
    with pytest.raises(ValueError):
        T.grid_blocks((3, 3), (2, 2))


def test_laws_are_normalised_and_ising_is_symmetric():
    law = T.ising_law((3, 3), 0.4)
    assert law.probs.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(law.marginals(), 0.5, atol=1e-12)
    np.testing.assert_allclose(law.probs, law.probs[::-1], atol=1e-15)  # colour flip
    assert T.ising_law((2, 2), 0.0).probs == pytest.approx(np.full(16, 1 / 16))
    assert T.two_pixel_law().probs.tolist() == [0.5, 0.0, 0.0, 0.5]
    np.testing.assert_array_equal(T.state_of(T.all_images(5)), np.arange(32))


# --------------------------------------------------------------------------- kernels


@pytest.mark.parametrize("beta", [0.0, 0.3, 1.0])
def test_kernels_are_stochastic_and_inpainting_keeps_the_law(beta):
    law = T.ising_law((2, 3), beta)
    part = T.grid_blocks((2, 3), (1, 3))
    for a, k in enumerate(_inpainting(law, part)):
        assert T.is_stochastic(k) and T.is_stationary(k, law)
        # inpainting never touches the other blocks
        assert T.distortion(k, part, a, law) == pytest.approx(0.0, abs=1e-12)
    assert T.is_stochastic(T.fresh_kernel(law)) and T.is_stationary(T.fresh_kernel(law), law)


def test_two_pixel_inpainting_never_leaves_its_start():
    law = T.two_pixel_law(1.0)
    kernels = _inpainting(law, T.pixel_blocks((1, 2)))
    composed = T.sweep(kernels)
    # on the support {(0,0), (1,1)} = states {0, 3}, the sweep is the identity
    np.testing.assert_array_equal(composed[np.ix_([0, 3], [0, 3])], np.eye(2))
    for _ in range(5):  # ... and so is any number of sweeps
        composed = composed @ T.sweep(kernels)
    np.testing.assert_array_equal(composed[np.ix_([0, 3], [0, 3])], np.eye(2))
    assert T.end_law_gap(T.sweep(kernels), law) == 0.5
    assert not T.is_block_resampling(kernels, law, orders="all")
    path = T.simulate(kernels, np.full(1000, 3), np.random.default_rng(0))
    assert (path == 3).all()


def test_resample_everything_is_a_block_resampling_with_closed_form_distortion():
    law = T.ising_law((2, 2), 0.7, field=0.3)
    part = T.pixel_blocks((2, 2))
    fresh = [T.fresh_kernel(law)] * part.n_blocks
    assert T.is_block_resampling(fresh, law, orders="all")
    m = law.marginals()
    for a in range(part.n_blocks):
        expected = sum(2 * m[i] * (1 - m[i]) for i in range(4) if i != a)
        assert T.distortion(fresh[a], part, a, law) == pytest.approx(expected, rel=1e-12)
        assert T.fresh_distortion(law, part, a) == pytest.approx(expected, rel=1e-12)
    # symmetric law: half the pixels outside the block, on average
    sym = T.ising_law((3, 3), 0.5)
    assert T.fresh_distortion(sym, T.pixel_blocks((3, 3)), 4) == pytest.approx(4.0)


def test_inpainting_gap_is_zero_for_independent_blocks_and_grows_with_correlation():
    part = T.pixel_blocks((3, 3))
    indep = T.independent_law(np.linspace(0.1, 0.9, 9), (3, 3))
    assert T.is_block_resampling(_inpainting(indep, part), indep)
    # blocks independent of each other but correlated inside: still exact
    rows = T.grid_blocks((3, 3), (1, 3))
    row_law = T.ImageLaw(np.kron(np.kron(T.ising_law((1, 3), 1.0).probs,
                                         T.ising_law((1, 3), 0.5).probs),
                                 T.ising_law((1, 3), 0.2).probs), (3, 3))
    assert T.is_block_resampling(_inpainting(row_law, rows), row_law, orders="all")
    gaps = [T.end_law_gap(T.sweep(_inpainting(law, part)), law)
            for law in (T.ising_law((3, 3), b) for b in (0.0, 0.1, 0.2, 0.3, 0.4))]
    assert gaps[0] == pytest.approx(0.0, abs=1e-12)
    assert all(np.diff(gaps) > 0.05)
    worst = [T.definition1_gap(_inpainting(T.two_pixel_law(r), T.pixel_blocks((1, 2))),
                               T.two_pixel_law(r)) for r in (0.0, 0.3, 0.6, 0.9, 1.0)]
    assert worst[0] == pytest.approx(0.0, abs=1e-12) and all(np.diff(worst) > 0)


def test_exact_distortion_matches_monte_carlo():
    law = T.ising_law((2, 2), 0.6)
    part = T.pixel_blocks((2, 2))
    rng = np.random.default_rng(3)
    starts = law.sample(40000, rng)
    k = T.fresh_kernel(law)
    moved = T.simulate([k], starts, rng)[-1]
    mc = T.hamming_outside(starts, moved, part, 0).mean()
    assert mc == pytest.approx(T.distortion(k, part, 0, law), abs=0.02)  # sd ~ 0.006


# --------------------------------------------------------------------- latent models


@pytest.mark.parametrize("beta", [0.0, 0.5, 1.5])
def test_autoregressive_latent_model_is_exact_and_a_block_resampling(beta):
    law = T.ising_law((2, 2), beta)
    model = T.autoregressive_model(law, T.pixel_blocks((2, 2)))
    np.testing.assert_allclose(model.law().probs, law.probs, atol=1e-10)
    assert model.definition1_gap(orders="all") < 1e-9  # every order, every start
    assert model.definition1_gap(law) < 1e-9
    for a in range(4):
        assert T.is_stochastic(model.latent_kernel(a))
        assert T.is_stationary(model.image_kernel(a), law, atol=1e-9)
    # the last block in the decoding order influences nothing else
    assert model.distortion(3) == pytest.approx(0.0, abs=1e-12)
    if beta > 0:
        assert model.distortion(0) > 0


def test_two_pixel_latent_model_moves_both_pixels_half_the_time():
    law = T.two_pixel_law(1.0)
    model = T.autoregressive_model(law, T.pixel_blocks((1, 2)))
    assert model.sizes == (2, 1)
    assert model.distortion(0) == pytest.approx(0.5) and model.distortion(1) == 0.0
    assert model.definition1_gap(law, orders="all") < 1e-12


def test_independent_blocks_model_has_zero_distortion_but_the_wrong_law():
    law = T.ising_law((2, 2), 0.8)
    model = T.independent_blocks_model(law, T.grid_blocks((2, 2), (1, 2)))
    assert model.ldbr_objective() == 0.0
    assert model.definition1_gap() < 1e-12  # a block-resampling of its own law ...
    tv = T.total_variation(model.law().probs, law.probs)
    assert tv > 0.1  # ... not of the target
    assert model.definition1_gap(law) == pytest.approx(tv)


def test_latent_distortion_matches_dense_matrices_and_monte_carlo():
    law = T.ising_law((2, 2), 0.4)
    part = T.pixel_blocks((2, 2))
    model = T.autoregressive_model(law, part)
    g = model.decode_matrix()
    pz = model.latent_prob()
    rng = np.random.default_rng(7)
    z = model.sample_latents(50000, rng)
    for a in range(4):
        ham = T.changed_pixels(4, part.outside(a))
        dense = pz @ ((model.latent_kernel(a) @ g) * (g @ ham)).sum(axis=1)
        assert model.distortion(a) == pytest.approx(dense, abs=1e-12)
        mc = T.hamming_outside(model.decode(z), model.decode(model.resample(z, a, rng)),
                               part, a).mean()
        assert mc == pytest.approx(model.distortion(a), abs=0.02)


def test_monte_carlo_is_deterministic_under_seeds():
    law = T.ising_law((2, 2), 0.5)
    kernels = _inpainting(law, T.pixel_blocks((2, 2)))
    runs = [T.simulate(kernels, law.sample(100, np.random.default_rng(s)),
                       np.random.default_rng(s)) for s in (5, 5, 6)]
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])
    cov = T.grid_covariance((2, 2), 0.5)
    a = T.sample_gaussian(cov, 10, np.random.default_rng(1))
    np.testing.assert_array_equal(a, T.sample_gaussian(cov, 10, np.random.default_rng(1)))


# -------------------------------------------------------------------------- Gaussian


def test_gaussian_conditional_matches_monte_carlo():
    cov = T.grid_covariance((3, 3), 0.6)
    part = T.grid_blocks((3, 3), (1, 3))
    c, s = T.gaussian_conditional(cov, part, 1)
    y = T.sample_gaussian(cov, 200000, np.random.default_rng(0))
    rest, blk = y[:, part.outside(1)], y[:, list(part[1])]
    coef, *_ = np.linalg.lstsq(rest, blk, rcond=None)
    np.testing.assert_allclose(coef.T, c, atol=0.01)
    np.testing.assert_allclose(np.cov((blk - rest @ c.T).T), s, atol=0.01)


def test_gaussian_distances_closed_forms():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 4))
    c0, c1 = x @ x.T + np.eye(4), np.diag([1.0, 2.0, 3.0, 4.0])
    m0, m1 = np.ones(4), np.zeros(4)
    assert T.gaussian_kl(m0, c0, m0, c0) == pytest.approx(0.0, abs=1e-12)
    assert T.gaussian_w2(m0, c0, m0, c0) == pytest.approx(0.0, abs=1e-9)
    # commuting covariances: W2^2 = |m0 - m1|^2 + sum (sqrt(a) - sqrt(b))^2
    d = np.diag([2.0, 1.0, 5.0, 3.0])
    assert T.gaussian_w2(m0, d, m1, c1) == pytest.approx(
        4 + ((np.sqrt(np.diag(d)) - np.sqrt(np.diag(c1))) ** 2).sum())
    # KL against a Monte Carlo log-likelihood ratio
    y = m0 + T.sample_gaussian(c0, 200000, rng)

    def logpdf(v, m, c):
        r = v - m
        return -0.5 * (np.einsum("ni,ij,nj->n", r, np.linalg.inv(c), r)
                       + np.linalg.slogdet(2 * np.pi * c)[1])

    mc = (logpdf(y, m0, c0) - logpdf(y, m1, c1)).mean()
    assert mc == pytest.approx(T.gaussian_kl(m0, c0, m1, c1), rel=0.02)


def test_gaussian_kernels_stationarity_and_definition1():
    cov = T.grid_covariance((4, 4), 0.7)
    part = T.grid_blocks((4, 4), (2, 2))
    inpaint = [T.gaussian_inpainting_kernel(cov, part, a) for a in range(4)]
    assert all(k.is_stationary(cov) for k in inpaint)
    assert all(k.distortion(part, a, cov) == pytest.approx(0.0, abs=1e-12)
               for a, k in enumerate(inpaint))
    assert T.end_law_gap_gaussian(T.gaussian_sweep(inpaint), cov) > 1.0
    fresh = T.fresh_gaussian_kernel(cov)
    outside = part.outside(0)
    expected = 2 * np.trace(cov[np.ix_(outside, outside)])
    assert fresh.distortion(part, 0, cov) == pytest.approx(expected)
    for A in (T.sqrtm_psd(cov), np.linalg.cholesky(cov), T.block_diagonal_model(cov, part)):
        kernels = [T.linear_latent_kernel(A, part, a) for a in range(4)]
        for order in ([0, 1, 2, 3], [3, 1, 0, 2]):
            end = T.gaussian_sweep(kernels, order)
            np.testing.assert_allclose(end.B, 0, atol=1e-10)
            np.testing.assert_allclose(end.S, A @ A.T, atol=1e-10)
        # distortion under the model's own law: 2 ||A[b != a, a]||^2
        own = A @ A.T
        per_block = [k.distortion(part, a, own) for a, k in enumerate(kernels)]
        np.testing.assert_allclose(per_block, T.linear_latent_distortion(A, part), atol=1e-10)
    # independent pixels: inpainting is exact
    eye = T.grid_covariance((4, 4), 0.0)
    sweep0 = T.gaussian_sweep([T.gaussian_inpainting_kernel(eye, part, a) for a in range(4)])
    assert T.end_law_gap_gaussian(sweep0, eye) == pytest.approx(0.0, abs=1e-9)


def test_gaussian_inpainting_gap_grows_with_correlation_and_matches_monte_carlo():
    part = T.pixel_blocks((1, 2))
    gaps = []
    for rho in (0.0, 0.3, 0.6, 0.9):
        cov = T.grid_covariance((1, 2), rho)
        end = T.gaussian_sweep([T.gaussian_inpainting_kernel(cov, part, a) for a in range(2)])
        gaps.append(T.end_law_gap_gaussian(end, cov, metric="kl"))
        # closed form for two pixels: y* mean (rho y2, rho^2 y2)
        np.testing.assert_allclose(end.B, [[0, rho], [0, rho**2]], atol=1e-12)
    assert gaps[0] == pytest.approx(0.0, abs=1e-12) and all(np.diff(gaps) > 0)
    cov = T.grid_covariance((1, 2), 0.8)
    kernels = [T.gaussian_inpainting_kernel(cov, part, a) for a in range(2)]
    rng = np.random.default_rng(4)
    y = np.tile([1.0, -1.0], (100000, 1))
    for k in kernels:
        y = k.sample(y, rng)
    end = T.gaussian_sweep(kernels)
    np.testing.assert_allclose(y.mean(axis=0), end.B @ [1.0, -1.0], atol=0.01)
    np.testing.assert_allclose(np.cov(y.T), end.S, atol=0.01)


def test_linear_latent_distortion_matches_monte_carlo():
    cov = T.grid_covariance((4, 4), 0.6)
    part = T.grid_blocks((4, 4), (2, 2))
    A = T.sqrtm_psd(cov)
    rng = np.random.default_rng(9)
    z = rng.standard_normal((100000, 16))
    z2 = z.copy()
    z2[:, list(part[1])] = rng.standard_normal((100000, 4))
    diff = (z2 - z) @ A.T
    mc = (diff[:, part.outside(1)] ** 2).sum(axis=1).mean()
    assert mc == pytest.approx(T.linear_latent_distortion(A, part)[1], rel=0.02)


def test_pareto_trades_quality_for_distortion():
    cov = T.grid_covariance((4, 4), 0.6)
    part = T.grid_blocks((4, 4), (2, 2))
    pts = T.ldbr_pareto(cov, part, [0.01, 0.1, 1.0, 10.0])
    w2 = [p.w2 for p in pts]
    dist = [p.distortion for p in pts]
    assert all(np.diff(w2) > 0) and all(np.diff(dist) < 0)
    # ends: nearly exact at small lambda, nearly block-diagonal at large lambda
    root = T.sqrtm_psd(cov)
    assert w2[0] < 1e-3 and dist[0] <= T.linear_latent_distortion(root, part).sum() + 1e-9
    bd = T.block_diagonal_model(cov, part)
    bd_w2 = T.gaussian_w2(np.zeros(16), bd @ bd.T, np.zeros(16), cov)
    assert dist[-1] < 0.01 and w2[-1] <= bd_w2 + 1e-6
    again = T.ldbr_pareto(cov, part, [0.01, 0.1, 1.0, 10.0])
    assert [p.w2 for p in again] == w2  # deterministic
