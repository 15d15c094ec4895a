"""``ssn widen SRC OUT --factor 2``: a trained generator with more channels, the same images.

SRC is a starting point written by ``ssn transfer`` (its G and D), or one of our training
checkpoints, run folders or zoo runs in installments (``data/runs/NAME``: its G_ema and D), of
an SSN or a StyleGAN2. OUT is a starting point like ``ssn transfer``'s: the wider generator
(:mod:`ssnlib.widen`: it draws SRC's images exactly) and SRC's discriminator unchanged::

    ssn widen data/runs/skylines32-ssn-ld100/init.pt wide.pt --factor 2
    ssn train --config configs/zoo/v3/skylines32-ssn-ld100.yaml \\
        model.overrides.channel_max=64 model.init=wide.pt

A wider StyleGAN2 can then go through ``ssn transfer`` as any other.
"""

from __future__ import annotations

import sys

import torch

from ssnlib.models import GENERATORS
from ssnlib.models.common import make_channels
from ssnlib.models.configs import generator_kwargs
from ssnlib.train.checkpoint import resolve_checkpoint, save_checkpoint
from ssnlib.train.config import ConfigError, from_dict
from ssnlib.train.trainer import CKPT_FORMAT, build_models
from ssnlib.transfer import INIT_FORMAT, TransferError, copy_state, init_state, safe_load
from ssnlib.widen import widen_into, wider_channels


def load_generator(src: str):
    """(generator, its constructor arguments, the discriminator's state or None) of SRC."""
    path = resolve_checkpoint(src)                  # a run folder: its latest; a file: itself
    state = safe_load(path)
    fmt = state.get("format") if isinstance(state, dict) else None
    if fmt == INIT_FORMAT:
        kwargs = dict(state["kwargs"])
        G = GENERATORS[state["arch"]](**kwargs)
        copy_state(state["G"], G, f"{path}[G]")
        return G, kwargs, state["D"]
    if fmt == CKPT_FORMAT:
        cfg = from_dict(state["config"])
        G, _ = build_models(cfg)
        copy_state(state["G_ema"], G, f"{path}[G_ema]")
        m = cfg.model
        kwargs = generator_kwargs(m.arch, m.config, resolution=cfg.data.resolution,
                                  **m.overrides)
        return G, kwargs, state["D"]
    raise TransferError(f"{path}: neither a starting point from `ssn transfer` ({INIT_FORMAT})"
                        f" nor an ssnlib training checkpoint ({CKPT_FORMAT})")


def train_hint(G) -> str:
    """The config override that builds ``G``'s widths, or its channel dict."""
    widths = set(G.channels.values())
    if len(widths) == 1:
        cap = widths.pop()
        if make_channels(G.resolution, None, cap) == G.channels:
            return f"model.overrides.channel_max={cap}"
    return f"a generator with channels {G.channels}"


def add_widen_command(parser):
    """`ssn widen SRC OUT [--factor F] [--seed S]`."""
    parser.add_argument("src", metavar="SRC", help="an `ssn transfer` output, or a training "
                        "checkpoint, run folder or zoo run (data/runs/NAME) of an SSN or "
                        "StyleGAN2")
    parser.add_argument("out", metavar="OUT", help="the starting point to write; train from it "
                        "with `ssn train ... model.init=OUT`")
    parser.add_argument("--factor", type=float, default=2.0,
                        help="channels per layer times this (default 2)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the new channels' weights")

    def run(args) -> int:
        try:
            G, kwargs, d_state = load_generator(args.src)
            wide_kwargs = {**kwargs, "channels": wider_channels(G.channels, args.factor)}
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(args.seed)
                wide = GENERATORS[G.arch](**wide_kwargs)
            report = widen_into(G, wide, args.src)
        except (ValueError, FileNotFoundError, ConfigError) as err:
            print(f"ssn widen: error: {err}", file=sys.stderr)
            return 2
        start = init_state(wide, None, wide_kwargs, report, args.src)
        save_checkpoint({**start, "D": d_state}, args.out)
        print(report)
        print(f"channels {G.channels} -> {wide.channels}; discriminator "
              f"{'kept as it was' if d_state is not None else 'none in SRC, starts fresh'}")
        print(f"wrote {args.out}; train from it: ssn train --config <config> "
              f"{train_hint(wide)} model.init={args.out}")
        return 0
    return run
