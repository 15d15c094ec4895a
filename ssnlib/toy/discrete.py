"""Exact laws over all binary images of a few pixels, and block-resampling kernels
as transition matrices.

An image of ``n`` binary pixels is a *state* ``k`` in ``0 .. 2**n - 1``: pixel ``i``
(row-major) is bit ``i`` of ``k``. A law is a probability vector over the
``2**n`` states, a kernel :math:`P^a(y' \\mid y)` a row-stochastic ``[2**n, 2**n]``
matrix, and resampling the blocks in order ``a_1, ..., a_m`` is the matrix
product :math:`K = P^{a_1} P^{a_2} \\cdots P^{a_m}` (row ``y`` of ``K`` is the law of
the end image given the start ``y``).

**Definition 1** (block-resampling, section 2 of the paper). Kernels
:math:`\\{P^a\\}_{a=1}^{n_\\text{blocks}}` form a block-resampling of :math:`P` if,
starting from :math:`y^{(0)} \\sim P` and applying :math:`P^1, \\dots,
P^{n_\\text{blocks}}` in turn, the end image :math:`y^*` is distributed as
:math:`P`. The paper's own gloss is stronger than the displayed formula: "we
obtain a *new independent* sample from P", in "an arbitrary order"; and its
argument that sequential inpainting fails looks at the law of :math:`y^*`
*given* the start. Taken literally (only the marginal law of :math:`y^*`), every
chain of :math:`P`-stationary kernels, inpainting included, would qualify. So
here, as in the paper's argument, a block-resampling is a set of kernels whose
sweep ``K`` has **every row of a start in the support of P equal to P** (the end
image is a fresh sample whatever the start), for the sweep order(s) asked for.
:func:`end_law_gap` measures how far a sweep is from that, :func:`is_stationary`
checks the weak (marginal) property.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .partition import BlockPartition

MAX_PIXELS = 12  # 4096 states: dense transition matrices stay small


_POPCOUNT = np.array([bin(k).count("1") for k in range(2**MAX_PIXELS)], dtype=np.int64)


def popcount(x: np.ndarray) -> np.ndarray:
    """Number of set bits of non-negative integers below ``2**MAX_PIXELS``."""
    return _POPCOUNT[np.asarray(x, dtype=np.int64)]


def _check_pixels(n: int) -> None:
    if not 1 <= n <= MAX_PIXELS:
        raise ValueError(f"exact laws cover 1..{MAX_PIXELS} pixels, got {n}")


def all_images(n_pixels: int) -> np.ndarray:
    """``[2**n, n]`` array of 0/1: row ``k`` is the image of state ``k``."""
    _check_pixels(n_pixels)
    k = np.arange(2**n_pixels)
    return ((k[:, None] >> np.arange(n_pixels)[None, :]) & 1).astype(np.int8)


def state_of(images: np.ndarray) -> np.ndarray:
    """Inverse of :func:`all_images`: states of ``[..., n]`` 0/1 arrays."""
    images = np.asarray(images, dtype=np.int64)
    return (images << np.arange(images.shape[-1])).sum(axis=-1)


def block_bits(partition: BlockPartition, a: int) -> int:
    """Bit mask of block ``a``: the state bits of its pixels."""
    return int(sum(1 << i for i in partition[a]))


def total_variation(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """:math:`\\mathrm{TV}(p, q) = \\tfrac12 \\sum_y |p(y) - q(y)|` along the last axis
    (broadcasts, so rows of a kernel can be compared with one law at once)."""
    return 0.5 * np.abs(np.asarray(p) - np.asarray(q)).sum(axis=-1)


@dataclass(frozen=True)
class ImageLaw:
    """A probability vector ``probs`` over all ``2**(H*W)`` binary images of ``shape``."""

    probs: np.ndarray
    shape: tuple[int, int]

    def __post_init__(self) -> None:
        p = np.asarray(self.probs, dtype=float)
        n = self.shape[0] * self.shape[1]
        _check_pixels(n)
        if p.shape != (2**n,) or (p < 0).any() or not np.isclose(p.sum(), 1.0):
            raise ValueError("probs must be a probability vector over 2**(H*W) states")
        p = p / p.sum()
        p.setflags(write=False)
        object.__setattr__(self, "probs", p)
        object.__setattr__(self, "shape", (int(self.shape[0]), int(self.shape[1])))

    @property
    def n_pixels(self) -> int:
        return self.shape[0] * self.shape[1]

    @property
    def n_states(self) -> int:
        return 2**self.n_pixels

    @property
    def images(self) -> np.ndarray:
        """``[2**n, H, W]`` 0/1 images in state order."""
        return all_images(self.n_pixels).reshape(-1, *self.shape)

    @property
    def support(self) -> np.ndarray:
        return self.probs > 0

    def marginals(self) -> np.ndarray:
        """:math:`P(y_i = 1)` for every pixel, ``[n]``."""
        return self.probs @ all_images(self.n_pixels)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` i.i.d. states (integers) drawn with ``rng``."""
        return rng.choice(self.n_states, size=n, p=self.probs)


