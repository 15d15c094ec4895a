"""Training-step cost: SSN vs the StyleGAN2 baseline at the same config, and each regulariser.

For each generator it times full training steps (D + G, EMA) on a fixed real batch:
``main`` with every regulariser off, then R1, path length and distortion each switched on at
interval 1 (its cost per application = the difference), then the paper's lazy schedule (R1 every
16 D steps, path length and distortion every 4 G steps), whose time is the amortised step.
FLOPs are counted analytically from the operators' shapes (torch.utils.flop_counter's
formulas, applied in a dispatch mode: FlopCounterMode's module hooks reject the double
backward of R1 and path length); on CUDA
the script also reports peak memory and model FLOPs utilisation against the card's dense bf16
peak. Run: ``python bench/train_step.py [--config tiny] [--batch 8] [--steps 16]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

from ssnlib.models import CONFIGS
from ssnlib.train import Trainer, load_config
from ssnlib.utils import get_device

# dense bf16 tensor-core peaks (FLOP/s), for model FLOPs utilisation
PEAK_BF16 = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L40S": 362e12, "4090": 165e12}
OFF = ["reg.r1_gamma=0", "reg.pl_weight=0", "reg.distortion_weight=0"]
VARIANTS = {
    "main": OFF,
    "+R1": [*OFF, "reg.r1_gamma=1", "reg.r1_interval=1"],
    "+path length": [*OFF, "reg.pl_weight=2", "reg.pl_interval=1"],
    "+distortion": [*OFF, "reg.distortion_weight=100", "reg.distortion_interval=1"],
    "paper schedule": ["reg.r1_gamma=1", "reg.r1_interval=16", "reg.pl_weight=2",
                       "reg.pl_interval=4", "reg.distortion_weight=100",
                       "reg.distortion_interval=4"],
}


class CountFlops(TorchDispatchMode):
    """Sum the analytic FLOPs (convolutions, matmuls) of every operator run inside."""

    def __init__(self):
        super().__init__()
        self.flops = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        formula = flop_registry.get(func._overloadpacket)
        if formula is not None:
            self.flops += formula(*args, **kwargs, out_val=out)
        return out


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(arch: str, overrides: list[str], args, run_dir: str) -> dict:
    if arch == "stylegan2":
        overrides = [o for o in overrides if not o.startswith("reg.distortion")]
        overrides += ["reg.distortion_weight=0"]
    res = CONFIGS[args.config]["resolution"]
    cfg = load_config(None, [f"model.arch={arch}", f"model.config={args.config}",
                             f"data.resolution={res}", f"batch={args.batch}",
                             f"run_dir={run_dir}", f"device={args.device}", "progress=false",
                             "tensorboard=false", *overrides])
    trainer = Trainer(cfg)
    device = trainer.device
    real = torch.rand(args.batch, 3, res, res, generator=torch.Generator().manual_seed(0))
    real = (real * 2 - 1).to(device)

    def step():
        trainer.train_step(real)
        trainer.step += 1
        trainer.images_seen += args.batch

    for _ in range(args.warmup):
        step()
    trainer.step = 0                                         # step 0: every regulariser due
    counter = CountFlops()
    with counter:
        step()
    flops = counter.flops
    trainer.step = 0                                         # timed steps start a period
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    times = []
    for _ in range(args.steps):
        sync(device)
        t0 = time.perf_counter()
        step()
        sync(device)
        times.append(time.perf_counter() - t0)
    # a lazy schedule is only fair as a mean over its period; a fixed step is summarised by its
    # median, which a shared machine's load spikes do not move
    lazy = any(o.endswith("_interval=4") for o in overrides)
    sec = statistics.fmean(times) if lazy else statistics.median(times)
    out = {"ms": sec * 1e3, "img_s": args.batch / sec, "gflop": flops / 1e9,
           "tflop_s": flops / sec / 1e12}
    if device.type == "cuda":
        out["peak_gib"] = torch.cuda.max_memory_allocated(device) / 2**30
    trainer.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="tiny", choices=sorted(CONFIGS))
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=16,
                        help="timed steps (a multiple of 16 covers the lazy schedule's period)")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--device", default="")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = get_device(args.device or None)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    peak = next((v for k, v in PEAK_BF16.items() if k in name), None)
    print(f"device {name} ({device.type}), torch {torch.__version__}, "
          f"threads {torch.get_num_threads()}")
    print(f"config {args.config} ({CONFIGS[args.config]['resolution']} px), batch {args.batch}, "
          f"{args.steps} timed steps after {args.warmup} warm-up; precision "
          f"{'bf16 autocast' if device.type == 'cuda' else 'fp32'}")
    header = f"{'arch':10s} {'variant':15s} {'ms/step':>9s} {'img/s':>8s} {'GFLOP/step':>11s}"
    header += f" {'TFLOP/s':>8s}" + (" peak GiB    MFU" if device.type == "cuda" else "")
    print(header)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for arch in ("ssn", "stylegan2"):
            rows = results[arch] = {}
            for variant, overrides in VARIANTS.items():
                if arch == "stylegan2" and variant == "+distortion":
                    continue
                rows[variant] = measure(arch, overrides, args, tmp)
            base = rows["main"]["ms"]
            lazy = [(v, k) for v, k in (("+R1", 16), ("+path length", 4), ("+distortion", 4))
                    if v in rows]
            # the paper schedule per step, amortised over its 16-step period: FLOPs from the
            # counts, and the time predicted from the single-regulariser medians
            sched = rows["paper schedule"]
            sched["gflop"] = rows["main"]["gflop"] + sum(
                (rows[v]["gflop"] - rows["main"]["gflop"]) / k for v, k in lazy)
            sched["tflop_s"] = sched["gflop"] / sched["ms"]
            predicted = base + sum((rows[v]["ms"] - base) / k for v, k in lazy)
            for variant, r in rows.items():
                line = (f"{arch:10s} {variant:15s} {r['ms']:9.1f} {r['img_s']:8.1f} "
                        f"{r['gflop']:11.2f} {r['tflop_s']:8.3f}")
                if "peak_gib" in r:
                    mfu = f"{r['tflop_s'] * 1e12 / peak:6.1%}" if peak else "   n/a"
                    line += f" {r['peak_gib']:8.2f} {mfu}"
                print(line, flush=True)
            costs = [(v, rows[v]["ms"] - base, k) for v, k in lazy]
            print(f"{arch:10s} regulariser cost per application (amortised at the paper's "
                  f"interval): " + ", ".join(f"{v[1:]} {ms:.1f} ms ({ms / k:.1f} ms/step at "
                                             f"1/{k})" for v, ms, k in costs))
            print(f"{arch:10s} paper schedule: {sched['ms']:.1f} ms/step measured (mean over "
                  f"the period), {predicted:.1f} ms/step from main + costs / interval")
    for variant in ("main", "paper schedule"):
        ratio = results["ssn"][variant]["ms"] / results["stylegan2"][variant]["ms"]
        print(f"SSN / StyleGAN2 step time, {variant}: {ratio:.2f}x")


if __name__ == "__main__":
    main()
