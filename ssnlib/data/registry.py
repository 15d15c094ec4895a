"""The procedural datasets by name: one registry for the trainer, the metrics, the part rules
and the command line (``data.name=faces``, ``ssn prepare-data --dataset skylines``).

``faces`` is :class:`CartoonFaces` (our stand-in for FFHQ) and ``skylines`` is
:class:`Skylines` (for LSUN Churches). The older spelling ``cartoon-faces`` of
``ssn prepare-data`` still works, with a warning.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from ssnlib.data.faces import CartoonFaces
from ssnlib.data.procedural import ProceduralDataset
from ssnlib.data.skylines import Skylines

DATASETS: dict[str, type[ProceduralDataset]] = {"faces": CartoonFaces, "skylines": Skylines}
DEPRECATED_NAMES = {"cartoon-faces": "faces"}


def dataset_name(name: str) -> str:
    """The registry key of ``name``: itself, or the current name of a deprecated spelling (with
    a FutureWarning); an unknown name is a ValueError listing the known ones."""
    if name in DEPRECATED_NAMES:
        new = DEPRECATED_NAMES[name]
        warnings.warn(f"dataset name {name!r} is deprecated; use {new!r}", FutureWarning,
                      stacklevel=2)
        return new
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose from {', '.join(DATASETS)}")
    return name


def dataset_class(name: str) -> type[ProceduralDataset]:
    """The procedural dataset class registered as ``name`` (see :func:`dataset_name`)."""
    return DATASETS[dataset_name(name)]


def procedural_domain(source: str | Path) -> str | None:
    """The procedural dataset behind an image source: its own name, or the ``domain`` that
    ``ssn prepare-data --dataset`` records in an archive (a subset too, ``--where``); None for
    any other images (or an unreadable manifest)."""
    if str(source) in DATASETS:
        return str(source)
    try:
        domain = json.loads((Path(source) / "dataset.json").read_text()).get("domain")
    except (OSError, ValueError, AttributeError):
        return None
    return domain if domain in DATASETS else None
