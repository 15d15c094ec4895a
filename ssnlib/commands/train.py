"""``ssn train --config faces64 [key=value ...]``: train an SSN, StyleGAN2 or SPADE generator.

``--config`` takes a YAML file or the name of a shipped one (``faces64`` is
``configs/faces64.yaml``); ``key=value`` overrides any config key (``ssn train --help`` lists
them all with their defaults). Under ``torchrun`` every process trains its share of the batch:
``torchrun --nproc_per_node=N -m ssnlib.cli train ...``.
"""

from __future__ import annotations

import argparse
import sys

from ssnlib.train.config import describe_keys, load_config
from ssnlib.train.distributed import shutdown
from ssnlib.train.trainer import NonFiniteLossError, Trainer


def header(trainer: Trainer) -> str:
    """What a run is about to do, in a few lines: model, data, device, length, files."""
    cfg, G, D = trainer.cfg, trainer.G, trainer.D
    m, data, reg = cfg.model, cfg.data, cfg.reg
    params = sum(p.numel() for p in G.parameters()), sum(p.numel() for p in D.parameters())
    source = (f"images from {data.path}" if data.path else
              f"procedural {data.name} ({data.length:,} images, seed {data.seed})")
    precision = "bf16 autocast" if trainer.amp_dtype is not None else "fp32"
    lines = [
        f"model    {m.arch}/{m.config}: G {params[0]:,} and D {params[1]:,} parameters"
        + (f", started from {m.init}" if m.init else ""),
        f"data     {source} at {data.resolution}x{data.resolution}"
        + (", mirrored" if data.mirror else ""),
        f"device   {trainer.device} ({precision}), {trainer.dist.world} process(es)",
        f"length   {cfg.total_steps:,} steps of batch {cfg.batch} "
        f"(from step {trainer.step:,}); lambda_D {reg.distortion_weight:g}, R1 gamma "
        f"{reg.r1_gamma:g}, path length {reg.pl_weight:g}",
        f"run      {trainer.run_dir}: ckpt-*.pt every {cfg.ckpt_every} steps (newest "
        f"{cfg.keep_ckpts or 'all'} kept), samples/ every {cfg.sample_every}, log.jsonl every "
        f"{cfg.log_every}",
    ]
    return "\n".join(lines)


def add_train_command(parser: argparse.ArgumentParser):
    """`ssn train --config NAME_OR_FILE [key=value ...] [--resume [auto|PATH]]`."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = "config keys (key = default):\n  " + "\n  ".join(describe_keys())
    parser.add_argument("--config", help="a YAML file, or a shipped config by name (faces64, "
                        "zoo/faces32, ...); the defaults if omitted")
    parser.add_argument("overrides", nargs="*", metavar="key=value",
                        help="dotted overrides, e.g. batch=16 reg.distortion_weight=100")
    parser.add_argument("--resume", nargs="?", const="auto", default=None,
                        help="continue a run: 'auto' (the newest checkpoint in run_dir that "
                        "loads) or a checkpoint path")

    def run(args) -> int:
        overrides = list(args.overrides)
        if args.resume is not None:
            overrides.append(f"resume={args.resume}")
        trainer = None
        try:
            trainer = Trainer(load_config(args.config, overrides))
            if trainer.dist.main:
                print(header(trainer), flush=True)
                for note in trainer.resume_notes:
                    print(f"note: {note}", file=sys.stderr)
            trainer.run()
            if trainer.dist.main:
                print(f"done: step {trainer.step}, checkpoint {trainer.last_checkpoint}")
            return 0
        except NonFiniteLossError as err:
            print(f"ssn train: stopped: {err}", file=sys.stderr)
            return 1
        finally:
            if trainer is not None:
                trainer.close()
            shutdown()
    return run
