"""Images from a training checkpoint: one latent (and noise) per integer seed."""

from __future__ import annotations

from pathlib import Path

import torch

from ssnlib.safeload import load_state
from ssnlib.train.checkpoint import load_checkpoint, resolve_checkpoint
from ssnlib.train.config import from_dict

NETS = {"ema": "G_ema", "g": "G"}


def load_generator(ckpt: str | Path, net: str = "ema",
                   device: torch.device | str = "cpu") -> torch.nn.Module:
    """The generator stored in a checkpoint (a file, or a run folder: its latest), in eval mode:
    ``net="ema"`` the moving average (what to sample from), ``"g"`` the trained weights."""
    from ssnlib.train.trainer import build_models

    if net not in NETS:
        raise ValueError(f"net must be one of {sorted(NETS)}, got {net!r}")
    path = resolve_checkpoint(ckpt)
    state = load_checkpoint(path)
    G, _ = build_models(from_dict(state["config"]))
    load_state(G, state[NETS[net]], path, model=f"the run's generator ({NETS[net]})")
    return G.to(device).eval().requires_grad_(False)


def parse_seeds(spec: str) -> list[int]:
    """``"0-3,10,12-13"`` -> ``[0, 1, 2, 3, 10, 12, 13]``."""
    seeds = []
    for part in spec.split(","):
        lo, sep, hi = part.strip().partition("-")
        try:
            first, last = int(lo), int(hi) if sep else int(lo)
        except ValueError:
            raise ValueError(f"bad seed list {spec!r}; use e.g. 0-15 or 1,5,9-11") from None
        if first < 0 or last < first:
            raise ValueError(f"bad seed range {part!r} in {spec!r}")
        seeds.extend(range(first, last + 1))
    return seeds


@torch.no_grad()
def sample_images(G: torch.nn.Module, seeds: list[int], truncation: float = 1.0,
                  batch: int = 16) -> torch.Tensor:
    """Images [len(seeds), 3, R, R]: seed s draws z and the noise maps from
    ``torch.Generator().manual_seed(s)``; ``truncation < 1`` pulls w towards ``G.mean_w()``."""
    device = next(G.parameters()).device
    center = G.mean_w(generator=torch.Generator().manual_seed(0)) if truncation != 1 else None
    out = []
    for start in range(0, len(seeds), batch):
        zs, noises = [], []
        for seed in seeds[start:start + batch]:
            gen = torch.Generator().manual_seed(seed)
            zs.append(G.sample_z(1, gen, device=device))
            noises.append(G.make_noise(1, gen, device=device))
        noise = [torch.cat(maps) for maps in zip(*noises, strict=True)]
        out.append(G(torch.cat(zs), noise=noise, truncation=truncation,
                     truncation_w=center).float().cpu())
    return torch.cat(out)
