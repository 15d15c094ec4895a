"""``ssn train`` and ``ssn sample`` (registered in :mod:`ssnlib.cli`)."""

from __future__ import annotations

import math
import sys

from PIL import Image

from ssnlib.utils import image_grid


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


def add_sample_command(parser):
    """`ssn sample --ckpt RUN_OR_FILE --seeds 0-15 --out grid.png`."""
    parser.add_argument("--ckpt", required=True, help="checkpoint file, or run folder (latest)")
    parser.add_argument("--seeds", default="0-15", help="seed list, e.g. 0-15 or 1,4,9-12")
    parser.add_argument("--out", default="samples.png", help="PNG grid to write")
    parser.add_argument("--net", choices=("ema", "g"), default="ema",
                        help="EMA generator (default) or the raw trained one")
    parser.add_argument("--truncation", type=float, default=1.0, help="psi; 1 = none")
    parser.add_argument("--nrow", type=int, default=0, help="images per row (default: square)")
    parser.add_argument("--device", default="", help="e.g. cpu, cuda (default: best)")

    def run(args) -> int:
        from ssnlib.train.sample import load_generator, parse_seeds, sample_images
        from ssnlib.utils import get_device

        try:
            seeds = parse_seeds(args.seeds)
            G = load_generator(args.ckpt, args.net, get_device(args.device or None))
        except (ValueError, FileNotFoundError) as err:
            print(f"ssn sample: error: {err}", file=sys.stderr)
            return 2
        images = sample_images(G, seeds, args.truncation)
        nrow = args.nrow or math.ceil(math.sqrt(len(seeds)))
        Image.fromarray(image_grid(images, nrow=nrow)).save(args.out)
        print(f"wrote {args.out}: {len(seeds)} images from {args.ckpt} ({args.net})")
        return 0
    return run
