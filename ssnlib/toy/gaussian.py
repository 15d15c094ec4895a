"""A correlated Gaussian image model where every quantity of the LDBR problem has a
closed form.

Images are vectors :math:`y \\in \\mathbb R^n` (an ``H x W`` grid, row-major) with
law :math:`P = \\mathcal N(0, \\Sigma)`, e.g. :math:`\\Sigma_{ij} = \\rho^{d_{ij}}`
(:func:`grid_covariance`; :math:`d_{ij}` the distance between pixels, ``rho``
the correlation of neighbours). Every kernel here is *linear-Gaussian*,
:math:`y' = B y + \\varepsilon`, :math:`\\varepsilon \\sim \\mathcal N(0, S)`
(:class:`GaussianKernel`): inpainting a block (its conditional law), resampling
everything, and resampling one latent block of a linear latent-block model
:math:`y = A z`, :math:`z \\sim \\mathcal N(0, I)`. Sweeps compose in closed form,
so Definition 1, the distortion of the LDBR problem and the distance of a
sweep's end law to the target are exact numbers, not estimates.

The quality of a model law :math:`\\hat P = \\mathcal N(0, AA^\\top)` is measured by
the squared 2-Wasserstein (Fréchet) distance :math:`W_2^2(\\hat P, P)`, the very
quantity FID computes between Gaussian fits of Inception features.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .partition import BlockPartition


def grid_covariance(shape: tuple[int, int], rho: float) -> np.ndarray:
    """:math:`\\Sigma_{ij} = \\rho^{d_{ij}}`, :math:`d_{ij}` the Euclidean distance
    between pixels ``i`` and ``j`` of an ``H x W`` grid: unit variances, neighbour
    correlation ``rho`` (the exponential kernel :math:`e^{-d/\\ell}`,
    :math:`\\ell = -1/\\log\\rho`, positive definite in any dimension).
    ``rho = 0`` gives independent pixels."""
    if not 0 <= rho < 1:
        raise ValueError(f"rho must lie in [0, 1), got {rho}")
    h, w = shape
    rr, cc = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    xy = np.stack([rr.ravel(), cc.ravel()], axis=1).astype(float)
    d = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2))
    if rho == 0:
        return np.eye(h * w)
    return rho**d


def sqrtm_psd(cov: np.ndarray) -> np.ndarray:
    """The symmetric square root of a positive semi-definite matrix."""
    w, v = np.linalg.eigh((cov + cov.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def gaussian_w2(mean0: np.ndarray, cov0: np.ndarray, mean1: np.ndarray,
                cov1: np.ndarray) -> float:
    """Squared 2-Wasserstein (Fréchet) distance between two Gaussians:
    :math:`\\|m_0 - m_1\\|^2 + \\mathrm{tr}\\,\\Sigma_0 + \\mathrm{tr}\\,\\Sigma_1
    - 2\\,\\mathrm{tr}\\,(\\Sigma_1^{1/2} \\Sigma_0 \\Sigma_1^{1/2})^{1/2}`."""
    r1 = sqrtm_psd(cov1)
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(r1 @ cov0 @ r1), 0, None)).sum()
    d = np.asarray(mean0) - np.asarray(mean1)
    return float(max(d @ d + np.trace(cov0) + np.trace(cov1) - 2 * cross, 0.0))


def gaussian_kl(mean0: np.ndarray, cov0: np.ndarray, mean1: np.ndarray,
                cov1: np.ndarray) -> float:
    """:math:`\\mathrm{KL}(\\mathcal N(m_0, \\Sigma_0) \\,\\|\\, \\mathcal N(m_1, \\Sigma_1))
    = \\tfrac12[\\mathrm{tr}(\\Sigma_1^{-1}\\Sigma_0) + (m_1 - m_0)^\\top \\Sigma_1^{-1}
    (m_1 - m_0) - n + \\log\\det\\Sigma_1 - \\log\\det\\Sigma_0]` (``inf`` when
    :math:`\\Sigma_0` is singular)."""
    n = cov0.shape[0]
    s0, logdet0 = np.linalg.slogdet(cov0)
    if s0 <= 0:
        return float("inf")
    _, logdet1 = np.linalg.slogdet(cov1)
    d = np.asarray(mean1) - np.asarray(mean0)
    inv1 = np.linalg.inv(cov1)
    return float(0.5 * (np.trace(inv1 @ cov0) + d @ inv1 @ d - n + logdet1 - logdet0))


def sample_gaussian(cov: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``[n, dim]`` draws of :math:`\\mathcal N(0, \\Sigma)`."""
    return rng.standard_normal((n, cov.shape[0])) @ sqrtm_psd(cov)


