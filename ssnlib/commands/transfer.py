"""``ssn transfer SRC OUT``: a StyleGAN2 generator (and discriminator) -> an SSN to train from.

The paper's protocol (section 3.4) in two commands::

    ssn transfer faces32-stylegan2 runs/faces32-ssn.init.pt
    ssn train --config configs/zoo/faces32.yaml model.init=runs/faces32-ssn.init.pt

SRC is a zoo name or exported folder (generator only: D starts fresh), one of our training
checkpoints or run folders of a ``stylegan2`` run, or a zoo run in installments
(``data/runs/faces32-stylegan2``: its ``state.pt``) (G_ema and D), or a rosinality/stylegan2-pytorch
``.pt`` (g_ema and, when present, d). Every ``.pt`` is read with ``weights_only=True``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ssnlib.models import StyleGAN2Generator
from ssnlib.train.checkpoint import resolve_checkpoint, save_checkpoint
from ssnlib.train.config import ConfigError, from_dict
from ssnlib.train.trainer import CKPT_FORMAT, build_models
from ssnlib.transfer import (
    TransferError,
    copy_state,
    init_state,
    load_rosinality,
    safe_load,
    ssn_kwargs,
    stylegan2_to_ssn,
)
from ssnlib.zoo import load_any
from ssnlib.zoo.pretrained import is_export


def _from_training_checkpoint(path: Path, state: dict):
    """G_ema and D of one of our stylegan2 training checkpoints."""
    cfg = from_dict(state["config"])
    if cfg.model.arch != "stylegan2":
        raise TransferError(f"{path}: a {cfg.model.arch} run; transfer starts from stylegan2")
    G, D = build_models(cfg)
    copy_state(state["G_ema"], G, f"{path}[G_ema]")
    copy_state(state["D"], D, f"{path}[D]")
    return G, D


def load_source(src: str):
    """(StyleGAN2 generator, discriminator or None) named by ``src`` (see the module doc)."""
    path = Path(src)
    if path.is_dir() and not is_export(path):
        path = resolve_checkpoint(path)                       # a run folder: its latest
    if path.is_file():
        state = safe_load(path)
        if isinstance(state, dict) and "g_ema" in state:
            ckpt = load_rosinality(path)
            return ckpt.G_ema, ckpt.D
        if isinstance(state, dict) and state.get("format") == CKPT_FORMAT:
            return _from_training_checkpoint(path, state)
        raise TransferError(f"{path}: neither a rosinality checkpoint (g_ema) nor an ssnlib "
                            f"training checkpoint")
    return load_any(src), None                                # a zoo name or exported folder


def add_transfer_command(parser):
    """`ssn transfer SRC OUT [--grid H W]`."""
    parser.add_argument("src", metavar="SRC", help="a zoo name or exported folder, a stylegan2 "
                        "training checkpoint or run folder, a zoo run (data/runs/NAME), or a "
                        "rosinality .pt")
    parser.add_argument("out", metavar="OUT", help="the file to write; train from it with "
                        "`ssn train ... model.init=OUT`")
    parser.add_argument("--grid", type=int, nargs=2, default=(4, 4), metavar=("H", "W"),
                        help="latent grid, blocks per column and row (default 4 4)")
    parser.add_argument("--encoder-subdiv", type=int, default=4, help="encoder cells per block")
    parser.add_argument("--encoder-units", type=int, default=1, help="encoder residual units")

    def run(args) -> int:
        try:
            G, D = load_source(args.src)
            if not isinstance(G, StyleGAN2Generator):
                raise TransferError(f"{args.src}: a {type(G).__name__}; transfer starts from "
                                    f"a StyleGAN2 generator")
            kwargs = ssn_kwargs(G, tuple(args.grid), args.encoder_subdiv, args.encoder_units)
            ssn, D, report = stylegan2_to_ssn(G.float(), D, tuple(args.grid),
                                              args.encoder_subdiv, args.encoder_units,
                                              source=args.src)
        except (ValueError, FileNotFoundError, ConfigError) as err:
            print(f"ssn transfer: error: {err}", file=sys.stderr)
            return 2
        save_checkpoint(init_state(ssn, D, kwargs, report, args.src), args.out)
        print(report)
        print(f"discriminator: {'copied' if D is not None else 'none in SRC, starts fresh'}")
        print(f"wrote {args.out}; train from it: ssn train --config <config building this SSN> "
              f"model.init={args.out}\n  generator arguments: {kwargs}")
        return 0
    return run
