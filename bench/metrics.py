"""How fast are the metrics? Feature extraction images/s (Inception FID detector and the domain
network), the Fréchet distance itself, and the distortion metric on the tiny SSN.

    python bench/metrics.py [--repeats 3] [--inception-images 16] [--domain-images 512]
                            [--floor 2000] [--floor-inception 0]

Each figure is the best of ``repeats`` runs, as wall-clock images/s and, on the CPU, as images
per CPU-second of this process (``time.process_time``; on a shared machine the wall clock also
counts other people's work). Runs on the CPU and, when torch sees one, on CUDA (bf16 autocast
for the domain network, float32 for Inception). Prints the device and the torch version.
Then the FID/KID noise floor (:func:`ssnlib.metrics.noise_floor`) of both procedural datasets at
64 px: ``--floor`` images (two halves) in the domain space, ``--floor-inception`` in
Inception's (0: skip; a few images/s on a CPU). Their features are cached in ``--cache`` (default:
a temporary folder, so the bench leaves nothing in data/stats/).
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time

import numpy as np
import torch

from ssnlib.metrics.distortion import distortion_and_locality
from ssnlib.metrics.featurenet import DomainFeatures
from ssnlib.metrics.fid import frechet_distance
from ssnlib.metrics.floor import noise_floor
from ssnlib.metrics.inception import InceptionFID, find_detector
from ssnlib.models import build_generator


def timed(fn, repeats: int, device: torch.device) -> tuple[float, float]:
    """Best (wall seconds, CPU seconds) of ``repeats`` calls, after one warm-up call."""
    fn()
    best_wall, best_cpu = float("inf"), float("inf")
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        w, c = time.perf_counter(), time.process_time()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        best_wall = min(best_wall, time.perf_counter() - w)
        best_cpu = min(best_cpu, time.process_time() - c)
    return best_wall, best_cpu


def report(label: str, n: int, wall: float, cpu: float, device: torch.device) -> None:
    per_cpu = f", {n / cpu:8.1f} img/CPU-s" if device.type == "cpu" else ""
    print(f"  {label:38s} {n / wall:8.1f} img/s{per_cpu}")


def bench_device(device: torch.device, args) -> None:
    print(f"device {device}" + (f" ({torch.cuda.get_device_name(device)})"
                                if device.type == "cuda" else ""))
    gen = torch.Generator().manual_seed(0)
    domain = DomainFeatures(device=device, batch_size=256)
    x = torch.rand(args.domain_images, 3, 64, 64, generator=gen) * 2 - 1
    report(f"domain net, 64 px, batch 256{' (bf16)' if domain.bf16 else ''}",
           len(x), *timed(lambda: domain(x), args.repeats, device), device)
    try:
        inception = InceptionFID(find_detector(), device=device, batch_size=16)
    except FileNotFoundError as err:
        print(f"  inception: skipped ({err})")
    else:
        x = torch.rand(args.inception_images, 3, 64, 64, generator=gen) * 2 - 1
        report("inception, 64 -> 299 px, batch 16", len(x),
               *timed(lambda: inception(x), args.repeats, device), device)
    G = build_generator("ssn", "tiny").to(device).eval().requires_grad_(False)
    n = args.distortion_samples
    report(f"distortion+locality, tiny SSN ({G.grid.n_blocks} blocks)", n,
           *timed(lambda: distortion_and_locality(G, n, batch=n), args.repeats, device), device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--domain-images", type=int, default=512)
    parser.add_argument("--inception-images", type=int, default=16)
    parser.add_argument("--distortion-samples", type=int, default=8)
    parser.add_argument("--floor", type=int, default=2000)
    parser.add_argument("--floor-inception", type=int, default=0)
    parser.add_argument("--cache", help="folder for the noise floors' reference features")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, python {platform.python_version()}, "
          f"{torch.get_num_threads()} CPU threads")
    for dim in (192, 2048):
        a = np.cov(np.random.default_rng(0).standard_normal((dim + 10, dim)), rowvar=False)
        t = time.perf_counter()
        frechet_distance(np.zeros(dim), a, np.zeros(dim), a)
        print(f"frechet distance, {dim}-d: {time.perf_counter() - t:.3f} s")
    devices = [torch.device("cpu")]
    if torch.cuda.is_available():
        devices.append(torch.device("cuda"))
    for device in devices:
        bench_device(device, args)
    with tempfile.TemporaryDirectory() as tmp:
        floors(args, devices[-1], args.cache or tmp)


def floors(args, device: torch.device, cache: str) -> None:
    for make, count in ((DomainFeatures, args.floor), (InceptionFID, args.floor_inception)):
        if count < 2:
            continue
        extractor = make(device=device)
        for source in ("faces", "skylines"):
            t = time.perf_counter()
            r = noise_floor(source, extractor, count, cache_dir=cache)
            print(f"noise floor {source:8s} 64 px, {r['per_half']} vs {r['per_half']} images, "
                  f"{r['features']}: FID {r['fid']:.4g}, KID {r['kid']:.3g} "
                  f"({time.perf_counter() - t:.0f} s)")


if __name__ == "__main__":
    main()
