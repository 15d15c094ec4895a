"""Resample the blocks that cover a named part ("this tower looks wrong, give me a new one").

For each seed, the domain network segments the generated image; the blocks holding the part
(every block with at least ``share`` of the part's pixels, and always the one with the most) are
resampled ``n_resamples`` times with the same noise. Each resample is scored two ways:

* **part changed**: the mean absolute change over the part's pixels is at least ``tau``
  (image units, 0 to 2), or a reading of an attribute the part shows changed;
* **outside changed**: an attribute whose parts lie wholly outside the resampled blocks (the
  rule of :mod:`ssnlib.metrics.parts`) is read differently after the resample.

``save_part_gallery`` draws one row per seed: the image with the blocks outlined, then each
resample beside its difference map.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ssnlib.blocks import grid_of
from ssnlib.data import DATASETS
from ssnlib.metrics.featurenet import DomainFeatures
from ssnlib.metrics.parts import attribute_table, readings
from ssnlib.resample.core import resample_blocks
from ssnlib.resample.render import difference, draw_blocks, heatmap
from ssnlib.utils import to_uint8

PART_NAMES = {name: cls.PART_NAMES for name, cls in DATASETS.items()}


@dataclass
class PartResample:
    """One seed's study: the image, the blocks resampled, and every resample with its scores."""

    seed: int
    blocks: list[int]
    image: torch.Tensor                       # [3, R, R]
    part_mask: torch.Tensor                   # [R, R] bool
    z: torch.Tensor | None = None             # [1, *z_shape] the seed's latent ...
    noise: list[torch.Tensor] = field(default_factory=list)    # ... and noise inputs
    resamples: list[torch.Tensor] = field(default_factory=list)
    latents: list[torch.Tensor] = field(default_factory=list)   # each resample's z
    part_change: list[float] = field(default_factory=list)      # mean |change| on the part
    part_changed: list[bool] = field(default_factory=list)
    outside_changed: list[list[str]] = field(default_factory=list)  # attributes read anew


def part_masks(extractor: DomainFeatures, images: torch.Tensor, domain: str,
               parts: tuple[str, ...]) -> torch.Tensor:
    """Pixels the domain network assigns to any of ``parts``: bool [B, R, R] at the images'
    resolution (majority vote of the 64 px segmentation)."""
    names = PART_NAMES[domain]
    unknown = [p for p in parts if p not in names]
    if unknown:
        raise ValueError(f"unknown {domain} parts {unknown}; known: {list(names)}")
    span = extractor.schema.part_range(domain)
    labels = extractor.predict(images)["parts"][:, span.start:span.stop].argmax(1)
    hit = torch.zeros_like(labels, dtype=torch.float32)
    for p in parts:
        hit += (labels == names.index(p)).float()
    return F.adaptive_avg_pool2d(hit[:, None], images.shape[-2:])[:, 0] >= 0.5


def covering_blocks(grid, mask: torch.Tensor, share: float) -> list[int]:
    """Blocks holding at least ``share`` of the mask's pixels, and always the fullest one."""
    per_block = grid.block_coverage(mask).flatten()     # blocks are equal: shares of the mask
    total = per_block.sum()
    if total == 0:
        return []
    chosen = (per_block >= share * total).nonzero().flatten().tolist()
    return sorted(set(chosen) | {int(per_block.argmax())})


@torch.no_grad()
def part_resample_study(G, part: str, domain: str, seeds: list[int], n_resamples: int = 4,
                        share: float = 0.25, tau: float = 0.1, min_pixels: int = 4,
                        extractor: DomainFeatures | None = None, resample_seed: int = 0
                        ) -> list[PartResample]:
    """The study of the module docstring for every seed whose image shows ``part`` on at least
    ``min_pixels`` pixels (others are skipped: a skyline without a tower has none to replace).
    ``part`` names one part of the domain or several joined by ``+`` (``"tower+tower_top"``).
    Seed s draws z and the noise as :func:`ssnlib.train.sample.sample_images` does."""
    extractor = extractor or DomainFeatures()
    parts = tuple(part.split("+"))
    attrs, heads, shows = attribute_table(extractor.schema, domain)
    names = PART_NAMES[domain]
    part_ids = [names.index(p) for p in parts if p in names]
    own = [a for k, a in enumerate(attrs) if shows[k, part_ids].any()]
    grid = grid_of(G)
    device = next(G.parameters()).device
    studies = []
    for seed in seeds:
        gen = torch.Generator().manual_seed(seed)
        z = G.sample_z(1, gen, device=device)
        noise = G.make_noise(1, gen, device=device)
        image = G(z, noise=noise).float().cpu()
        mask = part_masks(extractor, image, domain, parts)[0]
        if mask.sum() < min_pixels:
            continue
        blocks = covering_blocks(grid, mask, share)
        study = PartResample(seed, blocks, image[0], mask, z, noise)
        base_attrs, seg = readings(extractor, image, domain, heads, True)
        outside = _outside_attributes(grid, blocks, seg[0], shows)
        # a stream apart from the seeds' own: Generator(seed) would redraw z exactly
        draw = torch.Generator(device=device).manual_seed((resample_seed + 1) * 1_000_003 + seed)
        for _ in range(n_resamples):
            z_new = resample_blocks(G, z, blocks, generator=draw)
            new = G(z_new, noise=noise).float().cpu()
            change = difference(image[0], new[0])
            moved = readings(extractor, new, domain, heads, False)[0][0] != base_attrs[0]
            part_change = change[mask].mean().item()
            study.resamples.append(new[0])
            study.latents.append(z_new)
            study.part_change.append(part_change)
            study.part_changed.append(part_change >= tau or any(
                moved[k] for k, a in enumerate(attrs) if a in own))
            study.outside_changed.append([a for k, a in enumerate(attrs)
                                          if outside[k] and moved[k]])
        studies.append(study)
    return studies


