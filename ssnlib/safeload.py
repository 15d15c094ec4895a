"""Reading weights from disk, safely and with errors a user can act on.

Every checkpoint, weights file and state dict ``ssnlib`` loads goes through here:

* :func:`torch_load`: a ``torch.save`` file, unpickled with ``weights_only=True`` (tensors and
  plain containers only, plus whatever harmless classes the caller allows): a file whose
  unpickling would call anything is refused before anything runs;
* :func:`safetensors_load`: a ``.safetensors`` file;
* :func:`load_state`: a state dict into a module, strictly, naming the first key that is
  missing, unexpected or of another shape (with both shapes).

Every failure (missing, empty, truncated, random bytes, unsafe, not a state dict, wrong shapes)
is a one-line :class:`~ssnlib.errors.CheckpointError` or
:class:`~ssnlib.errors.MissingFileError` naming the file.
"""

from __future__ import annotations

import pickle
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path

import torch

from ssnlib.errors import CheckpointError, MissingFileError, one_line


def _first_line(err: BaseException) -> str:
    """The first sentence of an error's text (torch appends paragraphs of advice)."""
    lines = [s.strip() for s in str(err).splitlines() if s.strip()]
    return lines[0].split(". ")[0] if lines else type(err).__name__


def _existing(path: str | Path, what: str) -> Path:
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"{path}: a folder, not a {what} file")
    if not path.is_file():
        raise MissingFileError(f"{path}: no such file (a {what} was expected)")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path}: empty {what} file (0 bytes); it was never written "
                              f"completely")
    return path


def _refusal(err: pickle.UnpicklingError) -> str:
    """What an unsafe file asked for, in a few words (torch's own text advises turning the
    safety off, which we never repeat)."""
    found = re.search(r"GLOBAL ([\w.]+)", str(err))
    other = re.search(r"(Unsupported [^\n.]*)", str(err))
    if found:
        return f"unpickling it would call or build {found.group(1)}"
    return other.group(1) if other else "it holds pickled objects beyond tensors"


def torch_load(path: str | Path, safe_globals: Sequence[type] = (),
               what: str = "checkpoint") -> object:
    """The contents of a ``torch.save`` file on the CPU, loaded with ``weights_only=True``
    (``safe_globals``: classes the file may legitimately hold, e.g. ``argparse.Namespace``)."""
    path = _existing(path, what)
    try:
        with torch.serialization.safe_globals(list(safe_globals)):
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        if "Weights only load failed" not in str(err) and "GLOBAL" not in str(err):
            raise CheckpointError(f"{path}: not a torch {what} (damaged or another format): "
                                  f"{_first_line(err)}") from None
        raise CheckpointError(f"{path}: refused ({_refusal(err)}): only tensors and plain "
                              f"containers are loaded, and nothing in the file was run") from None
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile, ValueError, KeyError,
            IndexError, TypeError, AttributeError) as err:
        raise CheckpointError(f"{path}: not a readable torch {what} (truncated or damaged?): "
                              f"{one_line(_first_line(err))}") from None


def safetensors_load(path: str | Path) -> dict[str, torch.Tensor]:
    """A ``.safetensors`` file's tensors on the CPU."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = _existing(path, "safetensors")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        raise CheckpointError(f"{path}: not a readable safetensors file (truncated or "
                              f"damaged?): {one_line(_first_line(err))}") from None


def _shape(t) -> list[int]:
    return list(t.shape) if isinstance(t, torch.Tensor) else ["not a tensor"]


def load_state(module: torch.nn.Module, state: object, source: str | Path,
               model: str | None = None) -> torch.nn.Module:
    """``module.load_state_dict(state)``, strictly; a state that does not fit is a
    :class:`~ssnlib.errors.CheckpointError` naming ``source``, the first key that differs and
    both shapes (``model`` names the module in the message, default its class)."""
    model = model or type(module).__name__
    if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
        raise CheckpointError(f"{source}: does not hold a state dict for {model}")
    mine = module.state_dict()
    for key, value in mine.items():
        if key not in state:
            raise CheckpointError(f"{source}: has no {key!r} ({_shape(value)}), which {model} "
                                  f"needs: another architecture or config?")
        if _shape(state[key]) != _shape(value):
            raise CheckpointError(f"{source}: {key!r} has shape {_shape(state[key])}, but "
                                  f"{model} needs {_shape(value)}: another architecture, size "
                                  f"or channel width?")
    extra = [k for k in state if k not in mine]
    if extra:
        raise CheckpointError(f"{source}: holds {extra[0]!r}, which {model} does not have "
                              f"({len(extra)} such keys): another architecture or config?")
    module.load_state_dict(state)
    return module
