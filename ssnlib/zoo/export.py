"""Ship a training run's EMA generator in the model zoo (:mod:`ssnlib.zoo.pretrained`).

    ssn export --ckpt runs/zoo/faces32-ssn-ld100 --name faces32-ssn-ld100 \\
        --launched-as "OMP_NUM_THREADS=1 ssn train --config configs/zoo/faces32.yaml"

writes ``data/checkpoints/<name>/``: the weights as safetensors (fp16 by default), the full
training config as YAML (``ssn train --config <that file>`` retrains the model from scratch),
a reference strip of seeded images and ``manifest.json`` with the run's provenance. Scores are
added later by ``ssn eval --pretrained NAME --record`` (:func:`record_metrics`). Every file is
written atomically; exporting again replaces the folder's files but keeps recorded metrics whose
weights are unchanged.
"""

from __future__ import annotations

import datetime
import io
import json
from pathlib import Path

import numpy as np
import torch
import yaml
from PIL import Image

from ssnlib.data import DATASETS
from ssnlib.safeload import load_state
from ssnlib.train.checkpoint import atomic_write, load_checkpoint, resolve_checkpoint
from ssnlib.train.config import from_dict
from ssnlib.train.monitor import loop_seconds
from ssnlib.train.sample import sample_images
from ssnlib.utils import git_state, to_uint8
from ssnlib.zoo.pretrained import CONFIG, MANIFEST, REFERENCE, WEIGHTS, model_dir, sha256, zoo_dir

DTYPES = {"fp16": torch.float16, "fp32": torch.float32}
REFERENCE_SEEDS = list(range(8))
MAX_BYTES = 15 * 2**20          # the zoo's size limit per generator


def run_wall_time(run_dir: Path) -> float | None:
    """Seconds the training loop ran (:func:`~ssnlib.train.monitor.loop_seconds` to its last
    logged step); None without a log."""
    seconds = loop_seconds(run_dir)
    return max(seconds.values()) if seconds else None


def _shown(path: Path) -> str:
    """``path`` relative to the repository when inside it (how the README's commands read)."""
    root = Path(__file__).resolve().parents[2]
    path = path.resolve()
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def dataset_of(data) -> str:
    """The registry name of a run's training set: ``data.name``, or the procedural dataset a
    packed archive was rendered from (its ``dataset.json`` names the class), else the path."""
    if data.name:
        return data.name
    manifest = Path(data.path) / "dataset.json"
    if manifest.is_file():
        source = json.loads(manifest.read_text()).get("source", "")
        for name, cls in DATASETS.items():
            if source.startswith(f"{cls.__name__}("):
                return name
    return data.path


def write_json(path: Path, data: dict) -> None:
    atomic_write(path, lambda f: f.write((json.dumps(data, indent=1) + "\n").encode()))


def _write_weights(folder: Path, name: str, state: dict, arch: str, dtype: str) -> dict:
    """The EMA generator's state dict in ``dtype`` as ``generator.safetensors``; returns it."""
    from safetensors.torch import save

    weights = {k: v.to(DTYPES[dtype]).contiguous() if v.is_floating_point() else v.contiguous()
               for k, v in state["G_ema"].items()}
    blob = save(weights, metadata={"name": name, "arch": arch})
    if len(blob) > MAX_BYTES:
        raise ValueError(f"{name}: {len(blob) / 2**20:.1f} MiB of weights exceeds the zoo's "
                         f"{MAX_BYTES / 2**20:.0f} MiB limit; try --dtype fp16")
    atomic_write(folder / WEIGHTS, lambda f: f.write(blob))
    return weights


def _write_reference(folder: Path, G: torch.nn.Module) -> None:
    """``reference.png``: the images of the reference seeds side by side."""
    images = sample_images(G, REFERENCE_SEEDS)
    strip = Image.fromarray(np.concatenate([to_uint8(x) for x in images], 1))
    buffer = io.BytesIO()
    strip.save(buffer, format="PNG")
    atomic_write(folder / REFERENCE, lambda f: f.write(buffer.getvalue()))


def _kept_metrics(folder: Path, digest: str) -> dict:
    """The scores of an earlier export of the same weights (they still hold), else none."""
    old = folder / MANIFEST
    if old.is_file():
        previous = json.loads(old.read_text())
        if previous.get("weights", {}).get("sha256") == digest:
            return previous.get("metrics", {})
    return {}


