"""One way to name a generator, for every command and notebook.

A *source* is any of

* a zoo name (``faces32-ssn-ld100``, see :func:`ssnlib.zoo.names`);
* an exported model folder (one holding ``manifest.json``, written by ``ssn export``);
* a run trained in installments (``data/runs/NAME``: ``state.pt`` beside its ledger);
* a training checkpoint file (``ckpt-*.pt``) or a training run folder (its latest checkpoint).

:func:`load_any` tells them apart and returns the generator in eval mode without gradients.
:func:`load_eval_generator` adds the evaluation-only way: an architecture, a named config and a
safetensors state dict.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ssnlib.errors import InputError, MissingFileError
from ssnlib.safeload import load_state, safetensors_load
from ssnlib.train.sample import load_generator
from ssnlib.zoo.pretrained import is_export, load, names

SOURCES = ("a zoo name, an exported model folder, a zoo run in installments (data/runs/NAME), "
           "a checkpoint file or a training run folder (its latest checkpoint)")


def load_any(source: str | Path, net: str = "ema",
             device: torch.device | str = "cpu") -> torch.nn.Module:
    """The generator named by ``source`` (see the module docstring). ``net`` picks a training
    checkpoint's ``ema`` (default) or raw ``g`` generator; zoo models hold only the EMA one."""
    path = Path(source)
    if is_export(path):
        return load(path.name, device, directory=path.parent)
    if not path.exists() and str(source) in names():
        return load(str(source), device)
    if not path.exists():
        known = ", ".join(names()) or "none"
        raise MissingFileError(f"{source}: not found (no such file or folder, nor a zoo model; "
                                f"known: {known})")
    return load_generator(path, net=net, device=device)


def load_eval_generator(ckpt: str | Path | None = None, arch: str | None = None,
                        config: str | None = None, weights: str | Path | None = None,
                        net: str = "ema", device: torch.device | str = "cpu") -> torch.nn.Module:
    """A generator in eval mode without gradients: ``ckpt`` (any source of :func:`load_any`)
    or ``arch`` + ``config`` (+ ``weights``, a safetensors state dict; without it the
    generator is freshly initialised, a baseline)."""
    if ckpt is not None:
        return load_any(ckpt, net=net, device=device)
    if arch is None or config is None:
        raise InputError("give --ckpt (or --pretrained), or --arch and --config (and "
                         "--weights)")
    from ssnlib.models import build_generator

    G = build_generator(arch, config)
    if weights is not None:
        load_state(G, safetensors_load(weights), weights,
                   model=f"an untrained {arch}/{config} generator")
    return G.to(device).eval().requires_grad_(False)
