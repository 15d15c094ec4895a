"""``ssn sample --ckpt SOURCE --seeds 0-15 --out grid.png``: a PNG grid of seeded samples."""

from __future__ import annotations

import math
import sys

from PIL import Image

from ssnlib.train.sample import parse_seeds, sample_images
from ssnlib.utils import get_device, image_grid
from ssnlib.zoo import load_any


def add_sample_command(parser):
    """`ssn sample --ckpt SOURCE --seeds 0-15 --out grid.png`."""
    parser.add_argument("--ckpt", required=True, help="a zoo name, an exported model folder, a "
                        "checkpoint file or a run folder (its latest checkpoint)")
    parser.add_argument("--seeds", default="0-15", help="seed list, e.g. 0-15 or 1,4,9-12")
    parser.add_argument("--out", default="samples.png", help="PNG grid to write")
    parser.add_argument("--net", choices=("ema", "g"), default="ema",
                        help="EMA generator (default) or the raw trained one")
    parser.add_argument("--truncation", type=float, default=1.0, help="psi; 1 = none")
    parser.add_argument("--nrow", type=int, default=0, help="images per row (default: square)")
    parser.add_argument("--device", default="", help="e.g. cpu, cuda (default: best)")

    def run(args) -> int:
        try:
            seeds = parse_seeds(args.seeds)
            G = load_any(args.ckpt, args.net, get_device(args.device or None))
        except (ValueError, FileNotFoundError) as err:
            print(f"ssn sample: error: {err}", file=sys.stderr)
            return 2
        images = sample_images(G, seeds, args.truncation)
        nrow = args.nrow or math.ceil(math.sqrt(len(seeds)))
        Image.fromarray(image_grid(images, nrow=nrow)).save(args.out)
        print(f"wrote {args.out}: {len(seeds)} images from {args.ckpt} ({args.net})")
        return 0
    return run
