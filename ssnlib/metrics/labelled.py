"""Labelled procedural images as flat tensors: what the domain network trains and is scored on.

:func:`render_labelled` draws images ``0 .. n-1`` of each domain (seed ``seed``) with their part
maps and attributes, in parallel worker processes, into a :class:`Labelled` batch whose targets
follow a :class:`~ssnlib.metrics.schema.Schema`: discrete targets are class indices (-1 where
the attribute belongs to another domain), continuous ones are mapped to [-1, 1] over the
attribute's range (NaN elsewhere), part maps hold global part classes.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import torch

from ssnlib.data import DATASETS
from ssnlib.metrics.schema import Schema


@dataclass
class Labelled:
    images: torch.Tensor       # uint8 [N, 3, R, R]
    parts: torch.Tensor        # uint8 [N, R, R], global part classes
    domain: torch.Tensor       # int64 [N]
    discrete: torch.Tensor     # int64 [N, n_discrete], -1 = not this domain's attribute
    continuous: torch.Tensor   # float32 [N, n_continuous] in [-1, 1], NaN = not applicable

    def __len__(self) -> int:
        return self.images.shape[0]

    def float_images(self, index=slice(None)) -> torch.Tensor:
        return self.images[index].float() / 127.5 - 1

    def select(self, index) -> Labelled:
        return Labelled(self.images[index], self.parts[index], self.domain[index],
                        self.discrete[index], self.continuous[index])

    @staticmethod
    def cat(items: list[Labelled]) -> Labelled:
        return Labelled(*(torch.cat([getattr(x, f) for x in items]) for f in
                          ("images", "parts", "domain", "discrete", "continuous")))


def _render_chunk(args) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    domain, seed, resolution, start, stop = args
    dataset = DATASETS[domain](length=stop, resolution=resolution, seed=seed)
    images, parts, attrs = [], [], []
    for i in range(start, stop):
        image, part, a = dataset.render(i)
        images.append(image.transpose(2, 0, 1))
        parts.append(part)
        attrs.append(a)
    return np.stack(images), np.stack(parts), attrs


def render_labelled(schema: Schema, n: int, seed: int, resolution: int = 64,
                    workers: int = 2, chunk: int = 250) -> Labelled:
    """``n`` labelled images of every domain in ``schema`` (images ``0 .. n-1``, seed ``seed``)."""
    jobs = [(d, seed, resolution, s, min(s + chunk, n)) for d in schema.domains
            for s in range(0, n, chunk)]
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            results = list(pool.map(_render_chunk, jobs))
    else:
        results = [_render_chunk(job) for job in jobs]
    out = []
    for (domain, *_), (images, parts, attrs) in zip(jobs, results, strict=True):
        m = len(attrs)
        disc = torch.full((m, len(schema.discrete)), -1, dtype=torch.long)
        cont = torch.full((m, len(schema.continuous)), float("nan"))
        for j, (d, name, _) in enumerate(schema.discrete):
            if d == domain:
                disc[:, j] = torch.tensor([a[name] for a in attrs])
        for j, (d, name, lo, hi) in enumerate(schema.continuous):
            if d == domain:
                cont[:, j] = torch.tensor([2 * (a[name] - lo) / (hi - lo) - 1 for a in attrs])
        out.append(Labelled(torch.from_numpy(images),
                            torch.from_numpy(parts) + schema.part_offset[domain],
                            torch.full((m,), schema.domains.index(domain)), disc, cont))
    return Labelled.cat(out)
