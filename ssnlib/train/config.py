"""Training configuration: nested dataclasses, loaded from YAML with ``key=value`` overrides.

A config file (``configs/*.yaml``) mirrors :class:`TrainConfig`: top-level keys plus the sections
``model``, ``data``, ``optim``, ``reg`` and ``ema``. Command-line overrides use dotted keys and
are parsed by the type of the field they set (``reg.r1_gamma=10``, ``data.path=/data/ffhq``,
``optim.betas=[0,0.99]``, ``model.overrides.grid=[8,8]``). An unknown key, a value of the wrong
type or a model that cannot be built at the data resolution raises :class:`ConfigError` naming
the key.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ssnlib.data import DATASETS
from ssnlib.errors import InputError
from ssnlib.layers import SIGMA_MODES
from ssnlib.losses import DISTORTION_MODES

PRECISIONS = ("auto", "bf16", "fp32")


class ConfigError(InputError):
    """A bad training configuration (unknown key, bad value, inconsistent settings)."""


@dataclass
class ModelConfig:
    """Which networks: ``ssnlib.models.build_generator(arch, config, resolution=..., **overrides)``
    and ``build_discriminator(config, resolution=..., **d_overrides)``."""

    arch: str = "ssn"                      # ssn | stylegan2 | spade
    config: str = "tiny"                   # a name in ssnlib.models.CONFIGS
    overrides: dict = field(default_factory=dict)    # generator constructor arguments
    d_overrides: dict = field(default_factory=dict)  # discriminator constructor arguments
    init: str = ""                         # "": fresh weights; else a file from `ssn transfer`
    sigma_mode: str = "exact"              # exact | fast: sigma_E of eq. 1 (ssn only)


@dataclass
class DataConfig:
    """Training images: a procedural dataset by name, or an image folder / packed archive."""

    name: str = "faces"        # faces | skylines (procedural); "" = data.path is required
    path: str = ""             # an image folder or a packed archive (ssn prepare-data)
    resolution: int = 32       # images and generator output are resolution x resolution
    length: int = 50_000       # images in a procedural dataset
    seed: int = 0              # procedural dataset seed (image i depends on (seed, i) only)
    mirror: bool = False       # random left-right flips
    workers: int = 0           # DataLoader worker processes


@dataclass
class OptimConfig:
    """Adam for G and D (StyleGAN2: lr 0.002, betas (0, 0.99)), before lazy-reg. rescaling."""

    g_lr: float = 0.002
    d_lr: float = 0.002
    betas: tuple[float, float] = (0.0, 0.99)


@dataclass
class RegConfig:
    """Regularisers and their lazy intervals (every k steps, weighted by k)."""

    r1_gamma: float = 1.0           # R1 weight gamma (paper: 1)
    r1_interval: int = 16
    pl_weight: float = 2.0          # path length weight (paper: 2); 0 turns it off
    pl_interval: int = 4
    pl_batch_shrink: int = 2        # path length on batch / shrink samples
    pl_decay: float = 0.01
    distortion_weight: float | None = None  # lambda_D of eq. 2; 0 turns it off; None: the
    #                                 paper's 100 for a spatial generator, 0 for stylegan2
    distortion_mode: str = "outside"   # outside | radial | share | radial_share (losses)
    distortion_interval: int = 4
    distortion_batch_shrink: int = 2
    distortion_resamples: int = 1   # resampled blocks a per sample z; 4 took lambda_D 100's
    #                                 FID price from 2.16x to 1.21x at the same cut on daytime
    #                                 skylines (data/studies/skylines32-day), not on faces
    #                                 (1.40x vs 1.26x, faces32-ssn-path-length); 1/5 fewer img/s
    style_mixing: float | None = None  # None: 0.9 for stylegan2, 0 for spatial generators


@dataclass
class EMAConfig:
    """Exponential moving average of G: half-life ``kimg`` thousand images, ramped up over the
    first images as ``min(kimg, rampup * kimg_seen)`` (stylegan2-ada); rampup None: no ramp."""

    kimg: float = 10.0
    rampup: float | None = 0.05


@dataclass
class TrainConfig:
    """Everything a training run needs; saved in every checkpoint."""

    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    reg: RegConfig = field(default_factory=RegConfig)
    ema: EMAConfig = field(default_factory=EMAConfig)
    batch: int = 32                # global batch, split evenly over the processes
    steps: int = 0                 # training steps; 0: derived from kimg
    kimg: float = 1000.0           # thousands of real images shown (used when steps == 0)
    log_every: int = 50
    sample_every: int = 500
    ckpt_every: int = 1000
    keep_ckpts: int = 3            # most recent checkpoints kept (0: keep all)
    time_limit: float = 0.0        # minutes of training, then sample and save (0: no limit)
    n_samples: int = 16            # images in the fixed-z sample grids
    seed: int = 0
    run_dir: str = "runs/default"
    resume: str = ""               # "" (fresh run), "auto" (latest in run_dir) or a path
    device: str = ""               # "" picks cuda > mps > cpu (ssnlib.utils.get_device)
    precision: str = "auto"        # auto: bf16 autocast on CUDA, fp32 elsewhere
    channels_last: bool = True
    progress: bool = True          # tqdm progress bar
    tensorboard: bool = True

    @property
    def total_steps(self) -> int:
        if self.steps > 0:
            return self.steps
        return math.ceil(self.kimg * 1000 / self.batch)

    def to_dict(self) -> dict:
        """Plain nested dicts and lists (YAML, JSON and ``torch.load(weights_only=True)`` safe)."""
        return _plain(dataclasses.asdict(self))

    def validate(self) -> TrainConfig:
        """Check values and their consistency; returns self, raises :class:`ConfigError`."""
        if self.reg.distortion_weight is None:        # the default depends on the generator
            self.reg.distortion_weight = 0.0 if self.model.arch == "stylegan2" else 100.0
        for key in ("batch", "log_every", "sample_every", "ckpt_every", "n_samples",
                    "reg.r1_interval", "reg.pl_interval", "reg.pl_batch_shrink",
                    "reg.distortion_interval", "reg.distortion_batch_shrink",
                    "reg.distortion_resamples"):
            if _get(self, key) < 1:
                raise ConfigError(f"{key} must be >= 1, got {_get(self, key)}")
        for key in ("steps", "kimg", "keep_ckpts", "time_limit", "seed", "data.workers",
                    "reg.r1_gamma", "reg.pl_weight", "reg.distortion_weight", "ema.kimg"):
            if _get(self, key) < 0:
                raise ConfigError(f"{key} must be >= 0, got {_get(self, key)}")
        if self.total_steps < 1:
            raise ConfigError("set steps=N or kimg=K (> 0): the run length")
        if self.precision not in PRECISIONS:
            raise ConfigError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.reg.distortion_mode not in DISTORTION_MODES:
            raise ConfigError(f"reg.distortion_mode must be one of {DISTORTION_MODES}, "
                              f"got {self.reg.distortion_mode!r}")
        if self.reg.style_mixing is not None and not 0 <= self.reg.style_mixing <= 1:
            raise ConfigError(f"reg.style_mixing must be in [0, 1], got {self.reg.style_mixing}")
        if not self.data.path and not self.data.name:
            raise ConfigError("this config trains on your images: set data.path=... (an image "
                              "folder or zip, or an `ssn prepare-data` archive)")
        if self.data.path:
            self.data.name = ""           # the images come from the path; no dataset name
        if not self.data.path and self.data.name not in procedural_names():
            raise ConfigError(f"data.name must be one of {procedural_names()} (or set data.path "
                              f"to an image folder or archive), got {self.data.name!r}")
        self._validate_model()
        return self

    def _validate_model(self) -> None:
        from ssnlib.models import CONFIGS, GENERATORS, Discriminator, generator_kwargs
        from ssnlib.models.common import check_resolution

        m = self.model
        if m.arch not in GENERATORS:
            raise ConfigError(f"model.arch must be one of {sorted(GENERATORS)}, got {m.arch!r}")
        if m.config not in CONFIGS:
            raise ConfigError(f"model.config must be one of {sorted(CONFIGS)}, "
                              f"got {m.config!r}")
        if m.sigma_mode not in SIGMA_MODES:
            raise ConfigError(f"model.sigma_mode must be one of {SIGMA_MODES}, "
                              f"got {m.sigma_mode!r}")
        if m.sigma_mode != "exact" and m.arch != "ssn":
            raise ConfigError(f"model.sigma_mode={m.sigma_mode!r} applies to the ssn generator "
                              f"only; model.arch={m.arch!r} has no sigma_E")
        res = self.data.resolution
        try:
            check_resolution(res)
        except ValueError as err:
            raise ConfigError(f"data.resolution: {err}") from None
        if "resolution" in m.overrides or "resolution" in m.d_overrides:
            raise ConfigError("set the resolution with data.resolution, not model.*.resolution")
        _check_arguments("model.overrides", GENERATORS[m.arch], m.overrides)
        _check_arguments("model.d_overrides", Discriminator, m.d_overrides)
        spatial = GENERATORS[m.arch].spatial
        if spatial:
            grid = generator_kwargs(m.arch, m.config, **m.overrides).get("grid", (4, 4))
            n_h, n_w = grid
            if res % n_h or res % n_w:
                raise ConfigError(
                    f"the {n_h}x{n_w} latent grid (model.overrides.grid) does not divide "
                    f"data.resolution={res}: every block must be a whole number of pixels")
        elif self.reg.distortion_weight > 0:
            raise ConfigError(f"reg.distortion_weight > 0 needs a spatial generator (ssn or "
                              f"spade); model.arch={m.arch!r} has no latent grid")
        if spatial and self.reg.style_mixing:
            raise ConfigError(f"reg.style_mixing needs per-layer w (stylegan2); the "
                              f"{m.arch} generator takes one w-grid for all layers")


def _check_arguments(key: str, cls: type, overrides: dict) -> None:
    """Every override must be an argument of ``cls``'s constructor."""
    import inspect

    known = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    for name in overrides:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {key}.{close[0]}?" if close else ""
            raise ConfigError(f"{key}.{name}: not an argument of {cls.__name__} (its "
                              f"arguments: {', '.join(known)}){hint}")


