"""The label schema of the domain feature network: every procedural dataset's attributes and
part names, gathered under one namespace (``"faces/hair_style"``, ``"skylines/tower"``).

The network learns all datasets at once; each attribute head and each part class belongs to
exactly one dataset, so a head is trained, and read, only on that dataset's images.
"""

from __future__ import annotations

from dataclasses import dataclass

from ssnlib.data import DATASETS


@dataclass(frozen=True)
class Schema:
    """Heads and part classes of the feature network, in a fixed order.

    ``discrete``: ``(domain, attribute, n_classes)``; ``continuous``: ``(domain, attribute,
    low, high)``; ``parts``: ``(domain, part)``, one segmentation class each (the global class
    index of a dataset's part ``k`` is ``part_offset[domain] + k``).
    """

    domains: tuple[str, ...]
    discrete: tuple[tuple[str, str, int], ...]
    continuous: tuple[tuple[str, str, float, float], ...]
    parts: tuple[tuple[str, str], ...]

    @classmethod
    def build(cls, domains: tuple[str, ...] = tuple(DATASETS)) -> Schema:
        for d in domains:
            if d not in DATASETS:
                raise ValueError(f"unknown domain {d!r}; choose from {sorted(DATASETS)}")
        return cls(
            domains=tuple(domains),
            discrete=tuple((d, a, n) for d in domains for a, n in DATASETS[d].NUM_CLASSES.items()),
            continuous=tuple((d, a, lo, hi) for d in domains
                             for a, (lo, hi) in DATASETS[d].CONTINUOUS.items()),
            parts=tuple((d, p) for d in domains for p in DATASETS[d].PART_NAMES),
        )

    @property
    def part_offset(self) -> dict[str, int]:
        return {d: [p[0] for p in self.parts].index(d) for d in self.domains}

    def part_range(self, domain: str) -> range:
        """Global part-class indices of one domain."""
        start = self.part_offset[domain]
        return range(start, start + len(DATASETS[domain].PART_NAMES))

    def to_dict(self) -> dict:
        return {"domains": list(self.domains), "discrete": [list(x) for x in self.discrete],
                "continuous": [list(x) for x in self.continuous],
                "parts": [list(x) for x in self.parts]}

    @classmethod
    def from_dict(cls, d: dict) -> Schema:
        return cls(tuple(d["domains"]), tuple(tuple(x) for x in d["discrete"]),
                   tuple(tuple(x) for x in d["continuous"]), tuple(tuple(x) for x in d["parts"]))
