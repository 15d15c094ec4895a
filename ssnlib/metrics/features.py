"""The feature-extractor interface every metric computes in.

A :class:`FeatureExtractor` maps images in [-1, 1] (``[B, 3, H, W]``, any size; it resizes to
what its network expects) to features ``[B, dim]``. It batches internally, runs under
``torch.no_grad`` on its own device (bf16 autocast on CUDA where the network tolerates it) and
returns float32 on the CPU, so metric code never cares which network it was given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm


def resize(images: torch.Tensor, size: int) -> torch.Tensor:
    """Square images to ``size x size``: area averaging down (anti-aliased), bilinear up."""
    if images.shape[-2:] == (size, size):
        return images
    if images.shape[-1] > size:
        return F.interpolate(images, size=(size, size), mode="area")
    return F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False)


class FeatureExtractor:
    """Base class: subclasses set ``name``, ``dim``, ``input_size`` and implement
    :meth:`forward` on a batch already resized, on ``self.device``, in [-1, 1].

    ``batch_size`` bounds one forward pass; ``bf16`` enables bf16 autocast on CUDA.
    """

    name: str = ""
    dim: int = 0
    input_size: int = 0

    def __init__(self, device: torch.device | str = "cpu", batch_size: int = 64,
                 bf16: bool = True):
        self.device = torch.device(device)
        self.batch_size = int(batch_size)
        self.bf16 = bool(bf16) and self.device.type == "cuda"

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    @torch.no_grad()
    def __call__(self, images: torch.Tensor, precise: bool = False) -> torch.Tensor:
        """Features [B, dim] (float32, CPU); ``precise`` forbids bf16 (PPL's tiny steps)."""
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"{self.name} expects images [B, 3, H, W] in [-1, 1], "
                             f"got shape {tuple(images.shape)}")
        out = []
        for start in range(0, images.shape[0], self.batch_size):
            x = images[start:start + self.batch_size].to(self.device, torch.float32)
            x = resize(x, self.input_size)
            with torch.autocast("cuda", torch.bfloat16, enabled=self.bf16 and not precise):
                out.append(self.forward(x).float().cpu())
        return torch.cat(out) if out else torch.zeros(0, self.dim)

    def features_of(self, batches: Iterable[torch.Tensor], total: int | None = None,
                    desc: str | None = None) -> torch.Tensor:
        """Features of a stream of image batches, with a progress bar (``total`` images)."""
        out = []
        with tqdm(total=total, desc=desc or f"{self.name} features", unit="img",
                  leave=False) as bar:
            for images in batches:
                out.append(self(images))
                bar.update(images.shape[0])
        return torch.cat(out) if out else torch.zeros(0, self.dim)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, dim={self.dim}, device={self.device})"


class FunctionFeatures(FeatureExtractor):
    """Any function ``[B, 3, S, S] -> [B, dim]`` as an extractor (tests, custom embeddings)."""

    def __init__(self, fn: Callable[[torch.Tensor], torch.Tensor], dim: int, input_size: int,
                 name: str = "function", **kwargs):
        super().__init__(**kwargs)
        self.fn, self.dim, self.input_size, self.name = fn, int(dim), int(input_size), name

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.fn(images)
