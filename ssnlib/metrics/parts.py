"""Part-level locality for the procedural domains: how often resampling block a changes an
attribute whose parts lie wholly outside a.

The rule (ours; see the limits below). For a generated sample g(z) and each block a:

1. the domain network (:class:`~ssnlib.metrics.featurenet.DomainFeatures`) segments g(z) into
   the domain's parts (per-pixel argmax of its segmentation head over that domain's classes, at
   64 px) and reads every discrete attribute (argmax of its head) of g(z) and of g(z^a)
   (block a redrawn, same noise);
2. each attribute is tied to the parts that *show* it (:data:`ATTRIBUTE_PARTS`: hair colour is
   shown by hair, eyebrows and beard; a tower's crown by ``tower_top``). A part is *present*
   if it covers at least ``min_pixels`` pixels at 64 px; the attribute is *outside a* if at
   least one of its parts is present and at most ``tolerance`` of the present parts' pixels fall
   in block a (0: none);
3. the **part-level leak rate** is the fraction of (sample, block, attribute) triples with the
   attribute outside a whose predicted value differs between g(z) and g(z^a). For contrast,
   ``touching_rate`` is the same fraction over the attributes whose parts overlap a.

Attributes that are global by construction (Skylines' time of day, which tints every part) are
not tied to any part and not scored; continuous attributes (light, head turn, positions) are
not scored either. Limits: the network was trained on the procedural images, so on a weak
generator's samples its segmentation and attribute readings err, and every misreading counts
as a change (the head accuracies in ``data/featurenet/manifest.json`` bound that on real
images); an attribute may legitimately change when a block it does not touch changes a part it
depends on (a beard recoloured with the hair): that is the global consistency the paper trades
against distortion, and is what ``ATTRIBUTE_PARTS`` tries to capture by listing every part
that shows an attribute.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ssnlib.blocks import grid_of
from ssnlib.data import DATASETS
from ssnlib.metrics.featurenet import INPUT_SIZE, DomainFeatures
from ssnlib.metrics.sampling import batches, draw

ATTRIBUTE_PARTS: dict[str, dict[str, tuple[str, ...]]] = {
    "faces": {
        "head_shape": ("face",), "skin_tone": ("face", "neck"), "hair_style": ("hair",),
        "hair_colour": ("hair", "eyebrows", "beard"), "eye_colour": ("eyes",),
        "glasses": ("glasses",), "mouth": ("mouth",), "beard": ("beard",), "hat": ("hat",),
        "background": ("background",),
    },
    "skylines": {
        "tower_top": ("tower_top",), "towers": ("tower", "tower_top"),
        "material": ("church", "tower"), "houses": ("houses", "roof"), "trees": ("trees",),
        "sky": ("clouds",), "ground": ("ground",),
    },
}


def readings(extractor: DomainFeatures, images: torch.Tensor, domain: str, heads: list[int],
              with_parts: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
    out = extractor.predict(images, with_parts=with_parts)
    attrs = torch.stack([out["discrete"][j].argmax(1) for j in heads], 1)     # [B, n_attr]
    parts = None
    if with_parts:
        span = extractor.schema.part_range(domain)
        parts = out["parts"][:, span.start:span.stop].argmax(1)              # [B, 64, 64]
    return attrs, parts


def detect_domain(extractor: DomainFeatures, images: torch.Tensor) -> str:
    """The domain most images are classified into by the domain head."""
    votes = extractor.predict(images, with_parts=False)["domain"].argmax(1)
    return extractor.schema.domains[int(votes.mode().values)]


def attribute_table(schema, domain: str) -> tuple[list[str], list[int], torch.Tensor]:
    """Scored attributes, their head indices and the [n_attr, n_parts] 'shows' matrix."""
    if domain not in ATTRIBUTE_PARTS:
        raise ValueError(f"no part rule for domain {domain!r}; known: {sorted(ATTRIBUTE_PARTS)}")
    table = ATTRIBUTE_PARTS[domain]
    attrs = list(table)
    heads = [[(d, a) for d, a, _ in schema.discrete].index((domain, name)) for name in attrs]
    shows = torch.tensor([[p in table[a] for p in DATASETS[domain].PART_NAMES] for a in attrs])
    return attrs, heads, shows


@torch.no_grad()
def part_locality(G, extractor: DomainFeatures, count: int, seed: int = 0, batch: int = 8,
                  domain: str | None = None, min_pixels: int = 8,
                  tolerance: float = 0.0) -> dict:
    """The part-level leak rate over ``count`` samples and every block (module docstring);
    ``domain=None`` detects it from the first batch with the domain head."""
    grid = grid_of(G, need="part locality")
    cells = None
    counts = None
    for idx in batches(count, batch, "part locality"):
        (z, z_fresh), noise, _ = draw(G, idx, seed, n_latents=2)
        base = G(z, noise=noise).float()
        if counts is None:
            domain = domain or detect_domain(extractor, base)
            attrs, heads, shows = attribute_table(extractor.schema, domain)
            counts = {k: torch.zeros(len(attrs), dtype=torch.long)
                      for k in ("outside", "outside_changed", "touching", "touching_changed")}
            cells = torch.arange(grid.n_blocks, device=z.device).reshape(1, 1, grid.n_h, grid.n_w)
        base_attrs, parts = readings(extractor, base, domain, heads, True)
        onehot = F.one_hot(parts, shows.shape[1]).float()                     # [B, 64, 64, P]
        area = onehot.sum((1, 2))                                              # [B, P]
        shown = (area >= min_pixels)[:, None, :] & shows[None]                 # [B, A, P]
        has = shown.any(2)
        shown_area = (area[:, None] * shown).sum(2).clamp(min=1)
        for a in range(grid.n_blocks):
            mask = grid.block_mask(a, size=(INPUT_SIZE, INPUT_SIZE)).float()
            inside = torch.einsum("bhwp,hw->bp", onehot, mask)                 # [B, P]
            outside = has & ((inside[:, None] * shown).sum(2) / shown_area <= tolerance)
            touching = has & ~outside
            moved = G(torch.where(cells == a, z_fresh, z), noise=noise).float()
            changed = readings(extractor, moved, domain, heads, False)[0] != base_attrs
            counts["outside"] += outside.sum(0)
            counts["outside_changed"] += (outside & changed).sum(0)
            counts["touching"] += touching.sum(0)
            counts["touching_changed"] += (touching & changed).sum(0)

    def rate(kind: str, k: int | None = None) -> float:
        n, c = counts[kind], counts[f"{kind}_changed"]
        n, c = (n.sum(), c.sum()) if k is None else (n[k], c[k])
        return c.item() / n.item() if n > 0 else float("nan")

    return {"leak_rate": rate("outside"), "touching_rate": rate("touching"),
            "outside_count": counts["outside"].sum().item(), "domain": domain,
            "per_attribute": {a: {"leak_rate": rate("outside", k),
                                  "outside_count": counts["outside"][k].item(),
                                  "touching_rate": rate("touching", k),
                                  "touching_count": counts["touching"][k].item()}
                              for k, a in enumerate(attrs)},
            "min_pixels": min_pixels, "tolerance": tolerance, "count": count,
            "features": extractor.name}
