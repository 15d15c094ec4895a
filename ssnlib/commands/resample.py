"""`ssn resample`: resample blocks of a sampled or an inverted image and write PNGs.

    ssn resample --ckpt faces32-ssn-ld100 --seed 3 --blocks 1,2 --out DIR
    ssn resample --ckpt RUN_OR_FILE --image photo.png --blocks 0:1,2:2 --out DIR
    ssn resample --ckpt RUN_OR_FILE --image photo.png --mask hair.png --out DIR
    ssn resample --ckpt faces32-ssn-ld200x4-u --seed 3 --new-u [--blocks 1,2] --out DIR

``--ckpt`` takes any generator source (a zoo name, an exported folder, a checkpoint file or a
run folder; :func:`ssnlib.zoo.load_any`). ``--seed S`` draws z and the noise from
``torch.Generator().manual_seed(S)`` (the convention of ``ssn sample``, so both show the same
image); ``--image`` inverts a picture first
(:func:`ssnlib.invert.invert`). Without ``--ckpt``, ``--arch``/``--config`` build an *untrained*
generator with weights from ``--init-seed`` (for trying the tool; its images are noise-like).
``--new-u`` redraws a generator's global latent u (``global_dim`` > 0;
:func:`ssnlib.resample.redraw_global`), alone (every block kept) or with the chosen blocks.
DIR receives ``before.png``, ``after.png``, ``diff.png`` (heat map of the change),
``figure.png`` (the three with the block grid and the resampled blocks outlined) and
``latents.pt`` (z and the noise, before and after), plus ``input.png`` with ``--image``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ssnlib.blocks import grid_of
from ssnlib.data.folder import load_image
from ssnlib.data.procedural import to_float_image
from ssnlib.errors import InputError
from ssnlib.invert import invert
from ssnlib.models import build_generator
from ssnlib.resample.core import change_locality, redraw_global, resample_blocks
from ssnlib.resample.render import difference, heatmap, resample_figure
from ssnlib.resample.select import selected_indices, selection_mask
from ssnlib.utils import get_device, to_uint8
from ssnlib.zoo import load_any
from ssnlib.zoo.load import SOURCES


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
    if image.width != image.height:
        raise InputError(f"{path}: the mask is {image.width}x{image.height}; paint it over the "
                         f"square image ({resolution}x{resolution}, or any square size)")
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    image = image.crop((left, top, left + side, top + side))
    image = image.resize((resolution, resolution), Image.Resampling.BILINEAR)
    return torch.from_numpy(np.asarray(image, dtype=np.float32) / 255)


def _generator(args):
    device = get_device(args.device or None)
    if args.ckpt:
        return load_any(args.ckpt, args.net, device)
    torch.manual_seed(args.init_seed)
    print(f"note: no --ckpt: an UNTRAINED {args.arch}/{args.config} generator (weights from "
          f"--init-seed {args.init_seed}); its images show the mechanics, not a trained model")
    return build_generator(args.arch, args.config).to(device).eval().requires_grad_(False)


def _add_arguments(parser) -> None:
    model = parser.add_argument_group("model")
    model.add_argument("--ckpt", default="", help=SOURCES)
    model.add_argument("--net", choices=("ema", "g"), default="ema",
                       help="with --ckpt: EMA generator (default) or the raw trained one")
    model.add_argument("--arch", default="ssn", help="without --ckpt: untrained arch")
    model.add_argument("--config", default="tiny", help="without --ckpt: named config")
    model.add_argument("--init-seed", type=int, default=0,
                       help="without --ckpt: seed of the untrained weights")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--seed", type=int, help="sample z and noise from this seed")
    source.add_argument("--image", help="invert this image (centre-cropped, resized)")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--blocks", help="blocks to resample: 1,2 (indices) or 0:1,2:2 (row:col)")
    what.add_argument("--mask", help="PNG mask, white = resample; picks the blocks it covers")
    parser.add_argument("--new-u", action="store_true", help="redraw the global latent u too "
                        "(a generator with global_dim > 0); alone, every block is kept")
    parser.add_argument("--threshold", type=float, default=0.5,
                        help="with --mask: coverage a block needs (default 0.5)")
    parser.add_argument("--resample-seed", type=int, default=0,
                        help="seed of the fresh blocks and of the inversion (default 0)")
    parser.add_argument("--steps", type=int, default=300, help="with --image: inversion steps")
    parser.add_argument("--strength", type=float, default=1.0, help="how far to move the "
                        "chosen blocks, 0 to 1: the new block is cos(t) z + sin(t) z_fresh with "
                        "t = strength * pi/2 (1: a full resample, the default)")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--device", default="", help="e.g. cpu, cuda (default: best)")


def _chosen(args, grid) -> list[int]:
    """The blocks --blocks or --mask pick (none with --new-u alone)."""
    if not (args.blocks or args.mask):
        return []
    blocks = load_mask(args.mask, grid.height) if args.mask else parse_blocks(args.blocks)
    chosen = selected_indices(selection_mask(grid, blocks, args.threshold)[0])
    if not chosen:
        raise ValueError(f"the selection picks no block of the {grid.n_h}x{grid.n_w} grid "
                         f"(with --mask, try a lower --threshold)")
    return chosen


def _inputs(args):
    """The generator, its grid, the chosen blocks and the input picture (None with --seed);
    every user error surfaces here, before anything is written."""
    if not 0 <= args.strength <= 1:
        raise InputError(f"--strength {args.strength:g}: use a value from 0 (no change) to 1 "
                         f"(a full resample)")
    if not (args.blocks or args.mask or args.new_u):
        raise InputError("choose what to redraw: --blocks, --mask or --new-u")
    G = _generator(args)
    grid = grid_of(G)
    if args.new_u and not getattr(G, "global_dim", 0):
        raise InputError(f"--new-u: {args.ckpt or args.arch} has no global latent u "
                         f"(global_dim 0); redraw its blocks with --blocks or --mask")
    chosen = _chosen(args, grid)
    pixels = None
    if args.image:
        pixels, _ = load_image(Path(args.image).read_bytes(), args.image, G.resolution)
    return G, grid, chosen, pixels


def _latents(args, G, pixels, out: Path):
    """z and the noise of the image to edit: sampled from --seed, or found by inverting the
    picture (written as ``input.png`` beside the results)."""
    device = next(G.parameters()).device
    if pixels is None:
        gen = torch.Generator().manual_seed(args.seed)
        return G.sample_z(1, gen, device=device), G.make_noise(1, gen, device=device)
    found = invert(G, to_float_image(pixels).to(device), steps=args.steps,
                   seed=args.resample_seed)
    Image.fromarray(pixels).save(out / "input.png")
    print(f"inverted {args.image} in {args.steps} steps: reconstruction PSNR "
          f"{float(found.psnr[0]):.1f} dB")
    return found.z, found.noise


def _write(out: Path, G, grid, chosen, start: tuple, end: tuple, pixels=None) -> dict:
    """Write the images, the figure and the latents (``start`` and ``end``: (z, noise)
    each); returns the change's locality, or its mean per pixel when no block was chosen."""
    import matplotlib.pyplot as plt

    (z, noise), (z_after, noise_after) = start, end
    with torch.no_grad():
        before, after = (G(v, noise=n)[0].float().cpu() for v, n in (start, end))
    Image.fromarray(to_uint8(before)).save(out / "before.png")
    Image.fromarray(to_uint8(after)).save(out / "after.png")
    Image.fromarray(heatmap(difference(before, after))).save(out / "diff.png")
    target = to_float_image(pixels) if pixels is not None else None
    fig = resample_figure(before, after, grid, chosen,
                          titles=("inverted (before)" if target is not None else "before",
                                  "after", "|after - before|"), target=target)
    fig.savefig(out / "figure.png", dpi=100)
    plt.close(fig)
    torch.save({"z": z.cpu(), "z_after": z_after.cpu(), "noise": [n.cpu() for n in noise],
                "noise_after": [n.cpu() for n in noise_after], "blocks": chosen},
               out / "latents.pt")
    if not chosen:
        return {"mean_change": float(difference(before, after).mean())}
    return change_locality(before, after, grid, chosen)


