"""One call that scores a generator on any set of metrics and returns a JSON-ready dict.

``fid``/``kid``/``pr``: ``num`` generated images against ``ref_num`` images of a reference
source (:mod:`ssnlib.metrics.reference`, cached), in the chosen feature space (``domain``: the
shipped domain network; ``inception``: the FID Inception); ``pr`` is improved precision and
recall (:mod:`ssnlib.metrics.precision_recall`, k = 3); ``attributes`` compares the shares
of each attribute class (hair style, time of day...) that the domain network reads in
samples and data (:mod:`ssnlib.metrics.attributes`), from the same features. ``ppl``: in
the same feature space (:mod:`ssnlib.metrics.ppl`). ``parts`` (:mod:`ssnlib.metrics.parts`)
always uses the domain network. ``distortion`` and ``locality``
(:mod:`ssnlib.metrics.distortion`) and ``consistency`` (:mod:`ssnlib.metrics.consistency`,
how much of each block the other blocks move against how strongly blocks correlate, in the
samples and, with a reference, in the data) read one resampling pass
(:mod:`ssnlib.metrics.block_pass`). ``seams`` (:mod:`ssnlib.metrics.seams`): how much the
samples step at the block borders against beside them, and the reference's images likewise.

Each metric is a small function registered under its name in :data:`REGISTRY` (after
stylegan2-ada's ``metric_main``); it reads the generator and the options from a
:class:`Run`, which computes work that several metrics share (the feature extractor, the
generated features and the reference of FID, KID and precision/recall, the resampling pass)
once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import torch

from ssnlib.data import DATASETS, procedural_domain
from ssnlib.metrics.features import FeatureExtractor
from ssnlib.metrics.fid import GaussianStats, fid
from ssnlib.metrics.kid import kid
from ssnlib.metrics.precision_recall import manifold_scores
from ssnlib.metrics.reference import DEFAULT_CACHE, reference_stats
from ssnlib.metrics.sampling import generated_batches, model_device

FEATURES = ("domain", "inception")


def make_extractor(kind: str, device: torch.device | str = "cpu",
                   inception_path: str | Path | None = None,
                   featurenet_dir: str | Path | None = None) -> FeatureExtractor:
    """``"domain"`` (the shipped domain network) or ``"inception"`` (the FID detector)."""
    if kind == "domain":
        from ssnlib.metrics.featurenet import DomainFeatures

        return DomainFeatures(directory=featurenet_dir, device=device)
    if kind == "inception":
        from ssnlib.metrics.inception import InceptionFID

        return InceptionFID(inception_path, device=device)
    raise ValueError(f"features must be one of {FEATURES}, got {kind!r}")


@dataclass
class Run:
    """One evaluation: the generator, every option a metric may read, and the shared work."""

    G: torch.nn.Module
    num: int
    ref: str | None = None
    ref_num: int | None = None
    ref_seed: int = 0
    ref_start: int = 0
    features: str = "domain"
    seed: int = 0
    batch: int = 16
    ppl_space: str = "w"
    ppl_sampling: str = "end"
    ppl_crop: bool = False
    part_domain: str | None = None
    inception_path: str | Path | None = None
    featurenet_dir: str | Path | None = None
    cache_dir: str | Path | None = DEFAULT_CACHE
    bf16: bool = True
    truncation: float = 1.0            # psi of the sample-based metrics (FID ... seams)
    metrics: tuple[str, ...] = ()      # what will be asked for: shared work fits them all
    device: torch.device = field(init=False)

    def __post_init__(self):
        self.device = model_device(self.G)

    @cached_property
    def extractor(self) -> FeatureExtractor:
        return make_extractor(self.features, self.device, self.inception_path,
                              self.featurenet_dir)

    @cached_property
    def fake_and_reference(self):
        """Features of ``num`` generated images and the cached reference (FID, KID, PR)."""
        if self.ref is None:
            raise ValueError("fid/kid/pr need a reference source (--ref faces, skylines or a "
                             "path)")
        reference = reference_stats(self.ref, self.extractor, self.ref_num or self.num,
                                    self.G.resolution, self.ref_seed, self.ref_start,
                                    self.cache_dir)
        fake = self.extractor.features_of(
            generated_batches(self.G, self.num, self.seed, self.batch, self.bf16,
                              self.truncation), total=self.num)
        return fake, reference

    @cached_property
    def block_pass(self):
        """The resampling pass that distortion, locality and consistency share
        (:mod:`ssnlib.metrics.block_pass`), with the noise redraw when consistency is asked
        for."""
        from ssnlib.metrics.block_pass import block_pass

        # a Run made without its metrics list may be asked for anything: redraw the noise
        return block_pass(self.G, self.num, self.seed, max(1, self.batch // 2),
                          noise=not self.metrics or "consistency" in self.metrics)

    @cached_property
    def locality(self) -> dict:
        from ssnlib.blocks import grid_of
        from ssnlib.metrics.distortion import locality_scores

        grid_of(self.G, need="distortion and locality")
        return locality_scores(self.block_pass)

    def info(self) -> dict:
        return {"features": self.extractor.name, "num": self.num,
                "reference": self.fake_and_reference[1].key}


REGISTRY: dict[str, Callable[[Run], dict]] = {}


def metric(name: str):
    """Register ``function(run) -> dict`` as metric ``name``."""
    def register(function: Callable[[Run], dict]) -> Callable[[Run], dict]:
        REGISTRY[name] = function
        return function
    return register


@metric("fid")
def _fid(run: Run) -> dict:
    fake, reference = run.fake_and_reference
    return {"fid": fid(GaussianStats.of(fake), reference.stats), **run.info()}


@metric("kid")
def _kid(run: Run) -> dict:
    fake, reference = run.fake_and_reference
    return {"kid": kid(reference.features, fake,
                       generator=torch.Generator().manual_seed(run.seed)), **run.info()}


@metric("pr")
def _pr(run: Run) -> dict:
    """Improved precision and recall, the radius ratio, density and coverage (one pass)."""
    fake, reference = run.fake_and_reference
    return {**manifold_scores(reference.features, fake), **run.info()}


@metric("attributes")
def _attributes(run: Run) -> dict:
    """Attribute shares of the samples against the reference's (the features of pr)."""
    from ssnlib.metrics.attributes import attribute_shares

    domain = procedural_domain(run.ref)
    if run.features != "domain" or domain is None:
        raise ValueError(f"attributes reads the domain network's heads: it needs --features "
                         f"domain and a procedural --ref ({', '.join(DATASETS)}, or an "
                         f"archive of one), got {run.features} and {run.ref}")
    fake, reference = run.fake_and_reference
    return {**attribute_shares(run.extractor.net, reference.features, fake, domain),
            **run.info()}


