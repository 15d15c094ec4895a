"""Reference images and their features, cached on disk.

A *source* is a procedural dataset name (``faces``, ``skylines``; images ``start .. start +
count - 1`` at ``seed``), a packed archive (a folder with ``dataset.json``, from ``ssn
prepare-data``) or a folder / zip of images. :func:`reference_stats` computes the features of
``count`` of its images at ``resolution`` once and caches, in ``data/stats/`` by default, their
Gaussian statistics (float64 mean and covariance, for FID) and the features themselves
(float16, for KID and precision/recall, which need the vectors, not only their moments), in
one safetensors file whose name is the key: source, resolution, count, seed, first index and
feature network (whose name carries a hash of its weights). The file is written to a
temporary name and renamed, so concurrent runs never see a torn cache.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from ssnlib.data import DATASETS
from ssnlib.metrics.features import FeatureExtractor, resize
from ssnlib.metrics.fid import GaussianStats

DEFAULT_CACHE = Path(__file__).resolve().parents[2] / "data" / "stats"


def _render(args) -> np.ndarray:
    domain, seed, resolution, start, stop = args
    dataset = DATASETS[domain](length=stop, resolution=resolution, seed=seed, return_parts=False)
    return np.stack([dataset.render(i, with_parts=False)[0] for i in range(start, stop)])


def procedural_batches(domain: str, count: int, resolution: int, seed: int = 0, start: int = 0,
                       batch: int = 250, workers: int = 2) -> Iterator[torch.Tensor]:
    """Float images [<=batch, 3, R, R] in [-1, 1] of a procedural dataset, rendered by
    ``workers`` processes, in index order."""
    jobs = [(domain, seed, resolution, s, min(s + batch, start + count))
            for s in range(start, start + count, batch)]
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            for images in pool.map(_render, jobs):
                yield torch.from_numpy(images).permute(0, 3, 1, 2).float() / 127.5 - 1
    else:
        for job in jobs:
            yield torch.from_numpy(_render(job)).permute(0, 3, 1, 2).float() / 127.5 - 1


def _dataset_batches(dataset, count: int, resolution: int, start: int,
                     batch: int) -> Iterator[torch.Tensor]:
    if start + count > len(dataset):
        raise ValueError(f"asked for images {start} .. {start + count - 1}, but the dataset "
                         f"has {len(dataset)}")
    for s in range(start, start + count, batch):
        images = torch.stack([dataset[i] for i in range(s, min(s + batch, start + count))])
        yield resize(images.float(), resolution)


def source_batches(source: str, count: int, resolution: int, seed: int = 0, start: int = 0,
                   batch: int = 250, workers: int = 2) -> Iterator[torch.Tensor]:
    """Image batches of any source (see the module docstring), at ``resolution``."""
    if source in DATASETS:
        return procedural_batches(source, count, resolution, seed, start, batch, workers)
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"reference source {source!r} is neither a procedural dataset "
                                f"({', '.join(DATASETS)}) nor an existing path")
    from ssnlib.data import ImageFolderDataset, PackedDataset

    dataset = (PackedDataset(path) if (path / "dataset.json").is_file()
               else ImageFolderDataset(path, resolution))
    return _dataset_batches(dataset, count, resolution, start, batch)


def _source_tag(source: str) -> str:
    if source in DATASETS:
        return source
    digest = hashlib.sha1(str(Path(source).resolve()).encode()).hexdigest()[:8]
    return re.sub(r"[^A-Za-z0-9_.-]", "_", Path(source).name) + "-" + digest


def cache_key(source: str, resolution: int, count: int, seed: int, start: int,
              extractor: FeatureExtractor) -> str:
    return (f"{_source_tag(source)}-{resolution}px-n{count}-seed{seed}-start{start}-"
            f"{extractor.name}")


@dataclass
class Reference:
    """Reference features (float32 [N, D] holding the cache's float16 values, for KID and
    precision/recall) and their Gaussian statistics (FID)."""

    key: str
    stats: GaussianStats
    features: torch.Tensor


def reference_stats(source: str, extractor: FeatureExtractor, count: int, resolution: int,
                    seed: int = 0, start: int = 0, cache_dir: str | Path | None = DEFAULT_CACHE,
                    workers: int = 2) -> Reference:
    """The cached reference for these arguments, computed and cached on first use
    (``cache_dir=None``: no cache)."""
    key = cache_key(source, resolution, count, seed, start, extractor)
    path = Path(cache_dir) / f"{key}.safetensors" if cache_dir is not None else None
    if path is not None and path.is_file():
        t = load_file(path)
        stats = GaussianStats(t["mu"].numpy(), t["sigma"].numpy(), count)
        return Reference(key, stats, t["features"].float())
    features = extractor.features_of(source_batches(source, count, resolution, seed, start,
                                                    workers=workers),
                                     total=count, desc=f"reference {key}")
    # KID and precision/recall see the float16 features the cache keeps, on the first run as
    # on every later one
    ref = Reference(key, GaussianStats.of(features), features.half().float())
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
        try:
            save_file({"mu": torch.from_numpy(ref.stats.mu), "sigma": torch.from_numpy(
                ref.stats.sigma), "features": ref.features.half()}, str(tmp),
                metadata={"source": source, "resolution": str(resolution),
                          "count": str(count), "seed": str(seed), "start": str(start),
                          "features": extractor.name})
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    return ref
