"""``ssn export --ckpt RUN --name NAME``: ship a run's EMA generator in the model zoo.

    ssn export --ckpt runs/zoo/faces32-ssn-ld100 --name faces32-ssn-ld100 \\
        --launched-as "OMP_NUM_THREADS=1 ssn train --config configs/zoo/faces32.yaml"
"""

from __future__ import annotations

import math

from ssnlib.zoo.export import DTYPES, export
from ssnlib.zoo.pretrained import WEIGHTS


def add_export_command(parser):
    """`ssn export --ckpt RUN --name NAME`: the EMA generator into ``data/checkpoints/NAME``."""
    parser.add_argument("--ckpt", required=True, help="checkpoint file, or run folder (latest)")
    parser.add_argument("--name", required=True, help="zoo name, e.g. faces32-ssn-ld100")
    parser.add_argument("--out", help="zoo folder (default: SSN_ZOO or data/checkpoints)")
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="fp16")
    parser.add_argument("--description", default="", help="one line for the zoo's tables")
    parser.add_argument("--launched-as", default="", help="the command that trained the run, "
                        "as typed (recorded beside the config-file command)")

    def run(args) -> int:
        folder = export(args.ckpt, args.name, args.out, args.dtype, args.description,
                        args.launched_as, args.command_line)
        size = (folder / WEIGHTS).stat().st_size
        print(f"wrote {folder} ({math.ceil(size / 1024)} KiB of weights)")
        return 0
    return run
