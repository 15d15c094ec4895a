"""What all generators share: argument checks, channel widths, noise inputs, the common API.

Every generator exposes ``sample_z``, ``make_noise``, ``mapping``, ``synthesis``, ``mean_w``
and ``forward(z, noise=None, truncation=1.0, truncation_w=None, generator=None)`` so the
trainer, the losses and the chapters treat StyleGAN2, SSN and the SPADE variant alike.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from ssnlib.layers import randn
from ssnlib.utils import assert_shape, check_positive

MIN_RESOLUTION, MAX_RESOLUTION = 32, 1024
NoiseArg = Sequence[torch.Tensor | None] | str | None


def check_resolution(resolution: int) -> int:
    """A power of two in [32, 1024]."""
    if isinstance(resolution, bool) or not isinstance(resolution, int) \
            or resolution < MIN_RESOLUTION or resolution > MAX_RESOLUTION \
            or resolution & (resolution - 1):
        raise ValueError(f"resolution must be a power of 2 in [{MIN_RESOLUTION}, "
                         f"{MAX_RESOLUTION}], got {resolution!r}")
    return resolution


def make_channels(resolution: int, channels: dict[int, int] | None = None,
                  channel_max: int = 512, channel_multiplier: int = 2,
                  channel_base: int = 16384) -> dict[int, int]:
    """Channel width per resolution 4, 8, ..., resolution.

    Default: ``min(channel_max, channel_base * channel_multiplier // r)``, which reproduces
    rosinality's table (StyleGAN2 config-f is ``channel_multiplier=2``: 512 up to 64 px, then
    256, 128, 64, 32 at 128 ... 1024 px). An explicit ``channels`` dict wins; it must name every
    resolution with a positive width.
    """
    check_resolution(resolution)
    sizes = [2 ** i for i in range(2, int(math.log2(resolution)) + 1)]
    if channels is None:
        for name, value in (("channel_max", channel_max), ("channel_multiplier",
                                                            channel_multiplier),
                            ("channel_base", channel_base)):
            check_positive(**{name: value})
        channels = {r: max(1, min(channel_max, channel_base * channel_multiplier // r))
                    for r in sizes}
    missing = [r for r in sizes if r not in channels]
    if missing:
        raise ValueError(f"channels dict lacks resolutions {missing} (needs all of {sizes})")
    bad = {r: channels[r] for r in sizes if not isinstance(channels[r], int) or channels[r] < 1}
    if bad:
        raise ValueError(f"channel widths must be positive integers, got {bad}")
    return {r: channels[r] for r in sizes}


class NoiseBuffers(nn.Module):
    """Fixed per-layer noise maps, stored as ``noises.noise_i`` (rosinality's names)."""

    def __init__(self, sizes: Sequence[int]):
        super().__init__()
        for i, size in enumerate(sizes):
            self.register_buffer(f"noise_{i}", torch.randn(1, 1, size, size))

    def as_list(self) -> list[torch.Tensor]:
        return [getattr(self, f"noise_{i}") for i in range(len(self._buffers))]


class GeneratorBase(nn.Module):
    """The shared skeleton: resolution, channels, mapping network and noise bookkeeping.

    ``spatial`` generators (SSN, SPADE) take z [B, z_dim, n_h, n_w] and produce a w-grid
    [B, w_dim, n_h, n_w]; StyleGAN2 takes z [B, z_dim] and produces w [B, w_dim].
    """

    arch = ""
    spatial = False

    def __init__(self, resolution: int, z_dim: int, w_dim: int, channels: dict[int, int],
                 global_dim: int = 0):
        super().__init__()
        check_positive(z_dim=z_dim, w_dim=w_dim)
        if isinstance(global_dim, bool) or not isinstance(global_dim, int) or global_dim < 0:
            raise ValueError(f"global_dim must be a non-negative integer, got {global_dim!r}")
        self.resolution, self.z_dim, self.w_dim = check_resolution(resolution), z_dim, w_dim
        self.global_dim = global_dim        # 0: no global latent u (every paper model)
        self.channels = channels
        self.log_size = int(math.log2(resolution))
        # one noise map for the 4x4 conv, two per later resolution (rosinality's layout)
        self.noise_sizes = [4] + [2 ** (i // 2 + 3) for i in range(2 * (self.log_size - 2))]
        self.noises = NoiseBuffers(self.noise_sizes)

    @property
    def num_noise(self) -> int:
        """Entries of a noise list: a map per noisy layer, then u if there is a global latent."""
        return len(self.noise_sizes) + (1 if self.global_dim else 0)

    @property
    def z_shape(self) -> tuple[int, ...]:
        return (self.z_dim,)

    def _device(self, device) -> torch.device:
        return torch.device(device) if device is not None else self.noises.noise_0.device

    def sample_z(self, batch: int, generator: torch.Generator | None = None,
                 device: torch.device | str | None = None) -> torch.Tensor:
        """Latents ``[batch, *z_shape]`` from N(0, I), drawn with ``generator`` (default device:
        the model's)."""
        check_positive(batch=batch)
        return randn((batch, *self.z_shape), generator, device=self._device(device))

    def make_noise(self, batch: int = 1, generator: torch.Generator | None = None,
                   device: torch.device | str | None = None) -> list[torch.Tensor]:
        """One noise map [batch, 1, r, r] per noisy layer, drawn with ``generator``, then, for
        a generator with a global latent, u [batch, global_dim, 1, 1] (drawn first, as
        ``synthesis`` draws it when not given). Pass the list as ``noise=`` to several calls to
        make them share noise (and u)."""
        check_positive(batch=batch)
        device = self._device(device)
        u = [randn((batch, self.global_dim, 1, 1), generator, device=device)] \
            if self.global_dim else []
        return [randn((batch, 1, s, s), generator, device=device)
                for s in self.noise_sizes] + u

    def const_noise(self) -> list[torch.Tensor]:
        """The stored noise (``noise="const"``)."""
        return self.noises.as_list()

    def _noise_list(self, noise: NoiseArg) -> list[torch.Tensor | None]:
        if noise is None:
            return [None] * self.num_noise
        if isinstance(noise, str):
            if noise != "const":
                raise ValueError(f"noise must be None, 'const' or a list, got {noise!r}")
            return self.const_noise()
        noise = list(noise)
        if len(noise) != self.num_noise:
            raise ValueError(f"expected {self.num_noise} noise entries (see make_noise), "
                             f"got {len(noise)}")
        return noise

    def check_z(self, z: torch.Tensor) -> None:
        assert_shape(f"{type(self).__name__}'s z", z, [None, *self.z_shape])

    def mapping(self, z: torch.Tensor) -> torch.Tensor:
        """z -> w through PixelNorm and the mapping MLP ``style``."""
        self.check_z(z)
        return self.style(z)

    def synthesis(self, w: torch.Tensor, noise: NoiseArg = None,
                  generator: torch.Generator | None = None) -> torch.Tensor:
        raise NotImplementedError

    @torch.no_grad()
    def mean_w(self, n: int = 4096, generator: torch.Generator | None = None) -> torch.Tensor:
        """The mean of w over ``n`` latents (over blocks too, for spatial models): [w_dim],
        the centre for the truncation trick."""
        total = torch.zeros(self.w_dim, device=self._device(None))
        for start in range(0, n, 512):
            w = self.mapping(self.sample_z(min(512, n - start), generator))
            total += w.float().sum(0).flatten(1).mean(1) if self.spatial else w.float().sum(0)
        return total / n

    def forward(self, z: torch.Tensor, noise: NoiseArg = None, truncation: float = 1.0,
                truncation_w: torch.Tensor | None = None,
                generator: torch.Generator | None = None) -> torch.Tensor:
        """Images [B, 3, R, R], roughly in [-1, 1].

        ``noise``: None (fresh noise from ``generator``), ``"const"`` (the stored buffers) or a
        list from :meth:`make_noise` (entries may be None). ``truncation < 1`` pulls w towards
        ``truncation_w`` (e.g. :meth:`mean_w`): ``w = w_avg + psi * (w - w_avg)``.
        """
        w = self.mapping(z)
        if truncation != 1.0:
            if truncation_w is None:
                raise ValueError("truncation != 1 needs truncation_w (e.g. G.mean_w())")
            avg = truncation_w.reshape(-1, *([1] * (w.ndim - 2))).to(w.dtype)
            w = avg + truncation * (w - avg)
        return self.synthesis(w, noise, generator)
