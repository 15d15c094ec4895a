"""Transfer from StyleGAN2 (paper, section 3.4), and a safe importer of rosinality checkpoints.

The paper trains no SSN from scratch: "we initialize all our models from the pretrained
StyleGAN2 models" (section 3.4), 4 GPU-hours of fine-tuning instead of 781 for a model from
scratch. This works because an SSN *contains* StyleGAN2:

* the mapping MLP on one vector, ``style.N`` [out, in], is the same MLP on every block of the
  z grid, a 1x1 convolution ``style.N`` [out, in, 1, 1];
* a modulated convolution with a style vector is a spatially modulated one (eq. 1) with a
  constant style map, ``conv.modulation`` [C, w_dim] -> [C, w_dim, 1, 1];
* constant input, convolution weights, noise strengths, biases and ToRGBs keep their names
  and shapes; only the spatial encoder (``encoder.*``) has no counterpart. Its gain starts at
  0, so the w-map of a grid of equal blocks is constant and the SSN draws exactly the
  StyleGAN2 image.

    from ssnlib.transfer import stylegan2_to_ssn, load_rosinality
    G, D, report = stylegan2_to_ssn(sg2, D)       # an SSN ready to fine-tune, D copied
    ckpt = load_rosinality("550000.pt")           # rosinality/stylegan2-pytorch -> ssnlib
    G, D, report = stylegan2_to_ssn(ckpt.G_ema, ckpt.D)

Files are read with ``torch.load(weights_only=True)``: no pickled code ever runs, only
``argparse.Namespace`` (rosinality's ``args``) is allowed beyond tensors and plain containers.
"""

from __future__ import annotations

import argparse
import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import torch
from torch import nn

from ssnlib.errors import CheckpointError, MissingFileError
from ssnlib.models import Discriminator, SSNGenerator, StyleGAN2Generator
from ssnlib.models.common import make_channels
from ssnlib.safeload import torch_load

# what a rosinality checkpoint legitimately holds beyond tensors and containers
SAFE_GLOBALS = [argparse.Namespace]
INIT_FORMAT = "ssnlib-init-1"


class TransferError(CheckpointError):
    """A checkpoint that cannot be read safely or does not fit the model asked for."""


# -- reading files safely ----------------------------------------------------------------------


def safe_load(path: str | Path) -> object:
    """A ``torch.save`` file's contents on the CPU, unpickled with ``weights_only=True`` and
    ``argparse.Namespace`` allowed (:func:`ssnlib.safeload.torch_load`, the one loader of every
    checkpoint): a file whose unpickling would build any other object is refused before
    anything runs; a truncated or damaged file is a one-line error naming it."""
    try:
        return torch_load(path, SAFE_GLOBALS)
    except (CheckpointError, MissingFileError) as err:
        raise TransferError(str(err)) from None


# -- copying weights by name -------------------------------------------------------------------


@dataclass
class TransferReport:
    """What a transfer did to every entry of the target's state dict."""

    source: str
    target: str
    copied: list[str] = field(default_factory=list)          # same name, same shape
    reshaped: list[tuple[str, tuple, tuple]] = field(default_factory=list)  # (key, from, to)
    fresh: list[str] = field(default_factory=list)           # no counterpart: initialised anew
    numel: dict[str, int] = field(default_factory=dict)      # parameters per kind

    def __str__(self) -> str:
        n = self.numel
        rules = sorted({_RULES[len(a)] for _, a, _ in self.reshaped})
        fresh = sorted({k.split(".")[0] + ".*" for k in self.fresh})
        rows = [("copied", len(self.copied), "same name, same shape"),
                ("reshaped", len(self.reshaped), "; ".join(rules) or "-"),
                ("fresh", len(self.fresh), ", ".join(fresh) or "-")]
        lines = [f"{self.source} -> {self.target}: {sum(n.values()):,} parameters"]
        lines += [f"  {kind:8s} {count:4d} tensors {n.get(kind, 0):10,} parameters   {what}"
                  for kind, count, what in rows]
        return "\n".join(lines)


# the layouts _fit converts, by the number of dimensions of the source tensor
_RULES = {2: "[out, in] -> [out, in, 1, 1]", 5: "[1, O, I, k, k] -> [O, I, k, k]"}


