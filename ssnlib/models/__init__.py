"""Generators (StyleGAN2, SSN, SPADE variant), the discriminator and named configurations."""

from ssnlib.models.configs import (
    CONFIGS,
    GENERATORS,
    build_discriminator,
    build_generator,
    discriminator_kwargs,
    generator_kwargs,
)
from ssnlib.models.discriminator import Discriminator
from ssnlib.models.spade import SPADEGenerator
from ssnlib.models.ssn import SpatialEncoder, SSNGenerator
from ssnlib.models.stylegan2 import StyleGAN2Generator

__all__ = [
    "CONFIGS", "GENERATORS", "Discriminator", "SPADEGenerator", "SSNGenerator",
    "SpatialEncoder", "StyleGAN2Generator", "build_discriminator", "build_generator",
    "discriminator_kwargs", "generator_kwargs",
]
