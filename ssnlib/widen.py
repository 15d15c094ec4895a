"""A trained generator in a wider body: more channels per layer, the same images.

The zoo's 32 px models have 32 channels a layer (the paper's have 512), and a wider model
from scratch costs a StyleGAN2 run and a transfer. Widening continues the narrow one instead
(the idea of Net2WiderNet, Chen et al. 2016, "Net2Net", with the new channels' outgoing
weights at zero rather than split copies):

* every old weight keeps its place, ``W_new[:O, :I] = W_old * gain``, where ``gain`` is the
  ratio of the two layers' equalised-lr scales, ``sqrt(I_new k^2) / sqrt(I k^2)``, so the
  run-time weight ``W * scale`` of every old connection is unchanged;
* a new input channel of a layer with fan-in (convolutions, linear layers, both modulated
  convolutions) gets zero weights, ``W_new[:, I:] = 0``: it adds nothing to any output, nor to
  a demodulated layer's normaliser (eq. 1's sigma_E sums ``s^2 w^2`` over inputs, and the new
  terms are 0), so every old output channel computes what it computed before;
* everything else new (a new output channel's weights from the old inputs, its bias, its
  style affine, the constant input's new channels) keeps the wider model's own
  initialisation: the new channels compute something from the start, and since their
  outgoing weights get gradients (the channel's activation times the loss's), training opens
  them.

The latent (z's shape, the grid, w_dim) stays as it is. So the wider generator draws exactly
the narrow one's images, for the same z and noise (``tests/test_widen.py``), and a run
continues with capacity to spare. Only generators widen:
a discriminator's minibatch-standard-deviation channel sits after its features, so its layout
does not grow by slices; a wider G trains against the same D.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from ssnlib.errors import CheckpointError
from ssnlib.layers import EqualConv2d, EqualLinear, ModulatedConv2d, SpatiallyModulatedConv2d

# the layers whose weight is [out, in, ...] with an equalised-lr scale 1 / sqrt(fan-in)
FAN_IN_LAYERS = (EqualConv2d, EqualLinear, ModulatedConv2d, SpatiallyModulatedConv2d)
WIDENABLE = ("ssn", "stylegan2")


class WideningError(CheckpointError):
    """The source does not fit inside the target: another architecture, or narrower."""


@dataclass
class WideningReport:
    """What :func:`widen_into` did, tensor by tensor."""

    source: str
    copied: list[str] = field(default_factory=list)        # same shape
    widened: list[tuple[str, tuple, tuple]] = field(default_factory=list)  # (key, from, to)
    numel: dict[str, int] = field(default_factory=dict)    # "old" and "new" parameters

    def __str__(self) -> str:
        old, new = self.numel.get("old", 0), self.numel.get("new", 0)
        return (f"{self.source}: {old:,} parameters -> {old + new:,} "
                f"({len(self.copied)} tensors copied, {len(self.widened)} widened, "
                f"{new:,} new parameters)")


def _check_fits(key: str, old: torch.Tensor, new: torch.Tensor, source: str) -> None:
    if old.ndim != new.ndim or any(a > b for a, b in zip(old.shape, new.shape, strict=True)):
        raise WideningError(f"{source}: {key!r} has shape {list(old.shape)}, which does not fit "
                            f"inside the wider generator's {list(new.shape)} (another "
                            f"architecture, size or latent width?)")


def _widened(old: torch.Tensor, new: torch.Tensor, fan_in: nn.Module | None,
             old_layer: nn.Module | None) -> torch.Tensor:
    """``new`` (the wider model's initial value) with ``old`` in its leading corner; a
    fan-in layer's new input columns are zeroed and its old weights rescaled."""
    out = new.detach().clone()
    corner = tuple(slice(0, n) for n in old.shape)
    gain = 1.0
    if fan_in is not None:
        out[:, old.shape[1]:] = 0                          # new inputs feed nothing
        gain = old_layer.scale / fan_in.scale              # keeps W * scale for old inputs
    out[corner] = old.to(out.dtype) * gain
    return out


@torch.no_grad()
def widen_into(source: nn.Module, target: nn.Module, name: str = "source") -> WideningReport:
    """Copy generator ``source`` into ``target``, the same architecture with at least as many
    channels in every layer, so that ``target`` draws ``source``'s images (module doc).
    ``target``'s own initial values fill whatever is new; seed its construction for a
    reproducible result. A tensor that does not fit is a :class:`WideningError`."""
    arch = getattr(target, "arch", None)
    if arch not in WIDENABLE or getattr(source, "arch", None) != arch:
        raise WideningError(f"{name}: widening needs two generators of one architecture in "
                            f"{WIDENABLE}, got {getattr(source, 'arch', type(source).__name__)}"
                            f" -> {arch or type(target).__name__}")
    latent = [(G.z_shape, G.w_dim) for G in (source, target)]
    if latent[0] != latent[1]:
        raise WideningError(f"{name}: widening keeps the latent, but z shape and w_dim "
                            f"{latent[0]} would become {latent[1]}")
    old_state, state = source.state_dict(), target.state_dict()
    layers, old_layers = dict(target.named_modules()), dict(source.named_modules())
    report = WideningReport(name)
    for key, new in state.items():
        if key not in old_state:
            raise WideningError(f"{name}: no {key!r}, which the wider generator needs "
                                f"(another architecture?)")
        old = old_state[key]
        _check_fits(key, old, new, name)
        if old.shape == new.shape:
            state[key] = old.clone()
            report.copied.append(key)
            continue
        owner, _, leaf = key.rpartition(".")
        layer = layers.get(owner)
        fan_in = (layer if leaf == "weight" and isinstance(layer, FAN_IN_LAYERS)
                  and new.shape[1] > old.shape[1] else None)
        state[key] = _widened(old, new, fan_in, old_layers.get(owner))
        report.widened.append((key, tuple(old.shape), tuple(new.shape)))
    target.load_state_dict(state)
    params = dict(target.named_parameters())
    old_numel = sum(old_state[k].numel() for k in params)
    report.numel = {"old": old_numel, "new": sum(p.numel() for p in params.values()) - old_numel}
    return report


def wider_channels(channels: dict[int, int], factor: float) -> dict[int, int]:
    """Each resolution's width times ``factor`` (> 1), rounded: {4: 32, ...} -> {4: 64, ...}."""
    if not (isinstance(factor, (int, float)) and math.isfinite(factor) and factor > 1):
        raise ValueError(f"the widening factor must be a number above 1, got {factor!r}")
    return {r: max(c, round(c * factor)) for r, c in channels.items()}