def two_pixel_law(rho: float = 1.0) -> ImageLaw:
    """Two pixels, one row: :math:`P(0,0) = P(1,1) = (1+\\rho)/4`,
    :math:`P(0,1) = P(1,0) = (1-\\rho)/4`; ``rho`` is the pixels' correlation.
    ``rho = 1`` is the paper's example (section 2): :math:`P(1,1) = P(0,0) = 1/2`."""
    if not -1 <= rho <= 1:
        raise ValueError(f"rho must lie in [-1, 1], got {rho}")
    same, diff = (1 + rho) / 4, (1 - rho) / 4
    # states: 0 = (0,0), 1 = (1,0), 2 = (0,1), 3 = (1,1)  (pixel 0 is bit 0)
    return ImageLaw(np.array([same, diff, diff, same]), (1, 2))


def ising_law(shape: tuple[int, int], beta: float, field: float = 0.0) -> ImageLaw:
    """The Ising law on a small grid with 4-neighbour bonds:
    :math:`P(y) \\propto \\exp(\\beta \\sum_{i \\sim j} s_i s_j + h \\sum_i s_i)`,
    :math:`s = 2y - 1`. ``beta = 0`` gives independent pixels; larger ``beta``
    makes neighbours agree (at large ``beta``, "all black or all white")."""
    h, w = shape
    n = h * w
    s = 2.0 * all_images(n) - 1.0
    idx = np.arange(n).reshape(h, w)
    pairs = [(idx[:, :-1], idx[:, 1:]), (idx[:-1, :], idx[1:, :])]
    energy = field * s.sum(axis=1)
    for i, j in pairs:
        energy = energy + beta * (s[:, i.ravel()] * s[:, j.ravel()]).sum(axis=1)
    p = np.exp(energy - energy.max())
    return ImageLaw(p / p.sum(), (h, w))


def independent_law(marginals: Sequence[float], shape: tuple[int, int]) -> ImageLaw:
    """Independent pixels with :math:`P(y_i = 1) = m_i`."""
    m = np.asarray(marginals, dtype=float).reshape(-1)
    x = all_images(m.size)
    return ImageLaw(np.prod(np.where(x == 1, m, 1 - m), axis=1), shape)


# --------------------------------------------------------------------------- kernels


def fresh_kernel(law: ImageLaw) -> np.ndarray:
    """"Resample everything": :math:`P^a(\\cdot \\mid y) = P` for every start. Every
    row is the law, so any sweep of these kernels is a block-resampling (Definition
    1), the trivial one the paper mentions, at the price of large distortion."""
    return np.tile(law.probs, (law.n_states, 1))