@metric("ppl")
def _ppl(run: Run) -> dict:
    from ssnlib.metrics.ppl import ppl

    return ppl(run.G, run.extractor, run.num, run.seed, run.ppl_space, run.ppl_sampling,
               crop=run.ppl_crop, batch=run.batch)


@metric("distortion")
def _distortion(run: Run) -> dict:
    d = run.locality
    return {k: d[k] for k in ("distortion", "distortion_se", "distortion_radial",
                              "distortion_radial_se", "per_block", "grid", "count")}


@metric("locality")
def _locality(run: Run) -> dict:
    d = run.locality
    return {"inside": d["inside"], "inside_se": d["inside_se"], "outside": d["distortion"],
            "outside_se": d["distortion_se"], "leak_ratio": d["leak_ratio"],
            "energy_inside": d["energy_inside"], "energy_inside_se": d["energy_inside_se"],
            "count": d["count"]}


@metric("consistency")
def _consistency(run: Run) -> dict:
    """The price of consistency (:mod:`ssnlib.metrics.consistency`): both sides of its bound,
    and the reference's side where there is one."""
    from ssnlib.blocks import grid_of
    from ssnlib.metrics.consistency import consistency_scores, data_consistency
    from ssnlib.metrics.reference import source_batches

    grid_of(run.G, need="the consistency bound")
    out = consistency_scores(run.block_pass)
    if run.ref is not None:
        images = source_batches(run.ref, run.ref_num or run.num, run.G.resolution,
                                run.ref_seed, run.ref_start, workers=1)
        out["data"] = data_consistency(images, grid_of(run.G, need="the consistency bound"))
    return out


@metric("seams")
def _seams(run: Run) -> dict:
    """Steps across the block borders over those beside them (:mod:`ssnlib.metrics.seams`),
    in ``num`` samples and, with a reference, in as many of its images under the same grid."""
    from ssnlib.blocks import grid_of
    from ssnlib.metrics.reference import source_batches
    from ssnlib.metrics.seams import seam_contrast

    grid = grid_of(run.G, need="the seam contrast")
    out = {"seam_contrast": seam_contrast(
        generated_batches(run.G, run.num, run.seed, run.batch, run.bf16, run.truncation),
        grid)}
    if run.ref is not None:
        out["data_seam_contrast"] = seam_contrast(
            source_batches(run.ref, run.ref_num or run.num, run.G.resolution, run.ref_seed,
                           run.ref_start, workers=1), grid)
    return out


@metric("parts")
def _parts(run: Run) -> dict:
    from ssnlib.metrics.parts import part_locality

    domain_net = (run.extractor if run.features == "domain"
                  else make_extractor("domain", run.device, featurenet_dir=run.featurenet_dir))
    return part_locality(run.G, domain_net, run.num, run.seed, max(1, run.batch // 2),
                         run.part_domain)


METRICS = tuple(REGISTRY)


def evaluate(G, metrics: list[str], num: int, **options) -> dict:
    """Scores of ``G`` on ``metrics`` (names in :data:`REGISTRY`), ``num`` samples each:
    ``{metric: result}`` plus ``time_s`` per metric (work shared by two metrics counts for the
    first). ``options`` are the fields of :class:`Run` (``ref``, ``features``, ``seed``...)."""
    unknown = sorted(set(metrics) - set(REGISTRY))
    if unknown:
        raise ValueError(f"unknown metrics {unknown}; choose from {', '.join(REGISTRY)}")
    if not metrics:
        raise ValueError(f"no metric given; choose from {', '.join(REGISTRY)}")
    run = Run(G, num, **options, metrics=tuple(metrics))
    out: dict = {}
    timing: dict[str, float] = {}
    for name in REGISTRY:                      # a fixed order, whatever the caller's
        if name in metrics:
            t0 = time.perf_counter()
            out[name] = REGISTRY[name](run)
            timing[name] = round(time.perf_counter() - t0, 2)
    out["time_s"] = timing
    return out
