"""``ssn train --config configs/X.yaml [key=value ...]``: train an SSN, StyleGAN2 or SPADE."""

from __future__ import annotations

import sys


def add_train_command(parser):
    """`ssn train --config configs/X.yaml [key=value ...]`; under ``torchrun`` it trains on
    every process (``torchrun --nproc_per_node=N -m ssnlib.cli train ...``)."""
    parser.add_argument("--config", help="YAML config (configs/*.yaml); defaults if omitted")
    parser.add_argument("overrides", nargs="*", metavar="key=value",
                        help="dotted overrides, e.g. batch=16 reg.distortion_weight=100")
    parser.add_argument("--resume", nargs="?", const="auto", default=None,
                        help="continue a run: 'auto' (latest in run_dir, the default) or a path")

    def run(args) -> int:
        from ssnlib.train.config import ConfigError, load_config
        from ssnlib.train.distributed import shutdown
        from ssnlib.train.trainer import NonFiniteLossError, Trainer

        overrides = list(args.overrides)
        if args.resume is not None:
            overrides.append(f"resume={args.resume}")
        trainer = None
        try:
            trainer = Trainer(load_config(args.config, overrides))
            trainer.run()
            if trainer.dist.main:
                print(f"done: step {trainer.step}, checkpoint {trainer.last_checkpoint}")
            return 0
        except (ConfigError, FileNotFoundError) as err:
            print(f"ssn train: error: {err}", file=sys.stderr)
            return 2
        except NonFiniteLossError as err:
            print(f"ssn train: stopped: {err}", file=sys.stderr)
            return 1
        finally:
            if trainer is not None:
                trainer.close()
            shutdown()
    return run
