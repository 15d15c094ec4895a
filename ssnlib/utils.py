"""Small helpers every module and chapter needs: device choice, seeding, argument and shape
checks, image conversion and grids, the environment and git state for manifests."""

from __future__ import annotations

import os
import platform
import random
import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from ssnlib.errors import InputError

DEVICE_ENV = "SSN_DEVICE"
PROFILE_ENV = "SSN_PROFILE"
PROFILES = ("quick", "full")


def get_device(prefer: str | None = None) -> torch.device:
    """The device to compute on: CUDA, then Apple MPS, then CPU.

    ``prefer`` (or the ``SSN_DEVICE`` environment variable, e.g. ``SSN_DEVICE=cpu``)
    forces a choice; asking for a device that is not available is an error
    rather than a silent fall-back, so a run never lands on the wrong machine.
    """
    name = prefer or os.environ.get(DEVICE_ENV, "").strip()
    if name:
        asked = f"device {name!r}" if prefer else f"{DEVICE_ENV}={name!r}"
        try:
            device = torch.device(name)
        except RuntimeError:
            raise InputError(f"{asked} is not a torch device; use e.g. cpu, cuda, cuda:1 or "
                             f"mps") from None
        if device.type == "cuda" and not torch.cuda.is_available():
            raise InputError(f"{asked} asks for CUDA, but torch sees no CUDA device")
        if device.type == "mps" and not torch.backends.mps.is_available():
            raise InputError(f"{asked} asks for MPS, which is not available")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def get_profile() -> str:
    """The chapter profile: ``quick`` (default; CPU, shipped models, fixed seeds,
    outputs compared by nbval) or ``full`` (``SSN_PROFILE=full``: GPU training and
    larger evaluations, outputs not compared)."""
    profile = os.environ.get(PROFILE_ENV, "quick").strip() or "quick"
    if profile not in PROFILES:
        raise ValueError(f"{PROFILE_ENV}={profile!r}; expected one of {PROFILES}")
    return profile


