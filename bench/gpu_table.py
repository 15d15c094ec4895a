"""Issue 14's GPU table: StyleGAN2 and SSN training steps at 256 px (batch 32) and 64 px
(batch 64), with first-step time, peak memory, img/s, FLOPs and MFU, the SSN / StyleGAN2
ratios and the issue's targets; appended to ``bench/RESULTS-gpu.md`` with the date, device,
torch version and commit.

Run by ``bench/gpu.sh`` (one call, at most 8 minutes on one H100/H200: rows run in priority
order and the rest are skipped once ``--budget`` seconds are spent). ``--dry-run`` runs every
row at the ``tiny`` config, batch 2, two steps on the CPU, so a typo never costs GPU time.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

import torch
from train_step import OFF, SCHEDULE, make_trainer, measure, peak_flops

# (label, arch, config, batch, regularisers, precision, sigma_mode), in priority order
ROWS = [
    ("SG2 main bf16 256", "stylegan2", "paper256", 32, OFF, "bf16", "exact"),
    ("SSN main bf16 256 fast", "ssn", "paper256", 32, OFF, "bf16", "fast"),
    ("SSN schedule bf16 256 fast", "ssn", "paper256", 32, SCHEDULE, "bf16", "fast"),
    ("SSN main bf16 256 exact", "ssn", "paper256", 32, OFF, "bf16", "exact"),
    ("SG2 main fp32 256", "stylegan2", "paper256", 32, OFF, "fp32", "exact"),
    ("SG2 main bf16 64", "stylegan2", "small", 64, OFF, "bf16", "exact"),
    ("SSN main bf16 64 fast", "ssn", "small", 64, OFF, "bf16", "fast"),
    ("SSN schedule bf16 64 fast", "ssn", "small", 64, SCHEDULE, "bf16", "fast"),
    ("SSN schedule bf16 256 exact", "ssn", "paper256", 32, SCHEDULE, "bf16", "exact"),
]
HEADER = ("| row | ms/step | img/s | first step s | peak GiB | GFLOP/step | analytic | TFLOP/s "
          "| MFU |")


def run_row(row, args, run_dir: str) -> dict:
    label, arch, config, batch, regs, precision, sigma_mode = row
    if args.dry_run:
        config, batch, precision = "tiny", 2, "fp32"
    trainer = make_trainer(arch, list(regs), config, batch, args.device, run_dir, precision,
                           sigma_mode)
    torch.backends.cudnn.benchmark = bool(args.cudnn_benchmark)
    if label.endswith("compiled"):
        # only phases without a double backward: the rows with every regulariser off
        trainer.G = torch.compile(trainer.G, mode=args.compile)
        trainer.D = torch.compile(trainer.D, mode=args.compile)
    steps = args.steps * (2 if regs is SCHEDULE else 1)
    try:
        return measure(trainer, config, steps, warmup=1)
    except torch.cuda.OutOfMemoryError as err:
        return {"error": f"out of memory: {str(err).splitlines()[0][:120]}"}
    except Exception as err:            # one broken row (a compiler error, say) costs one row
        lines = [x for x in str(err).splitlines() if x.strip()] or [""]
        return {"error": f"{type(err).__name__}: {lines[0][:160]}"}
    finally:
        trainer.close()
        del trainer
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def cells(label: str, r: dict | None, peak: float | None) -> str:
    if r is None:
        return f"| {label} | skipped (time budget) |" + " |" * 7
    if "error" in r:
        return f"| {label} | {r['error']} |" + " |" * 7
    mfu = f"{r['tflop_s'] * 1e12 / peak:.1%}" if peak else "n/a"
    mem = f"{r['peak_gib']:.1f}" if "peak_gib" in r else "n/a"
    return (f"| {label} | {r['ms']:.1f} | {r['img_s']:.1f} | {r['first_s']:.1f} | {mem} | "
            f"{r['gflop']:.0f} | {r['analytic_gflop']:.0f} | {r['tflop_s']:.1f} | {mfu} |")


def ratios(res: dict) -> list[str]:
    """The issue's targets, from whatever rows ran."""
    def ms(label):
        r = res.get(label)
        return r["ms"] if r and "ms" in r else None

    out = []
    pairs = [("SSN main / SG2 main, 256 px (target <= 1.25)", "SSN main bf16 256 fast",
              "SG2 main bf16 256"),
             ("SSN main exact / SG2 main, 256 px", "SSN main bf16 256 exact", "SG2 main bf16 256"),
             ("SSN schedule / SSN main, 256 px (target <= 1.5)", "SSN schedule bf16 256 fast",
              "SSN main bf16 256 fast"),
             ("SSN main / SG2 main, 64 px", "SSN main bf16 64 fast", "SG2 main bf16 64"),
             ("SSN schedule / SSN main, 64 px", "SSN schedule bf16 64 fast",
              "SSN main bf16 64 fast")]
    for text, a, b in pairs:
        if ms(a) and ms(b):
            out.append(f"- {text}: {ms(a) / ms(b):.2f}x")
    sg2 = res.get("SG2 main bf16 256")
    if sg2 and "img_s" in sg2:
        out.append(f"- SG2 main bf16 256 px: {sg2['img_s']:.1f} img/s (target >= 114)")
    done = [r for r in res.values() if r and "peak_gib" in r]
    if done:
        out.append(f"- largest peak memory: {max(r['peak_gib'] for r in done):.1f} GiB "
                   f"(target <= 40); longest first step: "
                   f"{max(r['first_s'] for r in done):.1f} s (target <= 30)")
    return out


