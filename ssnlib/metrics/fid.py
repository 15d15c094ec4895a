"""Fréchet distance between Gaussians fitted to features: FID (Heusel et al. 2017).

    FID = ||mu_1 - mu_2||^2 + tr(S_1 + S_2 - 2 (S_1 S_2)^{1/2})

computed in float64. The trace of the matrix square root uses that S_1 S_2 is similar to the
symmetric S_1^{1/2} S_2 S_1^{1/2}: tr (S_1 S_2)^{1/2} is the sum of the square roots of that
matrix's eigenvalues (clipped at 0). It equals the real part of the trace of
``scipy.linalg.sqrtm(S_1 @ S_2)`` used by pytorch-fid and stylegan2-ada (checked in the tests),
is several times faster for 2048-d features and stays accurate when a covariance from fewer
samples than dimensions is singular. Its value depends on the
feature network: Inception FIDs are comparable with the literature only at the usual 50k
samples, domain-network FIDs only with each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg
import torch


@dataclass
class GaussianStats:
    """Mean [D] and covariance [D, D] (float64) of ``n`` feature vectors."""

    mu: np.ndarray
    sigma: np.ndarray
    n: int

    @classmethod
    def of(cls, features: torch.Tensor | np.ndarray) -> GaussianStats:
        x = np.asarray(features, dtype=np.float64)
        if x.ndim != 2 or x.shape[0] < 2:
            raise ValueError(f"need features [N >= 2, D], got shape {x.shape}")
        return cls(x.mean(0), np.cov(x, rowvar=False), x.shape[0])


def _psd_sqrt(sigma: np.ndarray) -> np.ndarray:
    values, vectors = scipy.linalg.eigh(sigma)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """``tr (sigma1 sigma2)^{1/2}`` for symmetric positive semi-definite matrices."""
    root1 = _psd_sqrt(sigma1)
    values = scipy.linalg.eigvalsh(root1 @ sigma2 @ root1)
    return float(np.sqrt(np.clip(values, 0, None)).sum())


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray,
                     sigma2: np.ndarray) -> float:
    """The Fréchet (2-Wasserstein) distance between N(mu1, sigma1) and N(mu2, sigma2)."""
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise ValueError(f"shape mismatch: {mu1.shape} vs {mu2.shape}, "
                         f"{sigma1.shape} vs {sigma2.shape}")
    trace = np.trace(sigma1) + np.trace(sigma2) - 2 * trace_sqrt_product(sigma1, sigma2)
    return float(np.square(mu1 - mu2).sum() + trace)


def fid(a: GaussianStats, b: GaussianStats) -> float:
    """FID between two :class:`GaussianStats` (clipped at 0 against round-off)."""
    return max(frechet_distance(a.mu, a.sigma, b.mu, b.sigma), 0.0)
