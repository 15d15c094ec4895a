"""Training-step cost: SSN vs the StyleGAN2 baseline at the same config, and each regulariser.

For each generator it times full training steps (D + G, EMA) on a fixed real batch:
``main`` with every regulariser off, then R1, path length and distortion each switched on at
interval 1 (its cost per application = the difference), then the paper's lazy schedule (R1 every
16 D steps, path length and distortion every 4 G steps), whose time is the amortised step.
FLOPs per step are counted by ``bench/flops.py``'s :class:`FlopCounter` (convolutions and
matrix products, backward and double backward included, grouped convolutions counted right)
and printed next to the analytic count ``forward per image x the step's structure``; on CUDA
the script also reports peak memory and the model FLOPs utilisation against the card's dense
bf16 peak. Run: ``python bench/train_step.py [--config tiny] [--batch 8] [--steps 16]
[--sigma-mode fast]``; ``bench/gpu_table.py`` reuses :func:`measure` for the GPU table.
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time

import torch
from flops import FlopCounter, step_flops

from ssnlib.models import CONFIGS
from ssnlib.train import Trainer, load_config
from ssnlib.utils import get_device

# dense bf16 tensor-core peaks (FLOP/s), for model FLOPs utilisation
PEAK_BF16 = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L40S": 362e12, "4090": 165e12}
OFF = ["reg.r1_gamma=0", "reg.pl_weight=0", "reg.distortion_weight=0"]
SCHEDULE = ["reg.r1_gamma=1", "reg.r1_interval=16", "reg.pl_weight=2", "reg.pl_interval=4",
            "reg.distortion_weight=100", "reg.distortion_interval=4"]
VARIANTS = {
    "main": OFF,
    "+R1": [*OFF, "reg.r1_gamma=1", "reg.r1_interval=1"],
    "+path length": [*OFF, "reg.pl_weight=2", "reg.pl_interval=1"],
    "+distortion": [*OFF, "reg.distortion_weight=100", "reg.distortion_interval=1"],
    "paper schedule": SCHEDULE,
}


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def make_trainer(arch: str, overrides: list[str], config: str, batch: int, device: str,
                 run_dir: str, precision: str = "auto", sigma_mode: str = "exact") -> Trainer:
    """A trainer for ``arch`` at a named config with the regulariser ``overrides``."""
    if arch != "ssn":
        sigma_mode = "exact"
    if arch == "stylegan2":
        overrides = [o for o in overrides if not o.startswith("reg.distortion")]
        overrides += ["reg.distortion_weight=0"]
    cfg = load_config(None, [f"model.arch={arch}", f"model.config={config}",
                             f"model.sigma_mode={sigma_mode}",
                             f"data.resolution={CONFIGS[config]['resolution']}",
                             f"batch={batch}", f"run_dir={run_dir}", f"device={device}",
                             f"precision={precision}", "progress=false", "tensorboard=false",
                             *overrides])
    return Trainer(cfg)


def due_types(trainer: Trainer) -> list[tuple[int, int]]:
    """(step index, how many steps of a period look like it): one representative of every kind
    of step in the lazy schedule's period, e.g. [(0, 1), (4, 3), (1, 12)] for 16 and 4."""
    reg = trainer.cfg.reg
    on = [k for k, w in ((reg.r1_interval, reg.r1_gamma), (reg.pl_interval, reg.pl_weight),
                         (reg.distortion_interval, reg.distortion_weight)) if w > 0]
    period = math.lcm(*on) if on else 1
    kinds: dict[tuple[bool, ...], list[int]] = {}
    for t in range(period):
        kinds.setdefault(tuple(t % k == 0 for k in on), []).append(t)
    return [(steps[0], len(steps)) for steps in kinds.values()]


def analytic_step(trainer: Trainer, config: str, t: int) -> float:
    """The analytic FLOPs of the trainer's step number ``t`` (which regularisers are due)."""
    cfg, reg = trainer.cfg, trainer.cfg.reg
    return step_flops(cfg.model.arch, config, cfg.batch,
                      r1=reg.r1_gamma > 0 and t % reg.r1_interval == 0,
                      pl=reg.pl_weight > 0 and t % reg.pl_interval == 0,
                      distortion=reg.distortion_weight > 0 and t % reg.distortion_interval == 0,
                      pl_shrink=reg.pl_batch_shrink,
                      distortion_shrink=reg.distortion_batch_shrink,
                      resamples=reg.distortion_resamples, sigma_mode=cfg.model.sigma_mode)


