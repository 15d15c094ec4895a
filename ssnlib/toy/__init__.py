"""Exact small distributions for chapters 1-2: the LDBR problem, computed exactly.

Three layers, all deterministic and vectorised (NumPy, float64):

- :mod:`ssnlib.toy.partition`: blocks of pixels (section 2 of the paper).
- :mod:`ssnlib.toy.discrete` and :mod:`ssnlib.toy.latent`: laws over *all* binary
  images of a few pixels (the paper's two-pixel example, Ising-like laws),
  block-resampling kernels as exact transition matrices (inpainting, resample
  everything, latent-block models ``y = g(z)``), the checks of Definition 1,
  distortion (the LDBR objective) and total variation, plus Monte Carlo
  simulation with ``numpy.random.Generator`` seeds to check the exact numbers.
- :mod:`ssnlib.toy.gaussian`: a correlated Gaussian image model where
  conditionals, sweeps, distortion and W2/KL distances are closed forms, and the
  quality/distortion trade-off of linear latent-block models (a toy "Table 2").

See the module docstrings for the mathematics, and chapters 1 and 2 of the book.
"""

from .discrete import (
    ImageLaw,
    all_images,
    changed_pixels,
    definition1_gap,
    distortion,
    end_law_gap,
    fresh_distortion,
    fresh_kernel,
    hamming_outside,
    independent_law,
    inpainting_kernel,
    is_block_resampling,
    is_stationary,
    is_stochastic,
    ising_law,
    ldbr_objective,
    simulate,
    state_of,
    sweep,
    total_variation,
    two_pixel_law,
)
from .gaussian import (
    GaussianKernel,
    ParetoPoint,
    block_diagonal_model,
    end_law_gap_gaussian,
    fresh_gaussian_kernel,
    gaussian_conditional,
    gaussian_inpainting_kernel,
    gaussian_kl,
    gaussian_sweep,
    gaussian_w2,
    grid_covariance,
    latent_reach,
    ldbr_pareto,
    linear_latent_distortion,
    linear_latent_kernel,
    sample_gaussian,
    sqrtm_psd,
)
from .latent import LatentBlockModel, autoregressive_model, independent_blocks_model
from .partition import BlockPartition, grid_blocks, pixel_blocks

__all__ = [
    "BlockPartition", "GaussianKernel", "ImageLaw", "LatentBlockModel", "ParetoPoint",
    "all_images", "autoregressive_model", "block_diagonal_model", "changed_pixels",
    "definition1_gap", "distortion", "end_law_gap", "end_law_gap_gaussian",
    "fresh_distortion", "fresh_gaussian_kernel", "fresh_kernel", "gaussian_conditional",
    "gaussian_inpainting_kernel", "gaussian_kl", "gaussian_sweep", "gaussian_w2",
    "grid_blocks", "grid_covariance", "hamming_outside", "independent_blocks_model",
    "independent_law", "inpainting_kernel", "is_block_resampling", "is_stationary",
    "is_stochastic", "ising_law", "latent_reach", "ldbr_objective", "ldbr_pareto",
    "linear_latent_distortion", "linear_latent_kernel", "pixel_blocks", "sample_gaussian",
    "simulate", "sqrtm_psd", "state_of", "sweep", "total_variation", "two_pixel_law",
]