def _report(args, grid, chosen, where: dict, out: Path) -> str:
    """The line `ssn resample` ends with: what was redrawn and where the image changed."""
    what = [f"blocks {chosen} of the {grid.n_h}x{grid.n_w} grid"] if chosen else []
    what += ["the global latent u"] if args.new_u else []
    if chosen:
        moved = (f"mean |change| {where['inside']:.3f} inside the blocks, "
                 f"{where['outside']:.3f} outside; {where['energy_inside']:.0%} of the squared "
                 f"change inside")
    else:
        moved = f"mean |change| {where['mean_change']:.3f} per pixel"
    return (f"redrew {' and '.join(what)} (strength {args.strength:g}): {moved}. Wrote "
            f"before.png, after.png, diff.png, figure.png, latents.pt to {out}")


def add_resample_command(parser):
    """`ssn resample`: see the module docstring."""
    _add_arguments(parser)

    def run(args) -> int:
        G, grid, chosen, pixels = _inputs(args)
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        z, noise = _latents(args, G, pixels, out)
        gen, t = torch.Generator().manual_seed(args.resample_seed), args.strength * math.pi / 2
        z_after = resample_blocks(G, z, chosen, gen, t=t) if chosen else z
        noise_after = redraw_global(G, noise, gen, t=t) if args.new_u else noise
        where = _write(out, G, grid, chosen, (z, noise), (z_after, noise_after), pixels)
        print(_report(args, grid, chosen, where, out))
        return 0
    return run
