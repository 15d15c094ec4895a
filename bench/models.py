"""Model benchmark: parameter counts (paper256), CPU forward ms at 32/64, CUDA fwd+bwd ms at 256.

Run: ``python bench/models.py`` (``--repeats N``). Prints the device and torch version and the
SSN / StyleGAN2 ratios. On CUDA the 256 px timing uses bf16 autocast and channels_last.
"""

from __future__ import annotations

import argparse
import platform
import time

import torch

from ssnlib.models import build_discriminator, build_generator


def count(net: torch.nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def timed(fn, repeats: int, device: torch.device) -> float:
    """Median wall time of ``fn()`` in ms, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append((time.perf_counter() - start) * 1e3)
    return sorted(times)[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, python {platform.python_version()}, "
          f"CPU threads {torch.get_num_threads()}, CUDA: "
          f"{torch.cuda.get_device_name() if torch.cuda.is_available() else 'none'}")

    print("\nparameters (paper256)")
    counts = {arch: count(build_generator(arch, "paper256")) for arch in ("stylegan2", "ssn")}
    d = count(build_discriminator("paper256"))
    for arch, n in counts.items():
        print(f"  G {arch:9s} {n / 1e6:7.2f} M")
    print(f"  D           {d / 1e6:7.2f} M")
    print(f"  ratio SSN / StyleGAN2 G: {counts['ssn'] / counts['stylegan2']:.3f}")

    cpu = torch.device("cpu")
    print(f"\nCPU forward, batch {args.batch}, median of {args.repeats} (ms)")
    for config in ("tiny", "small"):
        D = build_discriminator(config).eval()
        row = {}
        with torch.no_grad():
            for arch in ("stylegan2", "ssn", "spade"):
                G = build_generator(arch, config).eval()
                z = G.sample_z(args.batch, torch.Generator().manual_seed(0))
                row[arch] = timed(lambda G=G, z=z: G(z), args.repeats, cpu)
            x = torch.randn(args.batch, 3, D.resolution, D.resolution)
            row["D"] = timed(lambda D=D, x=x: D(x), args.repeats, cpu)
        cells = "  ".join(f"{k} {v:8.1f}" for k, v in row.items())
        print(f"  {config:6s} {D.resolution:4d}px  {cells}  ratio SSN/SG2 "
              f"{row['ssn'] / row['stylegan2']:.2f}")

    if not torch.cuda.is_available():
        print("\nno CUDA device: skipping the 256 px GPU timing")
        return
    cuda = torch.device("cuda")
    print(f"\nCUDA fwd+bwd at 256 px (paper256), batch {args.batch}, bf16 autocast, "
          f"channels_last, median of {args.repeats} (ms)")
    D = build_discriminator("paper256").to(cuda, memory_format=torch.channels_last)
    results = {}
    for arch in ("stylegan2", "ssn"):
        G = build_generator(arch, "paper256").to(cuda, memory_format=torch.channels_last)
        z = G.sample_z(args.batch, torch.Generator(cuda).manual_seed(0))

        def step(G=G, z=z):
            with torch.autocast("cuda", dtype=torch.bfloat16):
                loss = D(G(z)).float().mean()
            loss.backward()
        results[arch] = timed(step, args.repeats, cuda)
        print(f"  G {arch:9s} + D  {results[arch]:8.1f}")
    x = torch.randn(args.batch, 3, 256, 256, device=cuda)

    def d_step():
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = D(x).float().mean()
        loss.backward()
    print(f"  D alone          {timed(d_step, args.repeats, cuda):8.1f}")
    print(f"  ratio SSN / StyleGAN2 (G+D): {results['ssn'] / results['stylegan2']:.2f}")


if __name__ == "__main__":
    main()
