"""Zoo runs trained in installments (``data/runs/NAME/``, written by ``tools/installment.py``).

A run folder holds its resumable training state (``state.pt``), its config and a ledger
(``manifest.json``) with one entry per installment: images seen, wall time, device and the
scores measured after it. The chapters read them here:

    from ssnlib.zoo import runs
    G = runs.load("faces32-ssn-ld100")       # the EMA generator of the newest installment
    runs.summary("faces32-ssn-ld100")        # images seen, installments, newest scores
    runs.history("faces32-ssn-ld100")        # the scores after each installment
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
import yaml

from ssnlib.errors import InputError, MissingFileError
from ssnlib.train.checkpoint import RUN_STATE
from ssnlib.train.sample import load_generator

RUNS_DIR = Path(__file__).resolve().parents[2] / "data" / "runs"
STATE, LEDGER = RUN_STATE, "manifest.json"


def runs_dir(directory: str | Path | None = None) -> Path:
    """``directory``, else ``$SSN_RUNS``, else the repository's ``data/runs``."""
    return Path(directory or os.environ.get("SSN_RUNS") or RUNS_DIR)


def names(directory: str | Path | None = None) -> list[str]:
    """The runs with at least one recorded installment, sorted."""
    root = runs_dir(directory)
    return sorted(p.parent.name for p in root.glob(f"*/{STATE}")) if root.is_dir() else []


def ledger(name: str, directory: str | Path | None = None) -> dict:
    """The parsed ledger of run ``name``; a run without a recorded installment is an error
    that lists the runs there are."""
    path = runs_dir(directory) / name
    if not (path / STATE).is_file() or not (path / LEDGER).is_file():
        known = ", ".join(names(directory)) or "none"
        raise MissingFileError(f"{path}: no trained run {name!r} (needs {STATE} and {LEDGER}); "
                               f"known: {known}")
    try:
        return json.loads((path / LEDGER).read_text())
    except json.JSONDecodeError as err:
        raise InputError(f"{path / LEDGER}: not valid JSON ({err})") from None


def summary(name: str, directory: str | Path | None = None) -> dict:
    """Where run ``name`` stands: its architecture, dataset and lambda_D (from its config),
    images seen, installments, CPU/GPU wall time, the scores
    measured after its newest installment (``fid``, ``kid``, ``precision``, ``recall``; its
    attribute shares as ``attributes`` where measured) and,
    for a run started by transfer, the run and the images it started from (``transfer``)."""
    book = ledger(name, directory)
    parts = [p for p in book["installments"] if "images_after" in p]
    if not parts:
        raise InputError(f"{runs_dir(directory) / name / LEDGER}: no trained installment")
    cfg = yaml.safe_load((runs_dir(directory) / name / "config.yaml").read_text())
    return {"name": name, "arch": cfg["model"]["arch"], "dataset": cfg["data"]["name"],
            "lambda_D": float(cfg.get("reg", {}).get("distortion_weight", 0)),
            "images": parts[-1]["images_after"], "installments": len(parts),
            "wall_time_s": sum(p["wall_time_s"] for p in parts),
            "devices": sorted({p["device"] for p in parts}),
            "transfer": {k: book["transfer"][k] for k in ("from", "images")}
            if "transfer" in book else None, **parts[-1].get("scores", {}),
            **({"attributes": parts[-1]["attributes"]} if "attributes" in parts[-1] else {})}


def history(name: str, directory: str | Path | None = None) -> list[dict]:
    """Run ``name``'s scores after each installment, oldest first: ``images`` (seen by this
    run), ``total_images`` (plus those of the StyleGAN2 it was transferred from) and the
    scores. A run started by transfer begins with its start: ``images`` 0, the StyleGAN2's
    scores at the transfer."""
    book = ledger(name, directory)
    start = book.get("transfer")
    offset = start["images"] if start else 0
    points = [{"images": 0, **start["scores"]}] if start else []
    points += [{"images": p["images_after"], **p["scores"]}
               for p in book["installments"] if "images_after" in p]
    return [{**p, "total_images": p["images"] + offset} for p in points]


def load(name: str, device: torch.device | str = "cpu",
         directory: str | Path | None = None) -> torch.nn.Module:
    """The EMA generator of run ``name``'s newest installment, float32, eval mode."""
    ledger(name, directory)                                   # a clear error if it is missing
    return load_generator(runs_dir(directory) / name / STATE, net="ema", device=device)
