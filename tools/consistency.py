"""The price of consistency for the zoo's SSN runs and their data (chapter 5 reads the result).

For every committed SSN run (``data/runs/*``, newest installment, EMA weights) this measures
both sides of the bound in :mod:`ssnlib.metrics.consistency` (how much of each block's mean
colour the other blocks move, against how strongly blocks correlate), and the same
correlations in each dataset's training images, also given each of the dataset's attributes
in turn (what a global latent carrying that attribute would leave the blocks to share), then
writes them with the command that made them:

    python tools/consistency.py                 # data/studies/consistency/manifest.json
    python tools/consistency.py --num 64 --runs faces32-ssn-ld0 --out /tmp/c.json

Each run takes 18 generator passes per sample (the sample, each of 16 blocks redrawn, the
noise redrawn): about 100 s per 1000 samples on one core at 32 px. ``--parallel`` runs that
many at once, one thread each.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from ssnlib.blocks import BlockGrid  # noqa: E402
from ssnlib.errors import InputError  # noqa: E402
from ssnlib.metrics.consistency import consistency, data_consistency  # noqa: E402
from ssnlib.metrics.labelled import render_labelled  # noqa: E402
from ssnlib.metrics.schema import Schema  # noqa: E402
from ssnlib.utils import environment_report, git_state  # noqa: E402
from ssnlib.zoo import runs  # noqa: E402

OUT = ROOT / "data" / "studies" / "consistency" / "manifest.json"
BINS = 4                      # a continuous attribute, read as a label, in this many bins


def ssn_runs() -> list[str]:
    """The committed runs that are SSNs with at least one trained installment."""
    names = []
    for name in runs.names():
        try:
            row = runs.summary(name)
        except InputError:             # transferred, not yet trained: nothing to measure
            continue
        if row["arch"] == "ssn":
            names.append(name)
    return names


def measure_run(name: str, num: int, seed: int) -> dict:
    torch.set_num_threads(1)
    row = runs.summary(name)
    started = time.monotonic()
    out = consistency(runs.load(name), num, seed=seed, batch=16)
    return {"dataset": row["dataset"], "lambda_D": row["lambda_D"], "images": row["images"],
            "distortion": row.get("distortion"), "fid": row.get("fid"),
            "wall_s": round(time.monotonic() - started, 1), **_rounded(out)}


def measure_data(dataset: str, num: int, resolution: int, grid: list[int]) -> dict:
    """The data's side, also given each attribute in turn (a global latent's stand-in):
    discrete ones by class, continuous ones in BINS equal bins of their range."""
    torch.set_num_threads(1)
    schema = Schema.build((dataset,))
    data = render_labelled(schema, num, seed=0, resolution=resolution, workers=1)
    given = {name: data.discrete[:, j] for j, (_, name, _) in enumerate(schema.discrete)}
    for j, (_, name, _, _) in enumerate(schema.continuous):      # scaled to [-1, 1]
        bins = ((data.continuous[:, j] + 1) / 2 * BINS).long().clamp(0, BINS - 1)
        given[f"{name} ({BINS} bins)"] = bins
    grid = BlockGrid(*grid, resolution, resolution)
    return _rounded(data_consistency([data.float_images()], grid, given))


def _rounded(out: dict) -> dict:
    return {k: round(v, 5) if isinstance(v, float) else _rounded(v) if isinstance(v, dict)
            else v for k, v in out.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", nargs="+", help="run names (default: every SSN run)")
    parser.add_argument("--num", type=int, default=1000, help="samples per run")
    parser.add_argument("--data-num", type=int, default=10000, help="training images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    started, names = time.monotonic(), args.runs or ssn_runs()
    with ProcessPoolExecutor(args.parallel) as pool:
        jobs = {name: pool.submit(measure_run, name, args.num, args.seed) for name in names}
        measured = {name: job.result() for name, job in jobs.items()}
        datasets = sorted({m["dataset"] for m in measured.values()})
        data = {d: pool.submit(measure_data, d, args.data_num, 32,
                               next(m["grid"] for m in measured.values() if m["dataset"] == d))
                for d in datasets}
        data = {d: job.result() for d, job in data.items()}
    report = {"what": "both sides of the consistency bound (ssnlib.metrics.consistency) for "
                      "each SSN run's newest EMA generator, and each dataset's images",
              "command": "python tools/consistency.py " + shlex.join(sys.argv[1:]),
              "date": date.today().isoformat(), **git_state("ssnlib", "tools"),
              "environment": environment_report(), "num": args.num,
              "data_num": args.data_num, "seed": args.seed,
              "wall_s": round(time.monotonic() - started), "runs": measured, "data": data}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=1) + "\n")
    tmp.replace(args.out)
    for name, m in measured.items():
        print(f"{name:28s} rho2 {m['mean_rho2']:.3f}  lambda {m['mean_leak']:.3f}  "
              f"V {m['mean_var']:.4f}  L {m['mean_abs_leak']:.4f}  holds {m['holds']:.3f}")
    for d, m in data.items():
        print(f"{d + ' (data)':28s} rho2 {m['mean_rho2']:.3f}  needs lambda >= "
              f"{m['needed_leak']:.3f}  V {m['mean_var']:.4f}  L >= {m['leak_floor']:.5f}")
        for name, g in sorted(m["given"].items(), key=lambda kv: kv[1]["leak_floor"]):
            print(f"  given {name:24s} rho2 {g['mean_rho2']:.3f}  V {g['mean_var']:.4f} "
                  f"({g['var_share']:.0%})  L >= {g['leak_floor']:.5f}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