def measure(trainer: Trainer, config: str, steps: int, warmup: int = 1) -> dict:
    """Time ``trainer``'s steps on a fixed real batch: the first step (start-up included), FLOPs
    counted on one step of every kind in the lazy period (amortised over it), then ``steps``
    timed steps from the start of a period (median for a fixed step, mean for a lazy schedule).
    """
    device, batch = trainer.device, trainer.cfg.batch
    res = trainer.G.resolution
    real = torch.rand(batch, 3, res, res, generator=torch.Generator().manual_seed(0))
    real = (real * 2 - 1).to(device)

    def step(t: int) -> None:
        trainer.step = t
        trainer.train_step(real)
        trainer.images_seen += batch

    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    sync(device)
    t0 = time.perf_counter()
    step(0)                                                  # every regulariser due
    sync(device)
    first = time.perf_counter() - t0
    for _ in range(warmup - 1):
        step(1)
    kinds = due_types(trainer)
    period = sum(n for _, n in kinds)
    counted = analytic = 0.0
    for t, n in kinds:
        with FlopCounter() as counter:
            step(t)
        counted += counter.flops * n / period
        analytic += analytic_step(trainer, config, t) * n / period
    times = []
    for t in range(steps):
        sync(device)
        t0 = time.perf_counter()
        step(t)
        sync(device)
        times.append(time.perf_counter() - t0)
    sec = statistics.fmean(times) if period > 1 else statistics.median(times)
    out = {"first_s": first, "ms": sec * 1e3, "img_s": batch / sec, "gflop": counted / 1e9,
           "analytic_gflop": analytic / 1e9, "tflop_s": counted / sec / 1e12}
    if device.type == "cuda":
        out["peak_gib"] = torch.cuda.max_memory_allocated(device) / 2**30
    return out


def peak_flops(device: torch.device) -> tuple[str, float | None]:
    """The device's name and dense bf16 peak (None where unknown: MFU n/a)."""
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    return name, next((v for k, v in PEAK_BF16.items() if k in name), None)


def print_rows(arch: str, rows: dict, peak: float | None) -> None:
    for variant, r in rows.items():
        line = (f"{arch:10s} {variant:15s} {r['ms']:9.1f} {r['img_s']:8.1f} "
                f"{r['gflop']:11.2f} {r['analytic_gflop']:11.2f} {r['tflop_s']:8.3f}")
        if "peak_gib" in r:
            mfu = f"{r['tflop_s'] * 1e12 / peak:6.1%}" if peak else "   n/a"
            line += f" {r['peak_gib']:8.2f} {mfu}"
        print(line, flush=True)
    base = rows["main"]["ms"]
    lazy = [(v, k) for v, k in (("+R1", 16), ("+path length", 4), ("+distortion", 4))
            if v in rows]
    costs = [(v, rows[v]["ms"] - base, k) for v, k in lazy]
    if costs:
        print(f"{arch:10s} regulariser cost per application (amortised at the paper's interval): "
              + ", ".join(f"{v[1:]} {ms:.1f} ms ({ms / k:.1f} ms/step at 1/{k})"
                          for v, ms, k in costs))
    predicted = base + sum(ms / k for _, ms, k in costs)
    if "paper schedule" in rows:
        print(f"{arch:10s} paper schedule: {rows['paper schedule']['ms']:.1f} ms/step measured "
              f"(mean over the period), {predicted:.1f} ms/step from main + costs / interval")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="tiny", choices=sorted(CONFIGS))
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=16,
                        help="timed steps (a multiple of 16 covers the lazy schedule's period)")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--device", default="")
    parser.add_argument("--precision", default="auto", help="auto | bf16 | fp32")
    parser.add_argument("--sigma-mode", default="exact", help="the SSN's sigma_E: exact | fast")
    parser.add_argument("--archs", default="ssn,stylegan2")
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help="a comma-separated subset of the variants (main always runs)")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = get_device(args.device or None)
    name, peak = peak_flops(device)
    print(f"device {name} ({device.type}), torch {torch.__version__}, "
          f"threads {torch.get_num_threads()}")
    print(f"config {args.config} ({CONFIGS[args.config]['resolution']} px), batch {args.batch}, "
          f"{args.steps} timed steps after {args.warmup} warm-up; precision {args.precision} "
          f"(auto: bf16 autocast on CUDA, fp32 elsewhere); SSN sigma_E {args.sigma_mode}")
    header = (f"{'arch':10s} {'variant':15s} {'ms/step':>9s} {'img/s':>8s} {'GFLOP/step':>11s}"
              f" {'analytic':>11s} {'TFLOP/s':>8s}")
    print(header + (" peak GiB    MFU" if device.type == "cuda" else ""))
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for arch in args.archs.split(","):
            rows = results[arch] = {}
            for variant, overrides in VARIANTS.items():
                if (arch == "stylegan2" and variant == "+distortion") or (
                        variant != "main" and variant not in args.variants.split(",")):
                    continue
                trainer = make_trainer(arch, overrides, args.config, args.batch,
                                       args.device, tmp, args.precision, args.sigma_mode)
                rows[variant] = measure(trainer, args.config, args.steps, args.warmup)
                trainer.close()
            print_rows(arch, rows, peak)
    if {"ssn", "stylegan2"} <= set(results):
        for variant in results["ssn"].keys() & results["stylegan2"].keys():
            ratio = results["ssn"][variant]["ms"] / results["stylegan2"][variant]["ms"]
            print(f"SSN / StyleGAN2 step time, {variant}: {ratio:.2f}x")


if __name__ == "__main__":
    main()