def chapter_device() -> torch.device:
    """Where a chapter computes: always the CPU in the ``quick`` profile (so that
    ``pytest --nbval`` sees the same numbers on a laptop and on a GPU box), the
    best available device (:func:`get_device`) in the ``full`` profile."""
    return torch.device("cpu") if get_profile() == "quick" else get_device()


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch (all devices) and return a CPU
    ``torch.Generator`` seeded the same, for code that takes one explicitly."""
    if not 0 <= seed < 2**63:
        raise ValueError(f"seed must be a non-negative 63-bit integer, got {seed}")
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 -- seeds third-party code using the legacy API
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def check_positive(**values: int) -> None:
    """Each keyword must be a positive integer (``bool`` is not), else a ValueError naming it:
    ``check_positive(batch=batch, n_mlp=n_mlp)``."""
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


def assert_shape(name: str, x: torch.Tensor, shape: Sequence[int | None]) -> None:
    """``x`` must have ``len(shape)`` dimensions matching ``shape`` where it is not None, else a
    ValueError naming ``name`` and both shapes (after stylegan2-ada's ``misc.assert_shape``)."""
    if x.ndim != len(shape) or any(s is not None and s != n for s, n in zip(shape, x.shape,
                                                                            strict=False)):
        want = ", ".join("*" if s is None else str(s) for s in shape)
        raise ValueError(f"{name} must have shape [{want}], got {list(x.shape)}")


def rounding(x: float, bound: float) -> str:
    """Print a difference that should be floating-point rounding: ``"< 1e-05"`` when ``|x|``
    is below ``bound``, else ``x`` itself (``"3.2e-02"``). Rounding's own digits differ
    between CPUs' kernels and thread counts; the bound does not, and a real error still
    shows, so a chapter's stored output passes on any machine and fails on a wrong one."""
    x = abs(float(x))
    return f"< {bound:.0e}" if x < bound else f"{x:.1e}"


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """One image [3, H, W] in [-1, 1] -> uint8 array [H, W, 3] (rounded to the nearest level,
    so the procedural data's own levels ``u8 / 127.5 - 1`` map back exactly)."""
    assert_shape("image", image, [3, None, None])
    x = ((image.detach().float().cpu() + 1) * 127.5).round().clamp(0, 255)
    return x.to(torch.uint8).permute(1, 2, 0).numpy()


def image_grid(images: torch.Tensor, nrow: int = 8, padding: int = 2,
               value_range: tuple[float, float] = (-1.0, 1.0),
               pad_value: float = 1.0) -> np.ndarray:
    """Tile a batch ``[B, C, H, W]`` (C = 1 or 3) into one ``uint8`` array ``[H', W', 3]``.

    Images are mapped from ``value_range`` to [0, 255] and clipped; ``pad_value``
    (in [0, 1]) colours the gaps. ``nrow`` is the number of images per row.
    """
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(f"image_grid expects [B, 1|3, H, W], got shape {tuple(images.shape)}")
    if nrow < 1 or padding < 0:
        raise ValueError(f"nrow must be >= 1 and padding >= 0, got nrow={nrow}, padding={padding}")
    lo, hi = value_range
    x = images.detach().float().cpu()
    x = ((x - lo) / (hi - lo)).clamp(0, 1)
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    b, _, h, w = x.shape
    ncol = min(nrow, b)
    nrows = -(-b // ncol)
    grid = torch.full((3, nrows * (h + padding) + padding, ncol * (w + padding) + padding),
                      float(pad_value))
    for i in range(b):
        r, c = divmod(i, ncol)
        top, left = padding + r * (h + padding), padding + c * (w + padding)
        grid[:, top:top + h, left:left + w] = x[i]
    return (grid.permute(1, 2, 0) * 255 + 0.5).to(torch.uint8).numpy()


def environment_report() -> dict[str, str]:
    """Versions and device, as a dict of short strings (printed by ``ssn info``)."""
    device = get_device()
    report = {
        "python": platform.python_version(),
        "torch": torch.__version__.split("+")[0],
        "numpy": np.__version__,
        "device": device.type,
        "profile": get_profile(),
    }
    if device.type == "cuda":
        report["gpu"] = torch.cuda.get_device_name(device)
    return report


# CPU flags (Linux /proc/cpuinfo) that mean bf16 matmuls run in hardware: x86 AVX512-BF16 or
# AMX, Arm's BF16 extension. Without them autocast emulates bf16 in software.
BF16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16", "bf16"})


def cpu_has_native_bf16(cpuinfo: str | Path = "/proc/cpuinfo") -> bool | None:
    """Whether this CPU computes bf16 in hardware, from its flags in ``cpuinfo``; None where
    they cannot be read (not Linux)."""
    try:
        text = Path(cpuinfo).read_text()
    except OSError:
        return None
    flags = {flag for line in text.splitlines()
             if line.split(":", 1)[0].strip() in ("flags", "Features")
             for flag in line.split(":", 1)[-1].split()}
    return bool(flags & BF16_CPU_FLAGS) if flags else None


def git_state(*paths: str | Path) -> dict:
    """The repository's commit and the uncommitted changes under ``paths`` (``git status
    --porcelain`` lines; all of the tree if none), for manifests; "unknown" outside a checkout.
    ``SSN_COMMIT`` overrides both, for a copy of a checkout whose own git folder is not the
    tree that runs (the GPU device tool's)."""
    if os.environ.get("SSN_COMMIT"):
        return {"commit": os.environ["SSN_COMMIT"],
                "dirty": "not checked (SSN_COMMIT: a copy of this commit's checkout)"}
    root = Path(__file__).resolve().parents[1]

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], capture_output=True, text=True, cwd=root,
                                  check=True).stdout.rstrip()
        except (OSError, subprocess.CalledProcessError):
            return "unknown"

    dirty = git("status", "--porcelain", "--", *map(str, paths))
    return {"commit": git("rev-parse", "HEAD").strip(),
            "dirty": dirty.splitlines() if dirty != "unknown" else dirty}
