"""``ssn train-featurenet``: train, score and ship the domain feature network that the metrics
use (:mod:`ssnlib.metrics.train_featurenet`).

    ssn train-featurenet --out data/featurenet --train 8000 --steps 3000
"""

from __future__ import annotations

import argparse
import json
import os

from ssnlib.metrics.featurenet import DEFAULT_DIR
from ssnlib.metrics.train_featurenet import train


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--out", default=str(DEFAULT_DIR), help="output folder")
    parser.add_argument("--train", type=int, default=8000, help="training images per dataset")
    parser.add_argument("--heldout", type=int, default=1000, help="held-out images per dataset")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                        help="processes rendering the data")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's "
                        "default; 1 is fastest on a busy shared machine)")
    return parser


def add_train_featurenet_command(parser: argparse.ArgumentParser):
    """`ssn train-featurenet`: train the domain feature network on the procedural datasets."""
    add_arguments(parser)

    def run(args) -> int:
        manifest = train(args, args.command_line)
        print(json.dumps(manifest["heldout"], indent=1))
        return 0
    return run