def _manifest(folder: Path, name: str, cfg, state: dict, path: Path, G, dtype: str,
              description: str, launched_as: str, command: str) -> dict:
    from ssnlib.models import generator_kwargs

    digest, m, wall = sha256(folder / WEIGHTS), cfg.model, run_wall_time(path.parent)
    return {
        "name": name,
        "description": description,
        "model": {"arch": m.arch, "config": m.config,
                  "kwargs": generator_kwargs(m.arch, m.config, resolution=cfg.data.resolution,
                                             **m.overrides),
                  "parameters": sum(p.numel() for p in G.parameters())},
        "weights": {"file": WEIGHTS, "dtype": dtype, "sha256": digest,
                    "bytes": (folder / WEIGHTS).stat().st_size, "net": "G_ema"},
        "training": {
            "command": f"ssn train --config {_shown(folder / CONFIG)}",
            "launched_as": launched_as or None,
            "dataset": dataset_of(cfg.data), "data_path": cfg.data.path or None,
            "resolution": cfg.data.resolution,
            "steps": state["step"], "images_seen": state["images_seen"],
            "batch": cfg.batch, "lambda_D": cfg.reg.distortion_weight,
            "distortion_mode": cfg.reg.distortion_mode,
            "seed": cfg.seed, "init": cfg.model.init or None, "pl_weight": cfg.reg.pl_weight,
            "wall_time_s": None if wall is None else round(wall, 1),
            "wall_time_note": "training loop time summed from the run's log.jsonl",
            "device": state["device_type"], "checkpoint": str(path),
        },
        "export": {"command": command or None,
                   "date": datetime.date.today().isoformat(),
                   "torch": torch.__version__.split("+")[0],
                   **git_state("ssnlib", "configs")},
        "reference": {"file": REFERENCE, "seeds": REFERENCE_SEEDS,
                      "resolution": cfg.data.resolution,
                      "how": "ssnlib.train.sample.sample_images(G, seeds): seed s draws z and "
                             "the noise maps from torch.Generator().manual_seed(s)"},
        "metrics": _kept_metrics(folder, digest),
    }


def export(ckpt: str | Path, name: str, out: str | Path | None = None, dtype: str = "fp16",
           description: str = "", launched_as: str = "", command: str = "") -> Path:
    """Export the EMA generator of ``ckpt`` (a checkpoint file or a run folder: its latest) as
    zoo model ``name``; returns the model folder. ``command`` (the export command line) is
    recorded in the manifest."""
    from ssnlib.train.trainer import build_models

    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {dtype!r}")
    path = resolve_checkpoint(ckpt)
    state = load_checkpoint(path)
    cfg = from_dict(state["config"])
    folder = zoo_dir(out) / name
    weights = _write_weights(folder, name, state, cfg.model.arch, dtype)
    atomic_write(folder / CONFIG, lambda f: f.write(yaml.safe_dump(
        cfg.to_dict(), sort_keys=False).encode()))
    # the reference strip comes from the shipped (rounded) weights, as a user would load them
    G = build_models(cfg)[0].eval().requires_grad_(False)
    load_state(G, {k: v.float() for k, v in weights.items()}, path, model="the run's G_ema")
    _write_reference(folder, G)
    write_json(folder / MANIFEST, _manifest(folder, name, cfg, state, path, G, dtype,
                                            description, launched_as, command))
    return folder


def record_metrics(name: str, report: dict, directory: str | Path | None = None) -> Path:
    """Store an ``ssn eval`` report's scores in model ``name``'s manifest, one entry per metric
    with the command that produced it (replacing an earlier entry for the same metric). Scores
    in the Inception feature space are kept apart from the domain network's, as ``fid_inception``
    and so on: the two are different metrics."""
    path = model_dir(name, directory) / MANIFEST
    manifest = json.loads(path.read_text())
    space = report["args"].get("features", "domain")
    for metric, result in report["metrics"].items():
        if metric == "time_s":
            continue
        if space != "domain" and metric in ("fid", "kid", "pr", "ppl"):
            metric = f"{metric}_{space}"
        manifest["metrics"][metric] = {**result, "command": report["command"],
                                       "seed": report["args"]["seed"],
                                       "time_s": report["metrics"]["time_s"],
                                       "environment": report["environment"]}
    write_json(path, manifest)
    return path
