"""BlockPicker latency on the CPU: a block click and a Resample click, at 64 px.

Run: ``python bench/widgets.py`` (``--repeats N``, ``--threads T``). Prints the device, torch
version and the median ms in Python (the widget's own work: selection, PIL overlay, PNG
encoding, and for Resample the generator's forward pass); the browser round trip comes on top.
A block click must stay under 100 ms; a Resample click costs one forward pass of G.
"""

from __future__ import annotations

import argparse
import platform
import time

import torch

from ssnlib.models import build_generator
from ssnlib.widgets import BlockPicker


def median_ms(fn, repeats: int) -> float:
    fn()                                              # warm-up (oneDNN primitive creation)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return sorted(times)[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, cpu {platform.processor() or platform.machine()}, "
          f"{args.threads} threads")
    for arch, config, overrides in (("ssn", "tiny", dict(resolution=64)), ("ssn", "small", {}),
                                    ("stylegan2", "small", {})):
        torch.manual_seed(0)
        G = build_generator(arch, config, **overrides).eval()
        p = BlockPicker(G, seed=0, display=256)
        cell = p.cells[len(p.cells) // 3]            # a block click (StyleGAN2: the one block)
        click = median_ms(cell.click, args.repeats)
        p.select(range(len(p.cells) // 3, len(p.cells) // 3 + 2 if len(p.cells) > 1 else 1))
        resample = median_ms(p.resample_button.click, args.repeats)
        print(f"{arch:9s} {config:5s} {G.resolution} px, grid {p.grid.n_h}x{p.grid.n_w}: "
              f"block click {click:6.1f} ms, Resample click {resample:7.1f} ms")


if __name__ == "__main__":
    main()
