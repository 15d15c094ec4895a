"""``ssn sample --ckpt SOURCE --seeds 0-15 --out grid.png``: a PNG grid of seeded samples."""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image

from ssnlib.errors import InputError
from ssnlib.train.checkpoint import atomic_write
from ssnlib.train.sample import parse_seeds, sample_images
from ssnlib.utils import get_device, image_grid
from ssnlib.zoo import load_any
from ssnlib.zoo.load import SOURCES

IMAGE_SUFFIXES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}


def add_sample_command(parser):
    """`ssn sample --ckpt SOURCE --seeds 0-15 --out grid.png`."""
    parser.add_argument("--ckpt", required=True, help=SOURCES)
    parser.add_argument("--seeds", default="0-15", help="seed list, e.g. 0-15 or 1,4,9-12")
    parser.add_argument("--out", default="samples.png", help="PNG grid to write")
    parser.add_argument("--net", choices=("ema", "g"), default="ema",
                        help="EMA generator (default) or the raw trained one")
    parser.add_argument("--truncation", type=float, default=1.0, help="psi; 1 = none")
    parser.add_argument("--nrow", type=int, default=0, help="images per row (default: square)")
    parser.add_argument("--device", default="", help="e.g. cpu, cuda (default: best)")

    def run(args) -> int:
        out = Path(args.out)
        if out.suffix.lower() not in IMAGE_SUFFIXES:
            raise InputError(f"--out {out}: write a {' or '.join(IMAGE_SUFFIXES)} file")
        seeds = parse_seeds(args.seeds)
        G = load_any(args.ckpt, args.net, get_device(args.device or None))
        images = sample_images(G, seeds, args.truncation)
        nrow = args.nrow or math.ceil(math.sqrt(len(seeds)))
        out.parent.mkdir(parents=True, exist_ok=True)
        grid = Image.fromarray(image_grid(images, nrow=nrow))
        atomic_write(out, lambda f: grid.save(f, format=IMAGE_SUFFIXES[out.suffix.lower()]))
        print(f"wrote {args.out}: {len(seeds)} images from {args.ckpt} ({args.net})")
        return 0
    return run
