"""One call that scores a generator on any set of metrics and returns a JSON-ready dict.

``fid``/``kid``: ``num`` generated images against ``ref_num`` images of a reference source
(:mod:`ssnlib.metrics.reference`, cached), in the chosen feature space (``domain``: the shipped
domain network; ``inception``: the FID Inception). ``ppl``: in the same feature space
(:mod:`ssnlib.metrics.ppl`). ``distortion`` and ``locality`` (:mod:`ssnlib.metrics.distortion`)
share one pass. ``parts`` (:mod:`ssnlib.metrics.parts`) always uses the domain network.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from ssnlib.metrics.features import FeatureExtractor
from ssnlib.metrics.fid import GaussianStats, fid
from ssnlib.metrics.kid import kid
from ssnlib.metrics.reference import DEFAULT_CACHE, reference_stats
from ssnlib.metrics.sampling import generated_batches, model_device

METRICS = ("fid", "kid", "ppl", "distortion", "locality", "parts")
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


def evaluate(G, metrics: list[str], num: int, ref: str | None = None,
             ref_num: int | None = None, ref_seed: int = 0, ref_start: int = 0,
             features: str = "domain", seed: int = 0, batch: int = 16,
             ppl_space: str = "w", ppl_sampling: str = "end", ppl_crop: bool = False,
             part_domain: str | None = None, inception_path: str | Path | None = None,
             featurenet_dir: str | Path | None = None,
             cache_dir: str | Path | None = DEFAULT_CACHE, bf16: bool = True) -> dict:
    """Scores of ``G`` (see the module docstring): ``{metric: result}`` plus ``time_s``."""
    unknown = sorted(set(metrics) - set(METRICS))
    if unknown:
        raise ValueError(f"unknown metrics {unknown}; choose from {METRICS}")
    device = model_device(G)
    out: dict = {}
    timing: dict[str, float] = {}
    extractor = None
    if {"fid", "kid", "ppl"} & set(metrics):
        extractor = make_extractor(features, device, inception_path, featurenet_dir)
    if {"fid", "kid"} & set(metrics):
        if ref is None:
            raise ValueError("fid/kid need a reference source (--ref faces, skylines or a path)")
        t0 = time.perf_counter()
        reference = reference_stats(ref, extractor, ref_num or num, G.resolution, ref_seed,
                                    ref_start, cache_dir)
        fake = extractor.features_of(generated_batches(G, num, seed, batch, bf16), total=num)
        info = {"features": extractor.name, "num": num, "reference": reference.key}
        if "fid" in metrics:
            out["fid"] = {"fid": fid(GaussianStats.of(fake), reference.stats), **info}
        if "kid" in metrics:
            out["kid"] = {"kid": kid(reference.features, fake,
                                     generator=torch.Generator().manual_seed(seed)), **info}
        timing["fid_kid"] = time.perf_counter() - t0
    if "ppl" in metrics:
        from ssnlib.metrics.ppl import ppl

        t0 = time.perf_counter()
        out["ppl"] = ppl(G, extractor, num, seed, ppl_space, ppl_sampling, crop=ppl_crop,
                         batch=batch)
        timing["ppl"] = time.perf_counter() - t0
    if {"distortion", "locality"} & set(metrics):
        from ssnlib.metrics.distortion import distortion_and_locality

        t0 = time.perf_counter()
        d = distortion_and_locality(G, num, seed, max(1, batch // 2))
        if "distortion" in metrics:
            out["distortion"] = {k: d[k] for k in ("distortion", "distortion_se", "per_block",
                                                   "grid", "count")}
        if "locality" in metrics:
            out["locality"] = {"inside": d["inside"], "inside_se": d["inside_se"],
                               "outside": d["distortion"], "outside_se": d["distortion_se"],
                               "leak_ratio": d["leak_ratio"], "count": d["count"]}
        timing["distortion_locality"] = time.perf_counter() - t0
    if "parts" in metrics:
        from ssnlib.metrics.parts import part_locality

        t0 = time.perf_counter()
        domain_net = (extractor if extractor is not None and features == "domain"
                      else make_extractor("domain", device, featurenet_dir=featurenet_dir))
        out["parts"] = part_locality(G, domain_net, num, seed, max(1, batch // 2),
                                     part_domain)
        timing["parts"] = time.perf_counter() - t0
    out["time_s"] = {k: round(v, 2) for k, v in timing.items()}
    return out
