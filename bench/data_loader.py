"""How fast can ssnlib.data feed a trainer? Images/s at 64x64.

    python bench/data_loader.py [--count 2000] [--repeats 5]

1. Procedural rendering per core: one thread, CPU time (time.process_time), so
   other processes on a shared machine do not count; best of `repeats` batches.
2. A packed archive through a torch DataLoader (batch 32; 0 and 2 workers),
   wall-clock images/s over whole epochs (best of `repeats`).
3. If ssnlib.models is there: a forward + backward of the "small" (64 px) SSN
   generator and discriminator at batch 32 on the CPU, so the trainer's
   consumption stands beside the loader's supply.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from ssnlib.data import CartoonFaces, PackedDataset, Skylines, pack_procedural

RESOLUTION, BATCH = 64, 32


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def render_rate(cls, count: int, repeats: int) -> tuple[float, float]:
    """Best and median images/s of one thread rendering `count` images (fast path)."""
    dataset = cls(count * repeats, RESOLUTION, seed=0, return_parts=False)
    times = []
    for r in range(repeats):
        start = time.process_time()
        for i in range(r * count, (r + 1) * count):
            dataset[i]
        times.append(time.process_time() - start)
    return count / min(times), count / float(np.median(times))


def loader_rate(path: Path, workers: int, repeats: int) -> float:
    loader = torch.utils.data.DataLoader(PackedDataset(path, xflip=True), batch_size=BATCH,
                                         shuffle=True, num_workers=workers,
                                         persistent_workers=workers > 0)
    best = 0.0
    for _ in range(repeats):
        start, n = time.perf_counter(), 0
        for batch in loader:
            n += len(batch)
        best = max(best, n / (time.perf_counter() - start))
    return best


def trainer_rate(repeats: int) -> str:
    try:
        from ssnlib.models import build_discriminator, build_generator
    except ImportError:
        return "pending (ssnlib.models is not there yet)"
    g, d = build_generator("ssn", "small"), build_discriminator("small")
    z = g.sample_z(BATCH)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        d(g(z)).mean().backward()
        best = min(best, time.perf_counter() - start)
    return f"{BATCH / best:7.1f} images/s (SSN 'small' G+D forward+backward, batch {BATCH})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=400, help="images per timed batch")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--archive-size", type=int, default=2000)
    args = parser.parse_args()
    threads = torch.get_num_threads()
    print(f"torch {torch.__version__}, numpy {np.__version__}, {cpu_name()}, "
          f"{torch.get_num_threads()} torch threads")

    torch.set_num_threads(1)
    for cls in (CartoonFaces, Skylines):
        best, median = render_rate(cls, args.count, args.repeats)
        print(f"render {cls.__name__:12s} {RESOLUTION}px, 1 core: {best:6.0f} images/s best, "
              f"{median:6.0f} median")
    torch.set_num_threads(threads)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "faces"
        start = time.perf_counter()
        pack_procedural(CartoonFaces(args.archive_size, RESOLUTION), path, progress=False)
        print(f"pack   {args.archive_size} CartoonFaces: {time.perf_counter() - start:.1f} s")
        for workers in (0, 2):
            rate = loader_rate(path, workers, args.repeats)
            print(f"load   packed archive, DataLoader batch {BATCH}, {workers} workers: "
                  f"{rate:8.0f} images/s")
    print(f"train  {trainer_rate(3)}")


if __name__ == "__main__":
    main()