@dataclass(frozen=True)
class GaussianKernel:
    """The kernel :math:`y' = B y + \\varepsilon`, :math:`\\varepsilon \\sim \\mathcal N(0, S)`."""

    B: np.ndarray
    S: np.ndarray

    @property
    def dim(self) -> int:
        return self.B.shape[0]

    def then(self, other: GaussianKernel) -> GaussianKernel:
        """Apply ``self``, then ``other``: :math:`(B_2 B_1,\\; B_2 S_1 B_2^\\top + S_2)`."""
        return GaussianKernel(other.B @ self.B, other.B @ self.S @ other.B.T + other.S)

    def push(self, cov: np.ndarray) -> np.ndarray:
        """The covariance of :math:`y'` when :math:`y \\sim \\mathcal N(0, \\Sigma)`."""
        return self.B @ cov @ self.B.T + self.S

    def is_stationary(self, cov: np.ndarray, atol: float = 1e-9) -> bool:
        """:math:`B \\Sigma B^\\top + S = \\Sigma`: the kernel preserves
        :math:`\\mathcal N(0, \\Sigma)`."""
        return bool(np.allclose(self.push(cov), cov, atol=atol))

    def distortion(self, partition: BlockPartition, a: int, start_cov: np.ndarray) -> float:
        """:math:`\\mathbb E \\sum_{b \\ne a} \\|y_b - y'_b\\|^2` for
        :math:`y \\sim \\mathcal N(0, \\Sigma_0)` (``start_cov``): the diagonal of
        :math:`(B - I)\\Sigma_0(B - I)^\\top + S` summed outside block ``a``."""
        m = self.B - np.eye(self.dim)
        e = m @ start_cov @ m.T + self.S
        return float(np.diag(e)[partition.outside(a)].sum())

    def sample(self, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Monte Carlo: one step from each row of ``y`` ``[N, dim]``."""
        return y @ self.B.T + rng.standard_normal(y.shape) @ sqrtm_psd(self.S)


def fresh_gaussian_kernel(cov: np.ndarray) -> GaussianKernel:
    """Resample everything: :math:`B = 0`, :math:`S = \\Sigma`."""
    n = cov.shape[0]
    return GaussianKernel(np.zeros((n, n)), np.array(cov, dtype=float))


def gaussian_conditional(cov: np.ndarray, partition: BlockPartition,
                         a: int) -> tuple[np.ndarray, np.ndarray]:
    """The law of block ``a`` given the others,
    :math:`y_a \\mid y_{-a} \\sim \\mathcal N(C y_{-a},\\; \\Sigma_{aa} - C \\Sigma_{-a,a})`,
    :math:`C = \\Sigma_{a,-a} \\Sigma_{-a,-a}^{-1}`. Returns ``(C, conditional covariance)``."""
    ia, ir = list(partition[a]), partition.outside(a)
    if len(ir) == 0:
        return np.zeros((len(ia), 0)), cov[np.ix_(ia, ia)]
    c = np.linalg.solve(cov[np.ix_(ir, ir)], cov[np.ix_(ir, ia)]).T
    return c, cov[np.ix_(ia, ia)] - c @ cov[np.ix_(ir, ia)]


def gaussian_inpainting_kernel(cov: np.ndarray, partition: BlockPartition,
                               a: int) -> GaussianKernel:
    """Inpaint block ``a``: keep the other blocks, draw block ``a`` from its
    conditional (:func:`gaussian_conditional`)."""
    n = cov.shape[0]
    ia, ir = list(partition[a]), partition.outside(a)
    c, s_cond = gaussian_conditional(cov, partition, a)
    b = np.eye(n)
    b[ia, :] = 0.0
    if len(ir):
        b[np.ix_(ia, ir)] = c
    s = np.zeros((n, n))
    s[np.ix_(ia, ia)] = s_cond
    return GaussianKernel(b, s)


def linear_latent_kernel(A: np.ndarray, partition: BlockPartition, a: int) -> GaussianKernel:
    """Resample latent block ``a`` of :math:`y = A z` (``A`` square and invertible;
    latent coordinate ``k`` belongs to the block of pixel ``k``). With
    :math:`z = A^{-1} y`, :math:`y' = y + A_{:,a}(z'_a - z_a)`:
    :math:`B = I - A_{:,a} (A^{-1})_{a,:}`, :math:`S = A_{:,a} A_{:,a}^\\top`.
    The projectors :math:`A_{:,a}(A^{-1})_{a,:}` sum to :math:`I` and annihilate
    each other, so a sweep gives :math:`B = 0`, :math:`S = AA^\\top`: a fresh
    sample of :math:`\\hat P = \\mathcal N(0, AA^\\top)` from any start
    (Definition 1, in any order)."""
    ia = list(partition[a])
    ainv = np.linalg.inv(A)
    cols = A[:, ia]
    return GaussianKernel(np.eye(A.shape[0]) - cols @ ainv[ia, :], cols @ cols.T)


def gaussian_sweep(kernels: Sequence[GaussianKernel],
                   order: Sequence[int] | None = None) -> GaussianKernel:
    """One pass over the blocks (``kernels[order[0]]`` first)."""
    order = range(len(kernels)) if order is None else order
    out = None
    for a in order:
        out = kernels[a] if out is None else out.then(kernels[a])
    if out is None:
        raise ValueError("empty sweep")
    return out


def end_law_gap_gaussian(composed: GaussianKernel, target_cov: np.ndarray,
                         start_cov: np.ndarray | None = None, metric: str = "w2") -> float:
    """How far a sweep is from a block-resampling of :math:`\\mathcal N(0, \\Sigma)`
    (Definition 1): the end law given the start is :math:`\\mathcal N(B y^{(0)}, S)`;
    average its distance to the target over :math:`y^{(0)} \\sim \\mathcal N(0, \\Sigma_0)`
    (``start_cov``, default the target):

    - ``"w2"``: :math:`\\mathbb E\\, W_2^2 = \\mathrm{tr}(B\\Sigma_0 B^\\top)
      + W_2^2(\\mathcal N(0, S), \\mathcal N(0, \\Sigma))`;
    - ``"kl"``: :math:`\\mathbb E\\,\\mathrm{KL} = \\tfrac12[\\mathrm{tr}(\\Sigma^{-1}S)
      + \\mathrm{tr}(\\Sigma^{-1}B\\Sigma_0B^\\top) - n + \\log\\det\\Sigma
      - \\log\\det S]`.

    Zero exactly when :math:`B = 0` and :math:`S = \\Sigma`."""
    s0 = target_cov if start_cov is None else start_cov
    n = target_cov.shape[0]
    zero = np.zeros(n)
    moved = composed.B @ s0 @ composed.B.T
    if metric == "w2":
        return float(np.trace(moved) + gaussian_w2(zero, composed.S, zero, target_cov))
    if metric == "kl":
        inv = np.linalg.inv(target_cov)
        return gaussian_kl(zero, composed.S, zero, target_cov) + 0.5 * float(np.trace(inv @ moved))
    raise ValueError(f"metric must be 'w2' or 'kl', got {metric!r}")


# ----------------------------------------------------------------- linear latent models


def latent_block_mask(partition: BlockPartition) -> np.ndarray:
    """``M[i, k] = 1`` when pixel ``i`` lies in the block of latent coordinate ``k``."""
    return partition.pixel_block_matrix()


def linear_latent_distortion(A: np.ndarray, partition: BlockPartition) -> np.ndarray:
    """Per block ``a``: :math:`\\mathbb E \\sum_{b \\ne a}\\|y_b - y'_b\\|^2
    = 2 \\|A_{b \\ne a,\\, a}\\|_F^2` when latent block ``a`` is redrawn, :math:`z \\sim
    \\mathcal N(0, I)` (the model's own law, as in eq. 2). ``[n_blocks]``."""
    out = np.empty(partition.n_blocks)
    for a, block in enumerate(partition):
        out[a] = 2.0 * float((A[np.ix_(partition.outside(a), list(block))] ** 2).sum())
    return out


def latent_reach(A: np.ndarray, partition: BlockPartition, a: int) -> np.ndarray:
    """``[H, W]`` map of the variance latent block ``a`` puts in every pixel,
    :math:`\\sum_{k \\in a} A_{ik}^2`: where redrawing :math:`z_a` moves the image
    (half the expected squared change of pixel ``i``)."""
    return (A[:, list(partition[a])] ** 2).sum(axis=1).reshape(partition.shape)


def block_diagonal_model(cov: np.ndarray, partition: BlockPartition) -> np.ndarray:
    """The most local linear latent model: :math:`A` block-diagonal, each diagonal
    block the Cholesky factor of :math:`\\Sigma_{aa}`. Zero distortion; its law keeps
    the within-block covariances and drops every correlation between blocks."""
    A = np.zeros_like(cov, dtype=float)
    for block in partition:
        ix = np.ix_(list(block), list(block))
        A[ix] = np.linalg.cholesky(cov[ix])
    return A


@dataclass(frozen=True)
class ParetoPoint:
    """One solution of the relaxed LDBR problem for linear latent models."""

    lam: float
    A: np.ndarray
    w2: float  # W_2^2 between the model law N(0, AA^T) and the target
    distortion: float  # sum over blocks of linear_latent_distortion
    iterations: int


def _relaxed_objective(flat: np.ndarray, root: np.ndarray, off: np.ndarray, lam: float,
                       trace: float) -> tuple[float, np.ndarray]:
    n = root.shape[0]
    a = flat.reshape(n, n)
    u, sv, vt = np.linalg.svd(root @ a)
    value = (a * a).sum() + trace - 2.0 * sv.sum() + 2.0 * lam * ((a * off) ** 2).sum()
    grad = 2.0 * a - 2.0 * root @ (u @ vt) + 4.0 * lam * a * off * off
    return float(value), grad.ravel()


def ldbr_pareto(cov: np.ndarray, partition: BlockPartition, lambdas: Sequence[float],
                max_iter: int = 20000, gtol: float = 1e-11) -> list[ParetoPoint]:
    """The quality/distortion trade-off of linear latent-block models
    :math:`y = Az`: for each :math:`\\lambda` (in the order given; sort them
    increasingly) minimise

    .. math:: W_2^2\\big(\\mathcal N(0, AA^\\top), \\mathcal N(0, \\Sigma)\\big)
              + \\lambda \\sum_a 2\\|A_{b \\ne a,\\, a}\\|_F^2,

    the Lagrangian relaxation of the LDBR problem (quality in place of the hard
    Definition 1 constraint, as SSN training does with :math:`\\lambda_D`, eq. 2).
    With :math:`W_2^2 = \\|A\\|_F^2 + \\mathrm{tr}\\,\\Sigma - 2\\|\\Sigma^{1/2}A\\|_*`
    (nuclear norm) the objective and its gradient are closed forms; L-BFGS
    (SciPy) minimises it, each :math:`\\lambda` starting from the previous solution
    and the first from :math:`A = \\Sigma^{1/2}` (an exact model). Deterministic.
    As :math:`\\lambda \\to 0^+` the solutions approach the exact LDBR optimum among
    linear models: :math:`A = \\Sigma^{1/2} Q` with the orthogonal :math:`Q` of least
    distortion; as :math:`\\lambda \\to \\infty`, a block-diagonal :math:`A`."""
    from scipy.optimize import minimize

    root = sqrtm_psd(cov)
    off = 1.0 - latent_block_mask(partition)
    trace = float(np.trace(cov))
    a = root.copy()
    out = []
    for lam in lambdas:
        res = minimize(_relaxed_objective, a.ravel(), args=(root, off, float(lam), trace),
                       jac=True, method="L-BFGS-B",
                       options={"maxiter": max_iter, "gtol": gtol, "ftol": 1e-15,
                                "maxcor": 30})
        a = res.x.reshape(a.shape)
        w2 = gaussian_w2(np.zeros(len(cov)), a @ a.T, np.zeros(len(cov)), cov)
        out.append(ParetoPoint(float(lam), a.copy(), w2,
                               float(linear_latent_distortion(a, partition).sum()),
                               int(res.nit)))
    return out
