"""`ssn resample`: resample blocks of a sampled or an inverted image and write PNGs.

    ssn resample --ckpt RUN_OR_FILE --seed 3 --blocks 1,2 --out DIR
    ssn resample --ckpt RUN_OR_FILE --image photo.png --blocks 0:1,2:2 --out DIR
    ssn resample --ckpt RUN_OR_FILE --image photo.png --mask hair.png --out DIR

``--seed S`` draws z and the noise from ``torch.Generator().manual_seed(S)`` (the convention
of ``ssn sample``, so both show the same image); ``--image`` inverts a picture first
(:func:`ssnlib.invert.invert`). Without ``--ckpt``, ``--arch``/``--config`` build an *untrained*
generator with weights from ``--init-seed`` (for trying the tool; its images are noise-like).
DIR receives ``before.png``, ``after.png``, ``diff.png`` (heat map of the change),
``figure.png`` (the three with the block grid and the resampled blocks outlined) and
``latents.pt`` (z before and after, and the noise), plus ``input.png`` with ``--image``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ssnlib.resample.select import grid_of, selected_indices, selection_mask


def parse_blocks(spec: str) -> list:
    """``"1,2"`` (indices) or ``"0:1,2:2"`` (row:col cells), mixed freely."""
    items = []
    for part in spec.split(","):
        row, sep, col = part.strip().partition(":")
        try:
            items.append((int(row), int(col)) if sep else int(row))
        except ValueError:
            raise ValueError(f"bad block list {spec!r}; use e.g. 1,2 or 0:1,2:2") from None
    return items


def load_mask(path: str | Path, resolution: int) -> torch.Tensor:
    """A painted mask (white = resample; any image mode) as weights [R, R] in [0, 1],
    centre-cropped and resized like an input image."""
    image = Image.open(path).convert("L")
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    image = image.crop((left, top, left + side, top + side))
    image = image.resize((resolution, resolution), Image.Resampling.BILINEAR)
    return torch.from_numpy(np.asarray(image, dtype=np.float32) / 255)


def _generator(args):
    from ssnlib.models import build_generator
    from ssnlib.utils import get_device

    device = get_device(args.device or None)
    if args.ckpt:
        from ssnlib.train.sample import load_generator
        return load_generator(args.ckpt, args.net, device)
    torch.manual_seed(args.init_seed)
    print(f"note: no --ckpt: an UNTRAINED {args.arch}/{args.config} generator (weights from "
          f"--init-seed {args.init_seed}); its images show the mechanics, not a trained model")
    return build_generator(args.arch, args.config).to(device).eval().requires_grad_(False)


def add_resample_command(parser):
    """`ssn resample`: see the module docstring."""
    model = parser.add_argument_group("model")
    model.add_argument("--ckpt", default="", help="checkpoint file, or run folder (latest)")
    model.add_argument("--net", choices=("ema", "g"), default="ema",
                       help="with --ckpt: EMA generator (default) or the raw trained one")
    model.add_argument("--arch", default="ssn", help="without --ckpt: untrained arch")
    model.add_argument("--config", default="tiny", help="without --ckpt: named config")
    model.add_argument("--init-seed", type=int, default=0,
                       help="without --ckpt: seed of the untrained weights")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--seed", type=int, help="sample z and noise from this seed")
    source.add_argument("--image", help="invert this image (centre-cropped, resized)")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--blocks", help="blocks to resample: 1,2 (indices) or 0:1,2:2 (row:col)")
    what.add_argument("--mask", help="PNG mask, white = resample; picks the blocks it covers")
    parser.add_argument("--threshold", type=float, default=0.5,
                        help="with --mask: coverage a block needs (default 0.5)")
    parser.add_argument("--resample-seed", type=int, default=0,
                        help="seed of the fresh blocks and of the inversion (default 0)")
    parser.add_argument("--steps", type=int, default=300, help="with --image: inversion steps")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--device", default="", help="e.g. cpu, cuda (default: best)")

    def run(args) -> int:
        import matplotlib.pyplot as plt

        from ssnlib.data.folder import BadImageError, load_image
        from ssnlib.data.procedural import to_float_image
        from ssnlib.invert import invert
        from ssnlib.resample.core import resample_blocks
        from ssnlib.resample.render import difference, heatmap, resample_figure, to_uint8

        try:
            G = _generator(args)
            grid = grid_of(G)
            blocks = (load_mask(args.mask, G.resolution) if args.mask
                      else parse_blocks(args.blocks))
            chosen = selected_indices(selection_mask(grid, blocks, args.threshold)[0])
            if not chosen:
                raise ValueError(f"the selection picks no block of the {grid.n_h}x{grid.n_w} "
                                 f"grid (with --mask, try a lower --threshold)")
            if args.image:
                pixels, _ = load_image(Path(args.image).read_bytes(), args.image, G.resolution)
        except (ValueError, IndexError, TypeError, OSError, BadImageError) as err:
            print(f"ssn resample: error: {err}", file=sys.stderr)
            return 2
        device = next(G.parameters()).device
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        if args.image:
            target = to_float_image(pixels).to(device)
            found = invert(G, target, steps=args.steps, seed=args.resample_seed)
            z, noise = found.z, found.noise
            Image.fromarray(pixels).save(out / "input.png")
            print(f"inverted {args.image} in {args.steps} steps: reconstruction PSNR "
                  f"{float(found.psnr[0]):.1f} dB")
        else:
            gen = torch.Generator().manual_seed(args.seed)
            z, noise = G.sample_z(1, gen, device=device), G.make_noise(1, gen, device=device)
        z_after = resample_blocks(G, z, chosen, torch.Generator().manual_seed(args.resample_seed))
        with torch.no_grad():
            before, after = (G(v, noise=noise)[0].float().cpu() for v in (z, z_after))
        Image.fromarray(to_uint8(before)).save(out / "before.png")
        Image.fromarray(to_uint8(after)).save(out / "after.png")
        Image.fromarray(heatmap(difference(before, after))).save(out / "diff.png")
        fig = resample_figure(before, after, grid, chosen)
        fig.savefig(out / "figure.png", dpi=100)
        plt.close(fig)
        torch.save({"z": z.cpu(), "z_after": z_after.cpu(), "noise": [n.cpu() for n in noise],
                    "blocks": chosen}, out / "latents.pt")
        print(f"resampled blocks {chosen} of the {grid.n_h}x{grid.n_w} grid: wrote "
              f"before.png, after.png, diff.png, figure.png, latents.pt to {out}")
        return 0
    return run
