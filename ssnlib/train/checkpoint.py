"""Checkpoints: atomic writes, safe loads, and the random state a run needs to continue exactly.

A checkpoint is one ``torch.save`` file of tensors and plain containers only (dicts, lists,
numbers, strings), so it loads with ``torch.load(weights_only=True)``: no pickled code runs.
It is written to a hidden temporary file in the same folder, flushed and fsync'ed, then renamed
over the final name (``os.replace`` is atomic on POSIX), and the folder is fsync'ed: a crash at
any moment leaves either the previous checkpoint or the new one, never a torn file.
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch

from ssnlib.errors import CheckpointError, MissingFileError
from ssnlib.safeload import torch_load

CKPT_PATTERN = re.compile(r"^ckpt-(\d+)\.pt$")
CKPT_KEYS = {"config", "step", "G", "G_ema"}        # what every training checkpoint holds
RUN_STATE = "state.pt"      # a run trained in installments (data/runs/NAME) keeps one state file


def checkpoint_name(step: int) -> str:
    return f"ckpt-{step:08d}.pt"


def atomic_write(path: str | Path, write: Callable[[BinaryIO], None]) -> Path:
    """Call ``write(f)`` on a temporary file beside ``path``, fsync it, rename it over ``path``
    and fsync the folder: readers see the old file or the new one, never a torn one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)                      # make the rename itself durable
    finally:
        os.close(fd)
    return path


def save_checkpoint(state: dict, path: str | Path) -> Path:
    """Write ``state`` to ``path`` atomically (temporary file + fsync + rename)."""
    return atomic_write(path, lambda f: torch.save(state, f))


def load_checkpoint(path: str | Path) -> dict:
    """A training checkpoint's contents on the CPU, loaded with ``weights_only=True``
    (:func:`ssnlib.safeload.torch_load`); a missing, damaged, unsafe or foreign file is a
    one-line error naming it."""
    state = torch_load(path)
    missing = sorted(CKPT_KEYS - set(state)) if isinstance(state, dict) else sorted(CKPT_KEYS)
    if missing:
        raise CheckpointError(f"{path}: a torch file, but not an ssn training checkpoint (no "
                              f"{', '.join(missing)}); a zoo model is named by its folder or "
                              f"name, and `ssn transfer` output starts a run as model.init=")
    return state


def newest_loadable(run_dir: str | Path) -> tuple[Path, dict, list[str]]:
    """The newest checkpoint of ``run_dir`` that loads, its contents, and a note for each
    newer one skipped because it does not load (truncated by a crash, say)."""
    skipped = []
    for path in reversed(list_checkpoints(run_dir)):
        try:
            return path, load_checkpoint(path), skipped
        except CheckpointError as err:
            skipped.append(f"skipped {path.name}: {err}")
    if skipped:
        raise CheckpointError(f"resume=auto: no checkpoint in {run_dir} loads ("
                              f"{'; '.join(skipped)})")
    raise MissingFileError(f"resume=auto: no checkpoint (ckpt-*.pt) in {run_dir} yet; start "
                           f"without --resume")


def list_checkpoints(run_dir: str | Path) -> list[Path]:
    """The complete checkpoints in ``run_dir``, oldest first (temporary files are ignored)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in run_dir.iterdir()
             if (m := CKPT_PATTERN.match(p.name)) and p.is_file()]
    return [p for _, p in sorted(found)]


def latest_checkpoint(run_dir: str | Path) -> Path | None:
    found = list_checkpoints(run_dir)
    return found[-1] if found else None


def resolve_checkpoint(spec: str | Path) -> Path:
    """A run folder (its latest checkpoint, else its installment state ``state.pt``) or a
    checkpoint file; ``resume=auto`` is :func:`newest_loadable`'s."""
    path = Path(spec)
    if path.is_dir():
        latest = latest_checkpoint(path)
        if latest is None and (path / RUN_STATE).is_file():
            latest = path / RUN_STATE
        if latest is None:
            raise MissingFileError(f"{path}: no checkpoint (ckpt-*.pt or {RUN_STATE}) in this "
                                   f"folder")
        return latest
    if not path.is_file():
        raise MissingFileError(f"{path}: no such checkpoint file or run folder")
    return path


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (ours included)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True                       # it exists, under another user
    return True


def prune_checkpoints(run_dir: str | Path, keep: int) -> None:
    """Delete all but the ``keep`` newest checkpoints (``keep=0`` keeps all) and stale
    temporary files left by a crash."""
    run_dir = Path(run_dir)
    for stale in run_dir.glob(".ckpt-*.pt.tmp*"):
        writer = stale.name.rpartition(".tmp")[2]
        if not (writer.isdigit() and pid_alive(int(writer))):   # never another live writer's
            stale.unlink(missing_ok=True)
    if keep > 0:
        for old in list_checkpoints(run_dir)[:-keep]:
            old.unlink(missing_ok=True)


def rng_state(generators: dict[str, torch.Generator]) -> dict:
    """Every random state a run draws from, as tensors and plain values."""
    _, keys, pos, has_gauss, gauss = np.random.get_state()  # noqa: NPY002 -- global state
    version, py_state, py_gauss = random.getstate()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {"keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "gauss": float(gauss)},
        "python": {"version": version, "state": torch.tensor(py_state, dtype=torch.int64),
                   "gauss": py_gauss},
        "generators": {name: g.get_state() for name, g in generators.items()},
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict, generators: dict[str, torch.Generator]) -> None:
    """Restore what :func:`rng_state` captured (CUDA states for the devices present)."""
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state(("MT19937", n["keys"].numpy().astype(np.uint32), n["pos"],  # noqa: NPY002
                         n["has_gauss"], n["gauss"]))
    p = state["python"]
    random.setstate((p["version"], tuple(int(v) for v in p["state"]), p["gauss"]))
    for name, g in generators.items():
        g.set_state(state["generators"][name])
    if "cuda" in state and torch.cuda.is_available():
        cuda = state["cuda"][:torch.cuda.device_count()]
        torch.cuda.set_rng_state_all(cuda)