def commit() -> str:
    """``COMMIT`` where given, else ssnlib's git_state (which honours ``SSN_COMMIT``), short."""
    from ssnlib.utils import git_state

    return os.environ.get("COMMIT") or git_state()["commit"][:7]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="tiny rows on the CPU")
    parser.add_argument("--budget", type=float, default=420.0, help="seconds for all rows")
    parser.add_argument("--steps", type=int, default=8, help="timed steps (x2 for schedules)")
    parser.add_argument("--rows", default="", help="comma-separated row numbers (1-based)")
    parser.add_argument("--cudnn-benchmark", type=int, default=1, choices=(0, 1))
    parser.add_argument("--compile", default="", help="also the 64 px main rows under "
                        "torch.compile with this mode (default, reduce-overhead, ...); opt-in: "
                        "compiling takes minutes, and on the CPU (torch 2.13) inductor fails on "
                        "the SSN's replicate padding in channels_last")
    parser.add_argument("--device", default="")
    parser.add_argument("--results", default="", help="append the table to this markdown file")
    args = parser.parse_args()
    if args.dry_run:
        args.device, args.steps = "cpu", 2
    elif not args.device and not torch.cuda.is_available():
        print("no CUDA device: the GPU table needs one (--dry-run runs its rows tiny on the CPU)")
        return
    rows = [ROWS[int(i) - 1] for i in args.rows.split(",")] if args.rows else ROWS
    if args.compile:                    # launch overhead: the 64 px main rows, compiled
        rows = rows + [(f"{r[0]} compiled", *r[1:]) for r in ROWS if " 64" in r[0]
                       and r[4] is OFF]
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    name, peak = peak_flops(device)
    head = (f"{datetime.date.today()} | {name} | torch {torch.__version__} | commit {commit()}"
            f" | cudnn.benchmark {args.cudnn_benchmark}")
    head += f" | compile {args.compile}" if args.compile else ""
    head += " | DRY RUN (tiny, CPU)" if args.dry_run else ""
    print(head, flush=True)
    res = {row[0]: None for row in rows}
    start = time.perf_counter()
    # a `timeout` (SIGTERM) still prints and saves the rows measured so far
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(124))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for row in rows:
                if time.perf_counter() - start > args.budget:
                    continue
                res[row[0]] = run_row(row, args, tmp)
                print(cells(row[0], res[row[0]], peak), flush=True)
    finally:
        report(head, res, peak, args.results)


def report(head: str, res: dict, peak: float | None, results: str) -> None:
    """Print the table and the targets; append them to ``results`` (markdown) if given."""
    table = [HEADER, "|" + " --- |" * 9] + [cells(label, r, peak) for label, r in res.items()]
    text = "\n".join([f"## {head}", "", *table, "", *ratios(res), ""])
    print("\n" + text, flush=True)
    if results:
        path = Path(results)
        if not path.exists() or not path.read_text().strip():
            path.write_text("# GPU training-step measurements (bench/gpu.sh)\n\n")
        with path.open("a") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
