"""Reproducible latent draws for evaluation: sample ``i`` of a run with seed ``s`` draws all its
randomness (z, noise maps, fresh blocks, interpolation end points) from its own CPU
``torch.Generator`` seeded with ``s * 1_000_003 + i``, so every metric is a pure function of
the seed, whatever the batch size or the device.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import torch
from tqdm.auto import tqdm

SEED_STRIDE = 1_000_003
STREAM_STRIDE = 1 << 62      # streams of one seed stay apart for any realistic seed and index


def sample_generator(seed: int, index: int, stream: int = 0) -> torch.Generator:
    """Sample ``index``'s generator; ``stream`` > 0 gives further streams, independent of the
    first, for draws that must not shift the ones every metric already makes."""
    return torch.Generator().manual_seed(seed * SEED_STRIDE + index + stream * STREAM_STRIDE)


def model_device(G: torch.nn.Module) -> torch.device:
    return next(G.buffers(), next(G.parameters(), torch.empty(0))).device


class Draw(NamedTuple):
    latents: list[torch.Tensor]     # n_latents tensors [B, *z_shape] on G's device
    noise: list[torch.Tensor]       # per-layer noise maps [B, 1, r, r]
    uniform: torch.Tensor           # [B, n_uniform] in [0, 1), on the CPU


def draw(G, indices: range, seed: int, n_latents: int = 1, n_uniform: int = 0) -> Draw:
    """For each sample in ``indices``: ``n_latents`` latents, one set of noise maps and
    ``n_uniform`` uniform numbers, drawn in that order from the sample's generator."""
    device = model_device(G)
    zs, noises, us = [[] for _ in range(n_latents)], [], []
    for i in indices:
        gen = sample_generator(seed, i)
        for k in range(n_latents):
            zs[k].append(G.sample_z(1, gen, device=device))
        noises.append(G.make_noise(1, gen, device=device))
        us.append(torch.rand(1, n_uniform, generator=gen))
    return Draw([torch.cat(z) for z in zs],
                [torch.cat(maps) for maps in zip(*noises, strict=True)], torch.cat(us))


def batches(count: int, batch: int, desc: str) -> Iterator[range]:
    """Index ranges of ``batch`` samples covering ``0 .. count-1``, with a progress bar."""
    if count < 1 or batch < 1:
        raise ValueError(f"count and batch must be positive, got {count} and {batch}")
    with tqdm(total=count, desc=desc, unit="img", leave=False) as bar:
        for start in range(0, count, batch):
            yield range(start, min(start + batch, count))
            bar.update(min(batch, count - start))


@torch.no_grad()
def generated_batches(G, count: int, seed: int = 0, batch: int = 32, bf16: bool = False,
                      truncation: float = 1.0) -> Iterator[torch.Tensor]:
    """``count`` images of G (float32, on G's device) in batches; ``bf16`` runs G under bf16
    autocast on CUDA (fine for FID/KID, never for the distortion metrics). ``truncation`` is
    psi in ``w = w_avg + psi (w - w_avg)`` around ``G.mean_w`` of seed 0: below 1 it trades
    variety for typical images, above 1 it pushes samples outwards (Kynkäänniemi et al. 2019
    sweep it to trace precision against recall)."""
    device = model_device(G)
    psi = {} if truncation == 1.0 else {       # a generator need not know of truncation
        "truncation": truncation,
        "truncation_w": G.mean_w(generator=torch.Generator().manual_seed(0))}
    for idx in batches(count, batch, "generating"):
        (z,), noise, _ = draw(G, idx, seed)
        with torch.autocast("cuda", torch.bfloat16, enabled=bf16 and device.type == "cuda"):
            yield G(z, noise=noise, **psi).float()
