"""Spike statistics over training: every checkpoint of a run, measured by ssnlib.diagnostics.

    OMP_NUM_THREADS=1 ssn train --config configs/zoo/faces32.yaml model.arch=spade \\
        reg.distortion_weight=0 steps=1000 ckpt_every=100 keep_ckpts=0 sample_every=1000 \\
        run_dir=runs/ch3-spade-curve
    python tools/spike_curve.py runs/ch3-spade-curve --final faces32-spade-ld0 \\
        --out data/diagnostics/faces32-spade-spike-curve.json

writes, for each checkpoint's EMA generator (and optionally a zoo model as the last point),
the :func:`ssnlib.diagnostics.spike_table` of every synthesis layer: the small JSON that
chapter 3 plots (the checkpoints themselves are not shipped).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
from pathlib import Path

import torch

from ssnlib import diagnostics, zoo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--final", default="", help="a zoo model measured as the last point")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    points = []
    for ckpt in sorted(args.run_dir.glob("ckpt-*.pt")):
        step = int(re.search(r"(\d+)", ckpt.stem).group(1))
        G = zoo.load_any(ckpt).eval().requires_grad_(False)
        rows = diagnostics.spike_table(G, n=args.n, seed=args.seed)
        points.append({"step": step, "source": str(ckpt),
                       "layers": [dataclasses.asdict(r) for r in rows]})
        print(step, " ".join(f"{r.layer}:{r.top_share:.3f}" for r in rows), flush=True)
    if args.final:
        info = zoo.manifest(args.final)
        rows = diagnostics.spike_table(zoo.load(args.final), n=args.n, seed=args.seed)
        points.append({"step": info["training"]["steps"], "source": f"zoo:{args.final}",
                       "layers": [dataclasses.asdict(r) for r in rows]})
    log = args.run_dir / "config.yaml"
    record = {"what": "ssnlib.diagnostics.spike_table of each checkpoint's EMA generator",
              "command": "python tools/spike_curve.py " + " ".join(argv or sys.argv[1:]),
              "run_config": log.read_text() if log.is_file() else "",
              "n": args.n, "seed": args.seed, "points": points}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=1) + "\n")
    print("wrote", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
