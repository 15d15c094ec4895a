"""The price of consistency: how strongly two blocks of a latent-block generator's images can
be correlated, given how much each block moves when the *other* blocks are redrawn.

This bound is ours (the paper names the trade-off in words: small changes outside the
resampled block "are needed to keep global consistency", section 4). Let g(z) be a generator
whose randomness is independent blocks z_1..z_n and noise maps xi, and let s_b(z) be a number
read from block b's pixels (here: the mean of one colour channel over the block). Write

    V_b = Var s_b,    L_b = 1/2 sum_{a != b} E[(s_b(z^a) - s_b(z))^2] + 1/2 E[(s_b(xi') - s_b)^2]

(z^a: block a redrawn; xi': the noise redrawn; L_b is the part of s_b that blocks other than b
and the noise move), lambda_b = L_b / V_b (the **relative leak**) and rho_bc the correlation of
s_b and s_c. Then, for every pair of blocks b != c and every generator,

    |rho_bc| <= sqrt(lambda_b) + sqrt(lambda_c).                                     (1)

Proof (the ANOVA, or Hoeffding, decomposition): with independent inputs, s_b = sum_S f_S and
s_c = sum_S h_S, orthogonal terms, one per set S of inputs, with 1/2 E[(s_b - s_b^a)^2] =
sum_{S contains a} ||f_S||^2 (the Efron-Stein identity). Every S other than {b} contains some
input a != b, so L_b >= R_b = sum_{S != {b}} ||f_S||^2, and likewise L_c >= R_c. Then
Cov(s_b, s_c) = sum_S <f_S, h_S> splits into the S = {b} term, at most sqrt(V_b R_c) since
{b} != {c}, and the rest, at most sqrt(R_b V_c) (Cauchy-Schwarz, twice). Divide by
sqrt(V_b V_c).

Averaging (1) squared over ordered pairs, rho^2 <= 2 (lambda_b + lambda_c), gives

    mean_b lambda_b >= 1/4 mean_{b != c} rho_bc^2.                                    (2)

So a generator whose blocks do not leak (lambda = 0) draws blocks that are *uncorrelated*: the
sky's colour in one corner says nothing about the other. A dataset whose blocks are correlated
(a night sky is dark everywhere) demands, of any generator that reproduces it, at least the
relative leak on the right of (2). The paper's distortion caps the leak from above: by Jensen,
mean over channels and blocks of L_b (its z part) <= (n - 1) / 2 x distortion.

Since L_b = lambda_b V_b, a generator can cut its leak two ways: by keeping each block's
change at home (a smaller lambda) or by varying less (a smaller V). ``consistency`` reports
both factors, so a distortion cut can be read as locality or as lost variety.

The other half of Efron-Stein, V_b <= L_b + 1/2 E[(s_b(z^b) - s_b(z))^2], holds too
(``efron_stein``, >= 1 up to sampling error): a check that the pass is measured right.

Eq. 2 charges the leak itself, so a floor on L, not on lambda, says what eq. 2 must at least
pay. The proof of (1) bounds the covariance, C_bc <= sqrt(V_b L_c) + sqrt(L_b V_c); squared,
C_bc^2 <= 2 (V_b L_c + L_b V_c), and summed over ordered pairs b != c (sum_{b != c} V_b L_c
<= sum_b V_b sum_c L_c):

    mean_b L_b >= (n - 1) / (4 n) x mean_{b != c} C_bc^2 / mean_b V_b.               (3)

A global latent u, kept when a block is redrawn, leaves the blocks independent *given u*, so
(1) to (3) hold for the conditional law, and the leak a block resample measures is the mean
over u of the conditional leaks: the floor (3) becomes the mean over u of the within-u
covariances and variances. ``conditional_consistency`` reads it from data with a label (a
procedural dataset's time of day, say) standing for u: how much of the blocks' variance and
correlation a global latent that carried that label would take off eq. 2's bill.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from ssnlib.blocks import BlockGrid, grid_of
from ssnlib.metrics.block_pass import BlockPass, block_means, block_pass


def block_covariances(stats: torch.Tensor) -> torch.Tensor:
    """Covariance of every pair of blocks' statistics, per channel: [N, C, n] -> [C, n, n]."""
    x = stats.double() - stats.double().mean(0)
    return torch.einsum("icb,icd->cbd", x, x) / (len(x) - 1)


def block_correlations(stats: torch.Tensor) -> torch.Tensor:
    """Correlation of every pair of blocks' statistics, per channel: [N, C, n] -> [C, n, n]."""
    cov = block_covariances(stats)
    sd = cov.diagonal(dim1=1, dim2=2).clamp(min=1e-30).sqrt()
    return cov / (sd[:, :, None] * sd[:, None, :])


def mean_square_off_diagonal(rho: torch.Tensor) -> float:
    """mean over channels and ordered pairs b != c of rho_bc^2 (the right side of (2) x 4)."""
    n = rho.shape[-1]
    off = ~torch.eye(n, dtype=torch.bool)
    return float(rho[:, off].square().mean())


def consistency(G, count: int, seed: int = 0, batch: int = 8) -> dict:
    """Both sides of bounds (1) and (2) for ``G`` on ``count`` samples (module docstring).

    Returns ``mean_rho2`` (mean squared correlation between blocks), ``mean_leak`` (mean
    relative leak lambda) and its two factors ``mean_abs_leak`` (L) and ``mean_var`` (V),
    ``own_share`` (mean of a block's own Efron-Stein term over V), ``bound_rho2`` (4 x
    mean_leak, the most (2) allows), ``leak_floor`` (the least mean L that (3) allows for
    these covariances), ``holds`` (the share of pairs and channels where (1)
    holds; short of 1 only by sampling error), ``noise_share`` (the part of L that the noise
    moves), ``efron_stein`` (mean of (L + own) / V, >= 1), and per-block maps ``leak`` [n]
    and ``rho`` [n, n] (means over channels) for figures. Means run over blocks and colour
    channels."""
    grid_of(G, need="the consistency bound")
    return consistency_scores(block_pass(G, count, seed, batch, noise=True))