def inpainting_kernel(law: ImageLaw, partition: BlockPartition, a: int) -> np.ndarray:
    """Inpainting block ``a``: draw :math:`y'_a \\sim P(y_a \\mid y_{b \\ne a})` and keep
    every other block exactly, :math:`y'_b = y_b`.

    A start whose other blocks have probability 0 under ``law`` has no
    conditional; such rows stay put (identity), which never matters for starts
    drawn from ``law``. Each inpainting kernel leaves ``law`` stationary (it is
    one Gibbs-sampler step)."""
    if partition.n_pixels != law.n_pixels:
        raise ValueError("partition and law have different numbers of pixels")
    k = np.arange(law.n_states)
    rest = k & ~block_bits(partition, a)  # the state with block a blanked
    denom = np.bincount(rest, weights=law.probs, minlength=law.n_states)[rest]
    same_rest = rest[:, None] == rest[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        kern = np.where(same_rest, law.probs[None, :] / denom[:, None], 0.0)
    undefined = denom == 0
    kern[undefined] = 0.0
    kern[undefined, k[undefined]] = 1.0
    return kern


def sweep(kernels: Sequence[np.ndarray], order: Sequence[int] | None = None) -> np.ndarray:
    """The kernel of one sequential pass :math:`P^{a_1} P^{a_2} \\cdots P^{a_m}`
    (apply ``kernels[order[0]]`` first). Row ``y`` is the law of the end image
    :math:`y^*` given the start :math:`y^{(0)} = y`."""
    order = range(len(kernels)) if order is None else order
    out = None
    for a in order:
        out = kernels[a] if out is None else out @ kernels[a]
    if out is None:
        raise ValueError("empty sweep")
    return out


def is_stochastic(kernel: np.ndarray, atol: float = 1e-10) -> bool:
    """Non-negative entries and rows summing to one."""
    k = np.asarray(kernel)
    return bool((k >= -atol).all() and np.allclose(k.sum(axis=1), 1.0, atol=atol))


def is_stationary(kernel: np.ndarray, law: ImageLaw | np.ndarray, atol: float = 1e-10) -> bool:
    """:math:`P K = P`: starting from a sample of ``law`` one step leaves its law
    unchanged (the weak, marginal reading of Definition 1)."""
    p = law.probs if isinstance(law, ImageLaw) else np.asarray(law)
    return bool(np.allclose(p @ kernel, p, atol=atol))


def end_law_gap(composed: np.ndarray, law: ImageLaw | np.ndarray, worst: bool = False,
                start: np.ndarray | None = None) -> float:
    """How far a sweep is from a block-resampling (Definition 1):
    :math:`\\mathbb E_{y^{(0)} \\sim P}\\, \\mathrm{TV}\\big(K(y^{(0)}, \\cdot), P\\big)`,
    the expected total-variation distance between the end law given the start and
    the target. ``worst=True`` takes the maximum over starts in the support
    instead. Zero exactly for a block-resampling. ``start`` (a probability vector,
    default ``law``) is the law the start is drawn from."""
    p = law.probs if isinstance(law, ImageLaw) else np.asarray(law)
    w = p if start is None else np.asarray(start)
    tv = total_variation(composed, p[None, :])
    if worst:
        return float(tv[w > 0].max())
    return float(w @ tv)


def _orders(n: int, orders: str | Iterable[Sequence[int]]) -> list[tuple[int, ...]]:
    if orders == "given":
        return [tuple(range(n))]
    if orders == "all":
        if n > 7:
            raise ValueError(f"{n}! orders is too many; pass an explicit list")
        return list(itertools.permutations(range(n)))
    return [tuple(o) for o in orders]


def definition1_gap(kernels: Sequence[np.ndarray], law: ImageLaw,
                    orders: str | Iterable[Sequence[int]] = "given") -> float:
    """Worst end-law gap (:func:`end_law_gap` with ``worst=True``) over the sweep
    orders asked for: ``"given"`` (``0, 1, ...``), ``"all"`` (every permutation;
    up to 7 blocks) or an explicit list of orders."""
    return max(end_law_gap(sweep(kernels, o), law, worst=True)
               for o in _orders(len(kernels), orders))


def is_block_resampling(kernels: Sequence[np.ndarray], law: ImageLaw,
                        orders: str | Iterable[Sequence[int]] = "given",
                        atol: float = 1e-9) -> bool:
    """Definition 1 (strong reading, see the module docstring): for each sweep
    order asked for, every start in the support of ``law`` ends at a fresh sample
    of ``law``."""
    return definition1_gap(kernels, law, orders) <= atol


# ------------------------------------------------------------------------- distortion


def changed_pixels(n_pixels: int, pixels: Sequence[int] | np.ndarray) -> np.ndarray:
    """``H[y, y']``: how many of ``pixels`` differ between states ``y`` and ``y'``
    (the Hamming distance on those pixels; for 0/1 pixels it is also the
    squared Euclidean distance)."""
    mask = int(sum(1 << int(i) for i in pixels))
    k = np.arange(2**n_pixels)
    diff = (k[:, None] ^ k[None, :]) & mask
    return popcount(diff).astype(float)


def distortion(kernel: np.ndarray, partition: BlockPartition, a: int,
               start: ImageLaw | np.ndarray) -> float:
    """Expected distortion of ``kernel`` outside block ``a``, the inner term of the
    LDBR objective (section 2):

    .. math:: \\mathbb E_{y \\sim P}\\, \\mathbb E_{y' \\sim P^a(\\cdot \\mid y)}
              \\sum_{b \\ne a} D(y_b, y'_b),

    with :math:`D` the number of changed pixels (Hamming distance). ``start`` is
    the law of :math:`y` (the target :math:`P` in the paper)."""
    p = start.probs if isinstance(start, ImageLaw) else np.asarray(start)
    ham = changed_pixels(partition.n_pixels, partition.outside(a))
    return float(p @ (kernel * ham).sum(axis=1))


def ldbr_objective(kernels: Sequence[np.ndarray], partition: BlockPartition,
                   start: ImageLaw | np.ndarray) -> float:
    """The LDBR objective: the sum over blocks ``a`` of :func:`distortion`."""
    return float(sum(distortion(k, partition, a, start) for a, k in enumerate(kernels)))


def fresh_distortion(law: ImageLaw, partition: BlockPartition, a: int) -> float:
    """Closed form of :func:`distortion` for :func:`fresh_kernel`: ``y`` and ``y'``
    are independent draws of ``law``, so pixel ``i`` differs with probability
    :math:`2 m_i (1 - m_i)`, :math:`m_i = P(y_i = 1)`; sum over pixels outside
    block ``a``. For a law symmetric under flipping colours it is half the number
    of pixels outside the block."""
    m = law.marginals()[partition.outside(a)]
    return float((2 * m * (1 - m)).sum())


# ------------------------------------------------------------------------- simulation


def simulate(kernels: Sequence[np.ndarray], starts: np.ndarray, rng: np.random.Generator,
             order: Sequence[int] | None = None) -> np.ndarray:
    """Monte Carlo of a sweep: draw each step from the kernel rows. ``starts`` is
    an integer array of start states; returns the trajectory ``[steps + 1, N]``
    (row 0 is the start)."""
    order = range(len(kernels)) if order is None else order
    y = np.asarray(starts, dtype=np.int64)
    path = [y]
    for a in order:
        cdf = np.cumsum(kernels[a][y], axis=1)
        u = rng.random(y.size)[:, None] * cdf[:, -1:]
        y = np.minimum((u >= cdf).sum(axis=1), cdf.shape[1] - 1)
        path.append(y)
    return np.stack(path)


def hamming_outside(y0: np.ndarray, y1: np.ndarray, partition: BlockPartition,
                    a: int) -> np.ndarray:
    """Number of pixels outside block ``a`` that differ between states ``y0``, ``y1``."""
    mask = int(sum(1 << int(i) for i in partition.outside(a)))
    diff = (np.asarray(y0, dtype=np.int64) ^ np.asarray(y1, dtype=np.int64)) & mask
    return popcount(diff).astype(float)
