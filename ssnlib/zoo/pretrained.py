"""The model zoo: trained generators shipped in ``data/checkpoints/``, one folder per model.

    from ssnlib import zoo
    zoo.names()                       # ['faces32-ssn-ld100', ...]
    G = zoo.load("faces32-ssn-ld100")  # float32, eval mode, on the CPU

A model folder holds (written by ``ssn export``, :mod:`ssnlib.zoo.export`):

* ``generator.safetensors``: the EMA generator's state dict (fp16 or fp32);
* ``config.yaml``: the full training config, so ``ssn train --config <folder>/config.yaml``
  retrains it from scratch;
* ``manifest.json``: how it was made (command, commit, images seen, wall time, device, torch),
  the constructor arguments, the weights' SHA-256, a reference image by seed, and the scores
  ``ssn eval --pretrained NAME --record`` stored under ``metrics``;
* ``reference.png``: the images of the reference seeds, to check a loaded model reproduces them.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ssnlib.errors import CheckpointError, InputError, MissingFileError
from ssnlib.safeload import load_state, safetensors_load
from ssnlib.train.checkpoint import RUN_STATE

ZOO_DIR = Path(__file__).resolve().parents[2] / "data" / "checkpoints"
WEIGHTS, MANIFEST, CONFIG, REFERENCE = ("generator.safetensors", "manifest.json", "config.yaml",
                                        "reference.png")


class UnknownModelError(InputError, KeyError):
    """A model name the zoo does not hold (a KeyError too, for lookups)."""

    def __str__(self) -> str:                   # KeyError would quote the message
        return str(self.args[0])


def zoo_dir(directory: str | Path | None = None) -> Path:
    """``directory``, else ``$SSN_ZOO``, else the repository's ``data/checkpoints``."""
    return Path(directory or os.environ.get("SSN_ZOO") or ZOO_DIR)


def names(directory: str | Path | None = None) -> list[str]:
    """The shipped models: every sub-folder with a manifest, sorted."""
    root = zoo_dir(directory)
    return sorted(p.parent.name for p in root.glob(f"*/{MANIFEST}")) if root.is_dir() else []


def is_export(path: str | Path) -> bool:
    """Whether ``path`` is an exported model folder; a run trained in installments has a
    ``manifest.json`` too (its ledger), beside its training state."""
    path = Path(path)
    return (path / MANIFEST).is_file() and not (path / RUN_STATE).is_file()


def model_dir(name: str, directory: str | Path | None = None) -> Path:
    """The folder of model ``name``; an unknown name raises a KeyError listing the known ones."""
    path = zoo_dir(directory) / name
    if not (path / MANIFEST).is_file():
        known = ", ".join(names(directory)) or "none"
        raise UnknownModelError(f"no pretrained model {name!r} in {zoo_dir(directory)}; "
                                f"known: {known}")
    return path


def manifest(name: str, directory: str | Path | None = None) -> dict:
    """The parsed ``manifest.json`` of model ``name``."""
    return json.loads((model_dir(name, directory) / MANIFEST).read_text())


def sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load(name: str, device: torch.device | str = "cpu",
         directory: str | Path | None = None) -> torch.nn.Module:
    """Model ``name`` as a float32 generator in eval mode without gradients, on ``device``.

    The weights' SHA-256 is checked against the manifest, so a truncated or swapped file is an
    error naming it rather than a silently different model."""
    from ssnlib.models import GENERATORS

    folder = model_dir(name, directory)
    info = manifest(name, directory)
    weights = folder / WEIGHTS
    if not weights.is_file():
        raise MissingFileError(f"{weights} is missing (model {name!r})")
    if sha256(weights) != info["weights"]["sha256"]:
        raise CheckpointError(f"{weights}: SHA-256 differs from its manifest; the file is "
                              f"damaged or not the one exported")
    model = info["model"]
    G = GENERATORS[model["arch"]](**model["kwargs"])
    state = {k: v.float() for k, v in safetensors_load(weights).items()}
    load_state(G, state, weights, model=f"a {model['arch']} generator with {model['kwargs']}")
    return G.to(device).eval().requires_grad_(False)


def reference_images(name: str, directory: str | Path | None = None
                     ) -> tuple[list[int], np.ndarray]:
    """The reference seeds and their stored images, uint8 [N, R, R, 3] (``reference.png`` is
    the images side by side in one row)."""
    info = manifest(name, directory)["reference"]
    strip = np.asarray(Image.open(model_dir(name, directory) / REFERENCE).convert("RGB"))
    seeds, res = info["seeds"], info["resolution"]
    return seeds, strip.reshape(res, len(seeds), res, 3).transpose(1, 0, 2, 3)
