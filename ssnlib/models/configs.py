"""Named model configurations and the constructors the trainer and the chapters use.

* ``tiny``: 32x32, 64 channels everywhere, z/w 64, 4x4 grid (8x8-pixel blocks). Trains at
  tens of images/s on a 2-core CPU; the grid matches the 4x4 constant input, as in the paper.
* ``small``: 64x64, 128 channels, z/w 128, 4x4 grid (16x16-pixel blocks): GPU-minutes.
* ``paper256``: the paper's 256x256 setting: z 512 x 4 x 4, w 512, StyleGAN2 config-f widths
  (512 up to 64 px, then 256 at 128 px and 128 at 256 px; rosinality's channel_multiplier 2).

Any constructor argument can be overridden: ``build_generator("ssn", "tiny", grid=(2, 2))``.
"""

from __future__ import annotations

from torch import nn

from ssnlib.models.discriminator import Discriminator
from ssnlib.models.spade import SPADEGenerator
from ssnlib.models.ssn import SSNGenerator
from ssnlib.models.stylegan2 import StyleGAN2Generator

CONFIGS: dict[str, dict] = {
    "tiny": dict(resolution=32, grid=(4, 4), z_dim=64, w_dim=64, channel_max=64,
                 channel_multiplier=2),
    "small": dict(resolution=64, grid=(4, 4), z_dim=128, w_dim=128, channel_max=128,
                  channel_multiplier=2),
    "paper256": dict(resolution=256, grid=(4, 4), z_dim=512, w_dim=512, channel_max=512,
                     channel_multiplier=2),
}

GENERATORS: dict[str, type[nn.Module]] = {
    "stylegan2": StyleGAN2Generator,
    "ssn": SSNGenerator,
    "spade": SPADEGenerator,
}

_SPATIAL_ONLY = ("grid",)
_GENERATOR_ONLY = ("grid", "z_dim", "w_dim")


def _config(config_name: str) -> dict:
    if config_name not in CONFIGS:
        raise ValueError(f"unknown config {config_name!r}; choose from {sorted(CONFIGS)}")
    return dict(CONFIGS[config_name])


def generator_kwargs(arch: str, config_name: str, **overrides) -> dict:
    """The constructor arguments ``build_generator`` would use (for checkpoints' manifests)."""
    if arch not in GENERATORS:
        raise ValueError(f"unknown arch {arch!r}; choose from {sorted(GENERATORS)}")
    kwargs = _config(config_name)
    if arch == "stylegan2":
        for key in _SPATIAL_ONLY:
            kwargs.pop(key)
    kwargs.update(overrides)
    return kwargs


def build_generator(arch: str, config_name: str = "tiny", **overrides) -> nn.Module:
    """A generator: ``arch`` in ``"stylegan2"``, ``"ssn"``, ``"spade"``; ``config_name`` in
    :data:`CONFIGS`; ``overrides`` replace any constructor argument."""
    kwargs = generator_kwargs(arch, config_name, **overrides)
    return GENERATORS[arch](**kwargs)


def discriminator_kwargs(config_name: str, **overrides) -> dict:
    kwargs = {k: v for k, v in _config(config_name).items() if k not in _GENERATOR_ONLY}
    kwargs.update(overrides)
    return kwargs


def build_discriminator(config_name: str = "tiny", **overrides) -> Discriminator:
    """The StyleGAN2 discriminator matching a named configuration."""
    return Discriminator(**discriminator_kwargs(config_name, **overrides))