def consistency_scores(p: BlockPass) -> dict:
    """The scores of :func:`consistency` from a resampling pass that redrew the noise."""
    if not p.noise:
        raise ValueError("the consistency bound needs a resampling pass with the noise "
                         "redrawn (block_pass(..., noise=True))")
    return {**summarise(p.stats, p.changes), "grid": list(p.grid)}


def summarise(stats: torch.Tensor, changes: torch.Tensor) -> dict:
    """Bounds (1) and (2) from block means ``stats`` [N, C, n] and squared changes ``changes``
    [N, C, n + 1, n] (see :class:`~ssnlib.metrics.block_pass.BlockPass`)."""
    n = stats.shape[-1]
    half = 0.5 * changes.double().mean(0)                       # [C, n + 1 sources, n targets]
    own = half[:, :n].diagonal(dim1=1, dim2=2)                  # [C, n]
    leak = half.sum(1) - own                                    # L_b: other blocks + noise
    var = stats.double().var(0).clamp(min=1e-30)                # V_b  [C, n]
    lam = leak / var
    rho = block_correlations(stats)
    off = ~torch.eye(n, dtype=torch.bool)
    bound = lam.sqrt()[:, :, None] + lam.sqrt()[:, None, :]     # right side of (1)
    return {"mean_rho2": mean_square_off_diagonal(rho), "mean_leak": float(lam.mean()),
            "mean_var": float(var.mean()), "mean_abs_leak": float(leak.mean()),
            "own_share": float((own / var).mean()),
            "bound_rho2": 4 * float(lam.mean()), "leak_floor": leak_floor(stats),
            "holds": float((rho.abs() <= bound)[:, off].double().mean()),
            "noise_share": float(half[:, n].sum() / leak.sum().clamp(min=1e-30)),
            "efron_stein": float(((leak + own) / var).mean()),
            "leak": lam.mean(0).round(decimals=4).tolist(),
            "rho": rho.mean(0).round(decimals=4).tolist(),
            "count": len(stats)}


def leak_floor(stats: torch.Tensor) -> float:
    """The right side of (3), per colour channel and then averaged over channels: the least
    mean absolute leak L of any latent-block generator whose block statistics ``stats``
    [N, C, n] covary as these do."""
    n = stats.shape[-1]
    cov = block_covariances(stats)                                           # [C, n, n]
    off = ~torch.eye(n, dtype=torch.bool)
    var = cov.diagonal(dim1=1, dim2=2).mean(1).clamp(min=1e-30)              # [C]
    return float(((n - 1) / (4 * n) * cov[:, off].square().mean(1) / var).mean())


def conditional_consistency(stats: torch.Tensor, labels: torch.Tensor) -> dict:
    """The data's side given a label [N] (a global latent's stand-in, module docstring):
    means over label values, weighted by their counts, of ``mean_rho2``, ``mean_var`` and
    ``leak_floor`` within each value, and ``var_share``, the within variance over the whole.
    Values with fewer than two images have no variance and are left out (``count``)."""
    values, counts = labels.unique(return_counts=True)
    kept = [(v, int(c)) for v, c in zip(values.tolist(), counts.tolist(), strict=True) if c > 1]
    if not kept:
        raise ValueError("every label value has a single image: nothing varies within one")
    total = sum(c for _, c in kept)
    out = {"mean_rho2": 0.0, "mean_var": 0.0, "leak_floor": 0.0}
    for value, c in kept:
        group = stats[labels == value]
        out["mean_rho2"] += c / total * mean_square_off_diagonal(block_correlations(group))
        out["mean_var"] += c / total * float(group.double().var(0).mean())
        out["leak_floor"] += c / total * leak_floor(group)
    out["var_share"] = out["mean_var"] / float(stats.double().var(0).mean())
    return {**out, "values": len(kept), "count": total}


def data_consistency(images: Iterable[torch.Tensor], grid: BlockGrid,
                     given: dict[str, torch.Tensor] | None = None) -> dict:
    """The data's side of (2) and (3), from batches of images [B, C, H, W]: ``mean_rho2``
    between blocks, ``needed_leak`` = mean_rho2 / 4 (the least mean relative leak of any
    latent-block generator whose blocks correlate as the data's do), ``leak_floor`` (the
    least mean leak L, (3)), ``mean_var`` (block means' variance, as :func:`consistency`
    reports it) and ``rho`` [n, n] (mean over channels). ``given`` maps names to labels [N],
    one per image in order; each gets :func:`conditional_consistency` under ``"given"``."""
    stats = torch.cat([block_means(batch, grid) for batch in images])
    rho = block_correlations(stats)
    r2 = mean_square_off_diagonal(rho)
    out = {"mean_rho2": r2, "needed_leak": r2 / 4, "leak_floor": leak_floor(stats),
           "mean_var": float(stats.double().var(0).mean()),
           "rho": rho.mean(0).round(decimals=4).tolist(),
           "grid": [grid.n_h, grid.n_w], "count": len(stats)}
    for name, labels in (given or {}).items():
        if labels.shape != (len(stats),):
            raise ValueError(f"labels {name!r} have shape {tuple(labels.shape)}, expected "
                             f"one per image ({len(stats)},)")
        out.setdefault("given", {})[name] = conditional_consistency(stats, labels)
    return out
