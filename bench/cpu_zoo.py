"""How fast does the zoo's recipe train on a CPU? Training images/s, and per core, for the
choices issue 27 asks about: float32 or bf16 autocast, channels_last or contiguous memory, and
for two cores, one run on two threads or two one-thread runs side by side; and whether
torch.compile of the generator pays within a session (D stays eager: R1 needs a double
backward, which compiled graphs do not support).

    python bench/cpu_zoo.py [--config configs/zoo/v3/faces32-stylegan2.yaml] [--steps 48]

Each row times full training steps (D and G with the recipe's lazy R1, EMA) on a fixed real
batch, so it measures the networks, not the data (``bench/data_loader.py`` times rendering:
procedural faces render at over ten times the rate these networks consume them). Steps are
timed after a warm-up and averaged over whole R1 periods (the mean of a lazy schedule); each
row runs in its own process, so thread settings and kernel choices never leak between rows.
"Two runs" starts two one-thread processes at once and adds their rates. Ratios are against
the recipe as the zoo trains it: float32, channels_last, one thread.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from data_loader import cpu_name

from ssnlib.train import Trainer, load_config

ROOT = Path(__file__).resolve().parents[1]
ROWS = {  # name -> (threads, overrides, G compiled)
    "fp32, channels_last": (1, [], False),
    "fp32, contiguous": (1, ["channels_last=false"], False),
    "bf16 autocast, channels_last": (1, ["precision=bf16"], False),
    "bf16 autocast, contiguous": (1, ["precision=bf16", "channels_last=false"], False),
    "fp32, channels_last, 2 threads": (2, [], False),
    "fp32, channels_last, G compiled": (1, [], True),
    "bf16 autocast, channels_last, G compiled": (1, ["precision=bf16"], True),
}
SESSION_MIN = 100           # an installment's training time: does compiling pay within it?


def compile_layers(G: torch.nn.Module) -> None:
    """torch.compile each of G's layers in place: the trainer calls G whole and, when it mixes
    styles, its mapping and synthesis apart, and the EMA pairs parameters by position."""
    # the synthesis layers share one forward, compiled once per shape (7 or more of them)
    torch._dynamo.config.recompile_limit = 64
    for layer in [G.style, getattr(G, "encoder", None), G.conv1, G.to_rgb1, *G.convs,
                  *G.to_rgbs]:
        if layer is not None:
            layer.compile()


def worker(config: str, threads: int, overrides: list[str], compiled: bool, steps: int,
           warmup: int) -> dict:
    """Images/s of ``steps`` training steps in this process (the row's own settings), and the
    warm-up's extra seconds (compilation, first-call kernel choices)."""
    torch.set_num_threads(threads)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = load_config(config, [f"run_dir={tmp}", "device=cpu", "progress=false",
                                   "tensorboard=false", *overrides])
        trainer = Trainer(cfg)
        if compiled:
            compile_layers(trainer.G)
        res, batch = trainer.G.resolution, cfg.batch
        real = torch.rand(batch, 3, res, res, generator=torch.Generator().manual_seed(0)) * 2 - 1
        times = []
        for t in range(warmup + steps):
            t0 = time.perf_counter()
            trainer.step = t                         # the lazy R1 falls due as in training
            trainer.train_step(real)
            trainer.images_seen += batch
            times.append(time.perf_counter() - t0)
        trainer.close()
    sec = statistics.fmean(times[warmup:])
    return {"img_s": batch / sec, "ms": sec * 1e3, "threads": threads,
            "warmup_extra_s": sum(times[:warmup]) - warmup * sec}


def run_row(args, threads: int, overrides: list[str], compiled: bool, copies: int = 1
            ) -> list[dict]:
    """The row in ``copies`` fresh processes started together; their results."""
    command = [sys.executable, __file__, "--worker", "--config", args.config, "--steps",
               str(args.steps), "--warmup", str(args.warmup), "--threads", str(threads),
               *[f"--set={o}" for o in overrides]] + (["--compile"] if compiled else [])
    procs = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
             for _ in range(copies)]
    outs = [p.communicate()[0] for p in procs]
    if any(p.returncode for p in procs):
        sys.exit(f"cpu_zoo: error: a worker failed ({' '.join(command)})")
    return [json.loads(out.splitlines()[-1]) for out in outs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="configs/zoo/v3/faces32-stylegan2.yaml")
    parser.add_argument("--steps", type=int, default=48, help="timed steps (R1 periods: 16)")
    parser.add_argument("--warmup", type=int, default=4)
    parser.add_argument("--rows", nargs="+", metavar="ROW", help="time only these rows (names "
                        "as printed; the first is the ratios' base), e.g. to check bf16 alone")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--set", action="append", default=[], help=argparse.SUPPRESS)
    parser.add_argument("--compile", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.config, args.threads, args.set, args.compile, args.steps,
                                args.warmup)))
        return
    print(f"device cpu ({cpu_name()}; ATen {torch.backends.cpu.get_cpu_capability()}), "
          f"torch {torch.__version__}; recipe {args.config}; {args.steps} timed steps after "
          f"{args.warmup} warm-up, fixed real batch")
    print(f"{'row':40s} {'ms/step':>8s} {'img/s':>7s} {'per core':>8s} {'ratio':>6s} "
          f"{'warm-up s':>9s} {f'img in {SESSION_MIN} min':>14s}")
    base = None
    rows = [(name, *spec, 1) for name, spec in ROWS.items()]
    rows.append(("fp32, channels_last, two 1-thread runs", 1, [], False, 2))
    if args.rows:
        unknown = sorted(set(args.rows) - {row[0] for row in rows})
        if unknown:
            parser.error(f"unknown row {unknown[0]!r}; rows: {', '.join(r[0] for r in rows)}")
        rows = [row for name in args.rows for row in rows if row[0] == name]
    for name, threads, overrides, compiled, copies in rows:
        results = run_row(args, threads, overrides, compiled, copies)
        img_s = sum(r["img_s"] for r in results)
        ms = statistics.fmean(r["ms"] for r in results)
        per_core = img_s / (threads * copies)
        base = base or img_s
        extra = max(r["warmup_extra_s"] for r in results)
        session = img_s * max(SESSION_MIN * 60 - extra, 0)     # the warm-up's cost counted once
        print(f"{name:40s} {ms:8.1f} {img_s:7.1f} {per_core:8.1f} {img_s / base:5.2f}x "
              f"{extra:9.1f} {session:14,.0f}", flush=True)


if __name__ == "__main__":
    main()
