"""Latent-block models over binary images: :math:`y = g(z)`, with independent
latent blocks :math:`z_1, \\dots, z_{n_\\text{blocks}}`, one per image block.

Section 3 of the paper: let :math:`\\hat P` be the law of :math:`g(z)`,
:math:`z \\sim P_Z` with independent blocks. Resampling image block ``a`` means
redrawing :math:`z_a` from its law and keeping every other :math:`z_b`, then
decoding. A sweep over all blocks redraws every :math:`z_b` once, i.e. draws a
fresh :math:`z`, so the end image is a fresh sample of :math:`\\hat P` whatever
the start: these kernels are a block-resampling of :math:`\\hat P` (Definition 1)
*by construction*, in every order. Whether they are one of the target
:math:`P` depends only on :math:`\\hat P = P`; their distortion depends on how
far :math:`z_a` reaches outside block ``a`` through :math:`g`.

The chain keeps :math:`z` alongside the image (as an SSN does). The latent state
space (all combinations of block values, mixed radix with block 0 fastest) must
stay small for the dense matrices; :meth:`LatentBlockModel.distortion` works
without them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .discrete import (
    ImageLaw,
    _orders,
    all_images,
    block_bits,
    hamming_outside,
    total_variation,
)
from .partition import BlockPartition

MAX_LATENT_STATES = 2_000_000
MAX_DENSE_STATES = 4096


@dataclass(frozen=True)
class LatentBlockModel:
    """A decoder ``decoder[z] = state of g(z)`` over a finite latent space.

    ``latent_probs[a]`` is the law of latent block :math:`z_a` (a probability
    vector over its values); latent block ``a`` belongs to image block
    ``partition[a]`` (distortion is measured outside it)."""

    latent_probs: tuple[np.ndarray, ...]
    decoder: np.ndarray
    partition: BlockPartition

    def __post_init__(self) -> None:
        probs = tuple(np.asarray(p, dtype=float) for p in self.latent_probs)
        if len(probs) != self.partition.n_blocks:
            raise ValueError("one latent block per image block")
        if any(p.ndim != 1 or (p < 0).any() or not np.isclose(p.sum(), 1) for p in probs):
            raise ValueError("every latent block needs a probability vector")
        sizes = [p.size for p in probs]
        n_z = int(np.prod(sizes))
        dec = np.asarray(self.decoder, dtype=np.int64)
        if n_z > MAX_LATENT_STATES or dec.shape != (n_z,):
            raise ValueError(f"decoder must list the image of all {n_z} latent states "
                             f"(at most {MAX_LATENT_STATES})")
        if dec.min() < 0 or dec.max() >= 2**self.partition.n_pixels:
            raise ValueError("decoder outputs must be image states")
        object.__setattr__(self, "latent_probs", probs)
        object.__setattr__(self, "decoder", dec)

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(p.size for p in self.latent_probs)

    @property
    def n_latent_states(self) -> int:
        return int(np.prod(self.sizes))

    @property
    def n_states(self) -> int:
        return 2**self.partition.n_pixels

    def latent_digits(self) -> np.ndarray:
        """``[Z, n_blocks]``: the value of every latent block in every latent state."""
        z = np.arange(self.n_latent_states)
        strides = np.cumprod((1, *self.sizes[:-1]))
        return (z[:, None] // strides[None, :]) % np.array(self.sizes)[None, :]

    def latent_prob(self) -> np.ndarray:
        """:math:`P_Z(z) = \\prod_a P(z_a)` for every latent state."""
        d = self.latent_digits()
        return np.prod([p[d[:, a]] for a, p in enumerate(self.latent_probs)], axis=0)

    def law(self) -> ImageLaw:
        """:math:`\\hat P`: the push-forward of :math:`P_Z` through :math:`g`."""
        p = np.bincount(self.decoder, weights=self.latent_prob(), minlength=self.n_states)
        return ImageLaw(p, self.partition.shape)

    def _strides(self) -> np.ndarray:
        return np.cumprod((1, *self.sizes[:-1]))

    def _dense_check(self) -> None:
        if self.n_latent_states > MAX_DENSE_STATES:
            raise ValueError(f"{self.n_latent_states} latent states: too many for dense "
                             f"matrices (at most {MAX_DENSE_STATES})")

    def latent_kernel(self, a: int) -> np.ndarray:
        """``[Z, Z]``: redraw :math:`z_a \\sim P(z_a)`, keep every :math:`z_b`, b != a."""
        self._dense_check()
        d = self.latent_digits()
        others = np.delete(d, a, axis=1)
        same = (others[:, None, :] == others[None, :, :]).all(axis=2)
        return same * self.latent_probs[a][d[:, a]][None, :]

    def decode_matrix(self) -> np.ndarray:
        """``G[z, y] = 1`` when :math:`g(z) = y`."""
        self._dense_check()
        g = np.zeros((self.n_latent_states, self.n_states))
        g[np.arange(self.n_latent_states), self.decoder] = 1.0
        return g

    def sweep_end_laws(self, order: Sequence[int] | None = None) -> np.ndarray:
        """``[Z, 2**n]``: the law of the end image :math:`g(z^*)` given the start
        latent :math:`z^{(0)}`, after resampling every latent block in ``order``."""
        order = range(self.partition.n_blocks) if order is None else order
        k = None
        for a in order:
            k = self.latent_kernel(a) if k is None else k @ self.latent_kernel(a)
        return k @ self.decode_matrix()

    def definition1_gap(self, target: ImageLaw | None = None,
                        orders: str | Iterable[Sequence[int]] = "given") -> float:
        """Worst TV distance, over starts :math:`z^{(0)}` of positive probability and
        the sweep orders asked for, between the end-image law and ``target``
        (default: the model's own law :math:`\\hat P`, for which it is 0 by
        construction; for a target :math:`P` it equals :math:`\\mathrm{TV}(\\hat P, P)`)."""
        target = self.law() if target is None else target
        pz = self.latent_prob()
        gaps = [total_variation(self.sweep_end_laws(o), target.probs)[pz > 0].max()
                for o in _orders(self.partition.n_blocks, orders)]
        return float(max(gaps))

    def image_kernel(self, a: int) -> np.ndarray:
        """The image-space kernel of "resample latent block a" when only the image is
        kept: infer :math:`z \\sim P(z \\mid y)`, redraw :math:`z_a`, decode. It leaves
        :math:`\\hat P` stationary; it equals the latent chain's kernel when :math:`g` is
        one-to-one. Rows of images outside the support of :math:`\\hat P` stay put."""
        g = self.decode_matrix()
        joint = self.latent_prob()[:, None] * g  # [Z, Y]
        py = joint.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            post = np.where(py[:, None] > 0, joint.T / py[:, None], 0.0)  # [Y, Z]
        kern = post @ self.latent_kernel(a) @ g
        stay = py == 0
        kern[stay] = 0.0
        kern[stay, np.flatnonzero(stay)] = 1.0
        return kern

    def distortion(self, a: int) -> float:
        """Expected number of pixels outside block ``a`` that change when latent block
        ``a`` is redrawn, :math:`\\mathbb E_{z, z'_a} \\sum_{b \\ne a} D(g(z)_b, g(z')_b)`,
        with :math:`z \\sim P_Z` (the model's own law, as in eq. 2). Exact, and
        without dense matrices."""
        d = self.latent_digits()
        pz = self.latent_prob()
        base = np.arange(self.n_latent_states) - d[:, a] * self._strides()[a]
        total = 0.0
        for v, pv in enumerate(self.latent_probs[a]):
            if pv == 0:
                continue
            moved = self.decoder[base + v * self._strides()[a]]
            total += pv * float(pz @ hamming_outside(self.decoder, moved, self.partition, a))
        return total

    def ldbr_objective(self) -> float:
        """Sum over blocks of :meth:`distortion`."""
        return float(sum(self.distortion(a) for a in range(self.partition.n_blocks)))

    def sample_latents(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``[n, n_blocks]`` latent digits drawn from :math:`P_Z`."""
        return np.stack([rng.choice(p.size, size=n, p=p) for p in self.latent_probs], axis=1)

    def decode(self, digits: np.ndarray) -> np.ndarray:
        """Image states of ``[..., n_blocks]`` latent digits."""
        return self.decoder[(np.asarray(digits) * self._strides()).sum(axis=-1)]

    def resample(self, digits: np.ndarray, a: int, rng: np.random.Generator) -> np.ndarray:
        """Monte Carlo: a copy of ``digits`` with block ``a`` redrawn."""
        out = np.array(digits, copy=True)
        out[:, a] = rng.choice(self.sizes[a], size=out.shape[0], p=self.latent_probs[a])
        return out


def independent_blocks_model(law: ImageLaw, partition: BlockPartition) -> LatentBlockModel:
    """The most local latent model: :math:`z_a` *is* block :math:`a`, drawn from the
    target's block marginal, :math:`g(z) = (z_1, \\dots, z_n)`. Zero distortion, but
    its law is the product of the block marginals, not ``law`` (unless the blocks
    are independent)."""
    images = all_images(law.n_pixels)
    probs = []
    for a in range(partition.n_blocks):
        local = state_of_block(images, partition, a)
        probs.append(np.bincount(local, weights=law.probs, minlength=2 ** len(partition[a])))
    model_digits = _all_digits([p.size for p in probs])
    decoder = np.zeros(len(model_digits), dtype=np.int64)
    for a, block in enumerate(partition):
        for j, pix in enumerate(block):
            decoder |= ((model_digits[:, a] >> j) & 1) << pix
    return LatentBlockModel(tuple(probs), decoder, partition)


def state_of_block(images: np.ndarray, partition: BlockPartition, a: int) -> np.ndarray:
    """The local value (bit ``j`` = ``j``-th pixel of the block) of block ``a``."""
    block = list(partition[a])
    return (images[:, block].astype(np.int64) << np.arange(len(block))).sum(axis=1)


def _all_digits(sizes: Sequence[int]) -> np.ndarray:
    z = np.arange(int(np.prod(sizes)))
    strides = np.cumprod((1, *sizes[:-1]))
    return (z[:, None] // strides[None, :]) % np.array(sizes)[None, :]


def autoregressive_model(law: ImageLaw, partition: BlockPartition,
                         decimals: int = 12) -> LatentBlockModel:
    """An *exact* latent-block model of ``law``: the block-wise inverse-CDF
    (Rosenblatt) decoder. Latent :math:`z_a` is a uniform number :math:`u_a` on
    [0, 1); block ``a`` is the inverse conditional CDF of
    :math:`P(y_a \\mid y_1, \\dots, y_{a-1})` at :math:`u_a`. Only which interval
    between the conditional CDF values :math:`u_a` falls in matters, so each
    :math:`z_a` is that interval (a finite variable with the intervals' lengths as
    probabilities) and :math:`\\hat P = P` exactly.

    Redrawing :math:`z_a` changes block ``a`` and, through the changed past, possibly
    every *later* block (the same :math:`u_b` read through a different conditional
    CDF), never an earlier one: exact, but lopsidedly non-local. The discrete
    cousin of a Cholesky factor."""
    n = law.n_pixels
    images = all_images(n)
    cdfs, breaks = [], []
    before = 0  # bit mask of the blocks already decoded
    for a in range(partition.n_blocks):
        local = state_of_block(images, partition, a)
        width = 2 ** len(partition[a])
        table = np.zeros((law.n_states, width))
        np.add.at(table, (np.arange(law.n_states) & before, local), law.probs)
        mass = table.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            cdf = np.where(mass[:, None] > 0, np.cumsum(table, axis=1) / mass[:, None], 1.0)
        inner = np.round(cdf[mass > 0, :-1], decimals).ravel()
        cuts = np.unique(np.concatenate([[0.0, 1.0], inner[(inner > 0) & (inner < 1)]]))
        cdfs.append(cdf)
        breaks.append(cuts)
        before |= block_bits(partition, a)
    probs = tuple(np.diff(c) for c in breaks)
    digits = _all_digits([p.size for p in probs])
    if len(digits) > MAX_LATENT_STATES:
        raise ValueError(f"{len(digits)} latent states: use fewer or larger blocks")
    y = np.zeros(len(digits), dtype=np.int64)
    for a, block in enumerate(partition):
        u = 0.5 * (breaks[a][:-1] + breaks[a][1:])[digits[:, a]]  # interval midpoints
        cdf = np.round(cdfs[a][y][:, :-1], decimals)
        value = (cdf < u[:, None]).sum(axis=1)
        for j, pix in enumerate(block):
            y |= ((value >> j) & 1) << pix
    return LatentBlockModel(probs, y, partition)