def _fit(value: torch.Tensor, shape: torch.Size) -> torch.Tensor | None:
    """``value`` in ``shape`` if it is the same tensor laid out differently, else None:
    [out, in] -> [out, in, 1, 1] (linear -> 1x1 conv) or [1, O, I, k, k] -> [O, I, k, k]
    (rosinality's modulated weights)."""
    if value.shape == shape:
        return value
    if value.ndim == 2 and tuple(shape) == (*value.shape, 1, 1):
        return value.reshape(shape)
    if value.ndim == 5 and value.shape[0] == 1 and value.shape[1:] == shape:
        return value.reshape(shape)
    return None


def copy_state(source: dict[str, torch.Tensor], target: nn.Module, source_name: str,
               fresh_prefixes: tuple[str, ...] = ()) -> TransferReport:
    """Copy ``source`` into ``target`` by name, reshaping where :func:`_fit` allows.

    Every target key must be in ``source`` unless it starts with one of ``fresh_prefixes``
    (then it keeps its initial value), and every source key must land somewhere; otherwise a
    :class:`TransferError` names the first mismatching key and both shapes."""
    state = target.state_dict()
    params = dict(target.named_parameters())
    report = TransferReport(source_name, type(target).__name__)
    kinds = {}
    for key, want in state.items():
        if key not in source:
            if key.startswith(fresh_prefixes):
                report.fresh.append(key)
                kinds[key] = "fresh"
                continue
            raise TransferError(f"{source_name}: no {key!r}, which this {type(target).__name__} "
                                f"needs (shape {list(want.shape)}): another architecture or size?")
        got = _fit(source[key], want.shape)
        if got is None:
            raise TransferError(f"{source_name}: {key!r} has shape {list(source[key].shape)}, "
                                f"but this {type(target).__name__} needs {list(want.shape)} "
                                f"(another size or width?)")
        kinds[key] = "copied" if got.shape == source[key].shape else "reshaped"
        if kinds[key] == "copied":
            report.copied.append(key)
        else:
            report.reshaped.append((key, tuple(source[key].shape), tuple(want.shape)))
        state[key] = got.to(want.dtype)
    unused = [k for k in source if k not in state]
    if unused:
        raise TransferError(f"{source_name}: {unused[0]!r} (shape {list(source[unused[0]].shape)})"
                            f" has no place in this {type(target).__name__}: another architecture?")
    target.load_state_dict(state)
    for key, p in params.items():
        report.numel[kinds[key]] = report.numel.get(kinds[key], 0) + p.numel()
    return report


# -- StyleGAN2 -> SSN --------------------------------------------------------------------------


class Transferred(NamedTuple):
    G: SSNGenerator
    D: Discriminator | None
    report: TransferReport


def ssn_kwargs(G: StyleGAN2Generator, grid: tuple[int, int] = (4, 4), encoder_subdiv: int = 4,
               encoder_units: int = 1) -> dict:
    """The :class:`SSNGenerator` arguments that mirror StyleGAN2 generator ``G``."""
    return dict(resolution=G.resolution, grid=tuple(grid), z_dim=G.z_dim, w_dim=G.w_dim,
                channels=dict(G.channels), n_mlp=len(G.style) - 1, lr_mlp=G.style[1].lr_mul,
                encoder_subdiv=encoder_subdiv, encoder_units=encoder_units)


