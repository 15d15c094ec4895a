"""The generator an evaluation scores: from a training checkpoint (``ssn train``'s format, via
:func:`ssnlib.train.load_generator`), or from an architecture, a named config and a safetensors
state dict (e.g. weights shipped in ``data/``)."""

from __future__ import annotations

from pathlib import Path

import torch


def load_eval_generator(ckpt: str | Path | None = None, arch: str | None = None,
                        config: str | None = None, weights: str | Path | None = None,
                        net: str = "ema", device: torch.device | str = "cpu") -> torch.nn.Module:
    """A generator in eval mode without gradients: ``ckpt`` (a checkpoint file or run folder;
    ``net`` picks ``ema`` or ``g``) or ``arch`` + ``config`` (+ ``weights``, a safetensors
    state dict; without it the generator is freshly initialised, a baseline)."""
    if ckpt is not None:
        from ssnlib.train import load_generator

        return load_generator(ckpt, net=net, device=device)
    if arch is None or config is None:
        raise ValueError("give --ckpt, or --arch and --config (and --weights)")
    from safetensors.torch import load_file

    from ssnlib.models import build_generator

    G = build_generator(arch, config)
    if weights is not None:
        G.load_state_dict(load_file(str(weights)))
    return G.to(device).eval().requires_grad_(False)