def procedural_names() -> tuple[str, ...]:
    return tuple(DATASETS)


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _get(obj, dotted: str):
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def _hints(cls) -> dict[str, typing.Any]:
    return typing.get_type_hints(cls)


def _unknown(key: str, known: typing.Iterable[str]) -> ConfigError:
    known = sorted(known)
    close = difflib.get_close_matches(key.rsplit(".", 1)[-1], known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return ConfigError(f"unknown config key {key!r}{hint} (known here: {', '.join(known)})")


_TRUE, _FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}


def _coerce(key: str, tp, value):
    """``value`` (from YAML or a command-line string) as type ``tp``, or a ConfigError."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null")):
            if type(None) in args:
                return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(key, inner[0], value)
    try:
        if tp is bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
                return value.lower() in _TRUE
            raise ValueError
        if tp is int:
            if isinstance(value, bool):
                raise ValueError
            if isinstance(value, float) and value.is_integer():
                return int(value)
            return int(value) if isinstance(value, int) else int(str(value).replace("_", ""))
        if tp is float:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if tp is str:
            return str(value)
        if origin is tuple:
            if isinstance(value, str):
                value = yaml.safe_load(value)
            if not isinstance(value, list | tuple) or len(value) != len(args):
                raise ValueError
            return tuple(_coerce(key, a, v) for a, v in zip(args, value, strict=True))
        if tp is dict or origin is dict:
            if isinstance(value, str):
                value = yaml.safe_load(value)
            if not isinstance(value, dict):
                raise ValueError
            return dict(value)
    except (TypeError, ValueError, yaml.YAMLError):
        pass
    name = getattr(tp, "__name__", str(tp))
    raise ConfigError(f"config key {key!r} expects {name}, got {value!r}")


def _from_dict(cls, data: dict, prefix: str = ""):
    if not isinstance(data, dict):
        raise ConfigError(f"config section {prefix.rstrip('.') or 'top level'!r} must be a "
                          f"mapping, got {data!r}")
    hints = _hints(cls)
    kwargs = {}
    for key, value in data.items():
        if key not in hints:
            raise _unknown(prefix + str(key), hints)
        tp = hints[key]
        if dataclasses.is_dataclass(tp):
            kwargs[key] = _from_dict(tp, value or {}, f"{prefix}{key}.")
        else:
            kwargs[key] = _coerce(prefix + key, tp, value)
    return cls(**kwargs)


def apply_override(config: TrainConfig, assignment: str) -> None:
    """Apply one ``dotted.key=value`` in place (``model.overrides.KEY`` sets a model argument,
    its value parsed as YAML)."""
    key, sep, raw = assignment.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"override {assignment!r} is not of the form key=value")
    parts = key.split(".")
    obj, path = config, []
    for i, part in enumerate(parts):
        path.append(part)
        hints = _hints(type(obj))
        if part not in hints:
            raise _unknown(".".join(path), hints)
        tp = hints[part]
        last = i == len(parts) - 1
        if dataclasses.is_dataclass(tp):
            if last:
                raise ConfigError(f"{key!r} is a section; set one of its keys ({key}.KEY=...)")
            obj = getattr(obj, part)
        elif tp is dict and not last:
            target = getattr(obj, part)
            target[".".join(parts[i + 1:])] = yaml.safe_load(raw)
            return
        elif last:
            setattr(obj, part, _coerce(key, tp, raw))
        else:
            raise _unknown(key, hints)


CONFIGS_DIR = Path(__file__).resolve().parents[2] / "configs"


def config_path(name: str | Path) -> Path:
    """A config file: ``name`` itself, or a shipped config by name (``faces64`` or
    ``zoo/faces32`` for ``configs/faces64.yaml``, ``configs/zoo/faces32.yaml``)."""
    path = Path(name)
    if path.is_file():
        return path
    shipped = CONFIGS_DIR / (str(name) if path.suffix == ".yaml" else f"{name}.yaml")
    if shipped.is_file():
        return shipped
    known = sorted(str(p.relative_to(CONFIGS_DIR).with_suffix("")) for p in
                   CONFIGS_DIR.rglob("*.yaml")) if CONFIGS_DIR.is_dir() else []
    raise ConfigError(f"config file {str(name)!r} not found (shipped configs: "
                      f"{', '.join(known) or 'none'})")


def describe_keys() -> list[str]:
    """Every config key with its type and default, one line each (for ``ssn train --help``)."""
    lines = []

    def walk(obj, prefix: str) -> None:
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if dataclasses.is_dataclass(value):
                walk(value, f"{prefix}{f.name}.")
            else:
                kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
                lines.append(f"{prefix}{f.name} = {value!r}  ({kind})")
    walk(TrainConfig(), "")
    return lines


def load_config(path: str | Path | None = None, overrides: typing.Iterable[str] = ()
                ) -> TrainConfig:
    """A validated :class:`TrainConfig` from a YAML file (or the defaults) and overrides."""
    data = {}
    if path is not None:
        path = config_path(path)
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
            raise ConfigError(f"{path}: not valid YAML{where}: "
                              f"{getattr(err, 'problem', None) or err}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: a config is a mapping of keys (model:, data:, ...), "
                              f"got a {type(data).__name__}")
    config = from_dict(data)
    for assignment in overrides:
        apply_override(config, assignment)
    return config.validate()


def from_dict(data: dict) -> TrainConfig:
    """A :class:`TrainConfig` from nested dicts (a YAML file, a checkpoint's ``config``)."""
    return _from_dict(TrainConfig, data)