def stylegan2_to_ssn(G: StyleGAN2Generator, D: Discriminator | None = None,
                     grid: tuple[int, int] = (4, 4), encoder_subdiv: int = 4,
                     encoder_units: int = 1, source: str = "StyleGAN2Generator",
                     seed: int = 0) -> Transferred:
    """An SSN initialised from StyleGAN2 generator ``G`` (paper, section 3.4), ``D`` copied
    (SSNs use StyleGAN2's discriminator unchanged), and the :class:`TransferReport`.

    Mapping MLP -> per-block 1x1 convs, modulations -> 1x1 convs on the w-map, everything else
    by name. The encoder's convolutions are fresh but its gain is 0, so a z grid of equal
    blocks gives StyleGAN2's image exactly (for any ``grid``); training then opens the gain.
    The fresh weights are drawn from ``seed`` (the global random state is left as it was)."""
    if not isinstance(G, StyleGAN2Generator):
        raise TransferError(f"stylegan2_to_ssn needs a StyleGAN2Generator, got "
                            f"{type(G).__name__}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)               # the same fresh encoder on every call
        ssn = SSNGenerator(**ssn_kwargs(G, grid, encoder_subdiv, encoder_units))
    with torch.no_grad():
        ssn.encoder.gain.zero_()              # w-map = nearest split of the w-grid, exactly
    report = copy_state(G.state_dict(), ssn, source, fresh_prefixes=("encoder.",))
    device = G.noises.noise_0.device
    ssn = ssn.to(device).train(G.training).requires_grad_(
        any(p.requires_grad for p in G.parameters()))
    return Transferred(ssn, copy.deepcopy(D) if D is not None else None, report)


# -- rosinality/stylegan2-pytorch --------------------------------------------------------------


def _count(state: dict, pattern: str) -> int:
    return sum(1 for k in state if re.fullmatch(pattern, k))


def _need(state: dict, key: str, what: str) -> torch.Tensor:
    if key not in state:
        raise TransferError(f"not a rosinality {what} state dict: no {key!r} (keys start with "
                            f"{list(state)[:3]})")
    return state[key]


def rosinality_generator_kwargs(state: dict[str, torch.Tensor]) -> dict:
    """:class:`StyleGAN2Generator` arguments read off a rosinality ``Generator`` state dict:
    n_mlp and style_dim from ``style.N.weight``, the size from the number of ``to_rgbs``, the
    width of every resolution from the convolution weights [1, O, I, k, k]."""
    n_mlp = _count(state, r"style\.\d+\.weight")
    first = _need(state, "style.1.weight", "Generator")          # [style_dim, z_dim]
    n_up = _count(state, r"to_rgbs\.\d+\.conv\.weight")
    channels = {4: _need(state, "input.input", "Generator").shape[1]}
    for k in range(n_up):
        channels[2 ** (k + 3)] = _need(state, f"convs.{2 * k}.conv.weight", "Generator").shape[1]
    # lr_mlp is not in the file (a constant of the module): rosinality's default, 0.01
    return dict(resolution=2 ** (n_up + 2), z_dim=first.shape[1], w_dim=first.shape[0],
                channels=channels, n_mlp=n_mlp, lr_mlp=0.01)


def rosinality_discriminator_kwargs(state: dict[str, torch.Tensor]) -> dict:
    """:class:`Discriminator` arguments read off a rosinality ``Discriminator`` state dict:
    ``convs.0`` is fromRGB [C_R, 3, 1, 1], then one ResBlock per halving down to 4x4."""
    n_blocks = _count(state, r"convs\.\d+\.conv1\.0\.weight")
    resolution = 2 ** (n_blocks + 2)
    channels = {resolution: _need(state, "convs.0.0.weight", "Discriminator").shape[0]}
    for j in range(1, n_blocks + 1):
        channels[resolution >> j] = _need(state, f"convs.{j}.conv2.1.weight",
                                          "Discriminator").shape[0]
    return dict(resolution=resolution, channels=channels)


def _expected_channels(kwargs: dict, size: int | None, channel_multiplier: int | None) -> dict:
    """Generator/discriminator arguments for the size and width a caller expects (rosinality's
    channel table), so a file of another size or width fails by key and shape."""
    if size is None and channel_multiplier is None:
        return kwargs
    res = size or kwargs["resolution"]
    return dict(kwargs, resolution=res,
                channels=make_channels(res, channel_max=512,
                                       channel_multiplier=channel_multiplier or 2))


@dataclass
class RosinalityCheckpoint:
    """A rosinality checkpoint as ssnlib models: ``G_ema`` always, ``G``, ``D``, ``latent_avg``
    (the mean w, for truncation) and ``args`` (train.py's options, as a dict) when present."""

    G_ema: StyleGAN2Generator
    G: StyleGAN2Generator | None
    D: Discriminator | None
    latent_avg: torch.Tensor | None
    args: dict | None
    reports: dict[str, TransferReport]


def load_rosinality(path: str | Path, size: int | None = None,
                    channel_multiplier: int | None = None) -> RosinalityCheckpoint:
    """Import a rosinality/stylegan2-pytorch checkpoint (``g_ema``; optionally ``g``, ``d``,
    ``latent_avg``, ``args``) into :class:`StyleGAN2Generator` and :class:`Discriminator`.

    The architecture (size, widths, n_mlp, style_dim) is read off the weights; pass ``size``
    and ``channel_multiplier`` to insist on one (then another size or width is an error naming
    the first mismatching key and both shapes). Never runs pickled code (:func:`safe_load`)."""
    name = str(path)
    ckpt = safe_load(path)
    if not isinstance(ckpt, dict) or "g_ema" not in ckpt:
        keys = list(ckpt)[:6] if isinstance(ckpt, dict) else type(ckpt).__name__
        raise TransferError(f"{name}: not a rosinality checkpoint (no 'g_ema'; found {keys})")
    args = vars(ckpt["args"]) if isinstance(ckpt.get("args"), argparse.Namespace) else None
    g_kwargs = _expected_channels(rosinality_generator_kwargs(ckpt["g_ema"]), size,
                                  channel_multiplier)
    if args and "size" in args and args["size"] != g_kwargs["resolution"]:
        raise TransferError(f"{name}: args.size is {args['size']} but the weights are "
                            f"{g_kwargs['resolution']} px")
    nets, reports = {}, {}
    for key in ("g_ema", "g"):
        if key in ckpt:
            nets[key] = StyleGAN2Generator(**g_kwargs)
            reports[key] = copy_state(ckpt[key], nets[key], f"{name}[{key}]")
            nets[key].eval()
    if "d" in ckpt:
        d_kwargs = _expected_channels(rosinality_discriminator_kwargs(ckpt["d"]), size,
                                      channel_multiplier)
        nets["d"] = Discriminator(**d_kwargs)
        reports["d"] = copy_state(ckpt["d"], nets["d"], f"{name}[d]")
    avg = ckpt.get("latent_avg")
    return RosinalityCheckpoint(nets["g_ema"], nets.get("g"), nets.get("d"),
                                avg if isinstance(avg, torch.Tensor) else None, args, reports)


# -- the file `ssn transfer` writes and `model.init` reads -------------------------------------


def init_state(G: nn.Module, D: nn.Module | None, g_kwargs: dict, report: TransferReport,
               source: str) -> dict:
    """A starting point for training, as plain containers (``weights_only`` safe): the
    generator (``arch``, constructor ``kwargs``, weights), the discriminator or None, and the
    transfer report as text."""
    kwargs = {k: (list(v) if isinstance(v, tuple) else v) for k, v in g_kwargs.items()}
    return {"format": INIT_FORMAT, "arch": G.arch, "kwargs": kwargs, "source": source,
            "report": str(report), "G": G.state_dict(),
            "D": D.state_dict() if D is not None else None}


# what a start may lack: a global latent (at its default gain 0, G draws the start's images)
GROWN_PREFIXES = ("global_latent.",)


def load_init(path: str | Path, G: nn.Module, D: nn.Module) -> str:
    """Start ``G`` (and ``D``, when the file has one) from an :func:`init_state` file, e.g. the
    output of ``ssn transfer``. Returns a one-line summary; a generator or discriminator of
    another architecture, size or width is a :class:`TransferError` naming the first
    mismatching key and both shapes. A ``G`` with a global latent may start from a file
    without one (:data:`GROWN_PREFIXES`): u is fresh, and a gain starting at 0 (the default)
    keeps the start's images.
    """
    state = safe_load(path)
    fmt = state.get("format") if isinstance(state, dict) else None
    if fmt != INIT_FORMAT:
        raise TransferError(f"{path}: not a starting point written by `ssn transfer` "
                            f"(format {fmt!r}, expected {INIT_FORMAT!r})")
    if state["arch"] != G.arch:
        raise TransferError(f"{path}: holds a {state['arch']} generator, this run trains "
                            f"{G.arch} (model.arch)")
    report = copy_state(state["G"], G, f"{path}[G]", fresh_prefixes=GROWN_PREFIXES)
    grown = (f"; the global latent u fresh (gain {G.global_latent.gain.item():g})"
             if report.fresh else "")
    if state["D"] is None:
        return f"G from {path} ({state['source']}){grown}; D fresh (the source has none)"
    copy_state(state["D"], D, f"{path}[D]")
    return f"G and D from {path} ({state['source']}){grown}"