def _outside_attributes(grid, blocks: list[int], seg: torch.Tensor, shows: torch.Tensor,
                        min_pixels: int = 8) -> torch.Tensor:
    """Which attributes are shown only by parts lying wholly outside ``blocks`` (64 px
    segmentation ``seg``), as in :func:`ssnlib.metrics.parts.part_locality`."""
    onehot = F.one_hot(seg, shows.shape[1]).float()                        # [64, 64, P]
    area = onehot.sum((0, 1))
    inside = onehot[grid.block_mask(blocks, size=tuple(seg.shape))].sum(0)
    shown = (area >= min_pixels)[None] & shows                             # [A, P]
    return shown.any(1) & ((inside[None] * shown).sum(1) == 0)


def summarise(studies: list[PartResample]) -> dict:
    """Counts over every resample, in all and per seed: how often the part changed, how often
    anything outside the blocks was read differently (and which attributes), mean change on
    the part."""
    n = sum(len(s.resamples) for s in studies)
    per_seed = {s.seed: {"part_changed": sum(s.part_changed),
                         "outside_changed": sum(bool(o) for o in s.outside_changed)}
                for s in studies}
    which: dict[str, int] = {}
    for s in studies:
        for names in s.outside_changed:
            for a in names:
                which[a] = which.get(a, 0) + 1
    return {"seeds": [s.seed for s in studies], "blocks": {s.seed: s.blocks for s in studies},
            "per_seed": per_seed, "resamples": n,
            **{key: sum(c[key] for c in per_seed.values())
               for key in ("part_changed", "outside_changed")},
            "outside_changed_by_attribute": dict(sorted(which.items())),
            "mean_part_change": float(np.mean([c for s in studies for c in s.part_change]))
            if n else float("nan")}


def save_part_gallery(studies: list[PartResample], grid, path: str | Path,
                      scale: int = 4) -> Path:
    """One row per seed: the image with its resampled blocks outlined, then each resample and
    its difference map (a shared heat-map scale of 0 to the row's largest change), under a
    row of column headers."""
    rows = []
    for s in studies:
        cells = [np.asarray(draw_blocks(to_uint8(s.image), grid, s.blocks, scale))]
        diffs = [difference(s.image, r) for r in s.resamples]
        top = max(float(d.max()) for d in diffs) if diffs else 1.0
        for r, d in zip(s.resamples, diffs, strict=True):
            cells.append(np.asarray(draw_blocks(to_uint8(r), grid, s.blocks, scale)))
            cells.append(np.asarray(Image.fromarray(heatmap(d, top)).resize(
                cells[0].shape[1::-1], Image.NEAREST)))
        gap = np.full((cells[0].shape[0], 2, 3), 255, np.uint8)
        rows.append(np.concatenate([x for c in cells for x in (c, gap)][:-1], 1))
    gap = np.full((2, rows[0].shape[1], 3), 255, np.uint8)
    body = np.concatenate([x for r in rows for x in (r, gap)][:-1], 0)
    width = grid.width * scale
    titles = ["seed: blocks"] + [t for k in range(len(studies[0].resamples))
                                 for t in (f"resample {k + 1}", f"change {k + 1}")]
    Image.fromarray(np.concatenate([_header(titles, width, body.shape[1]), body], 0)).save(path)
    return Path(path)


def _header(titles: list[str], cell: int, total: int, height: int = 18) -> np.ndarray:
    """A white strip with one title centred over each ``cell``-wide column (2 px gaps)."""
    from PIL import ImageDraw, ImageFont

    strip = Image.new("RGB", (total, height), "white")
    draw = ImageDraw.Draw(strip)
    font = ImageFont.load_default(size=12)
    for k, title in enumerate(titles):
        left = k * (cell + 2)
        w = draw.textlength(title, font=font)
        draw.text((left + max(0, (cell - w) / 2), 2), title, fill="black", font=font)
    return np.asarray(strip)
