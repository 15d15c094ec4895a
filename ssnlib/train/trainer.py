"""The GAN training loop (StyleGAN2's recipe, paper section 3.2, plus the distortion regulariser
of section 3.3, eq. 2).

One step, on a global batch of B images split over the processes:

1. D main: logistic loss on reals and on G's fakes (G frozen);
2. D reg, every ``r1_interval`` steps: R1 * gamma * interval;
3. G main: non-saturating loss through a frozen D;
4. G reg, when either is due: path length * weight * interval on B / pl_batch_shrink latents
   and distortion R_D * lambda_D * interval on B / distortion_batch_shrink latents, as one
   optimiser step;
5. G_ema update.

Lazy regularisation (StyleGAN2, appendix B) runs a regulariser every k steps with weight x k
and rescales Adam's lr and betas by ``c = steps / (steps + regularisation steps)``, ``k/(k+1)``
for one regulariser. All randomness (latents, noise, flips, path length directions, resampled
blocks) comes from one ``torch.Generator`` drawn *for the global batch* on every process and then
sliced, so a run is reproducible bit for bit, resumes exactly, and gives the same updates on any
number of processes (up to float summation order).
"""

from __future__ import annotations

import copy
import math
import shutil
import time
import warnings
from pathlib import Path

import torch

from ssnlib.errors import CheckpointError, SSNError
from ssnlib.losses import (
    d_logistic_loss,
    distortion_penalty,
    g_nonsaturating_loss,
    path_length_penalty,
    path_lengths,
    r1_penalty,
    sample_blocks,
    update_mean_path_length,
)
from ssnlib.safeload import load_state
from ssnlib.train.checkpoint import (
    checkpoint_name,
    latest_checkpoint,
    load_checkpoint,
    newest_loadable,
    prune_checkpoints,
    resolve_checkpoint,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from ssnlib.train.config import ConfigError, TrainConfig, apply_override, from_dict, load_config
from ssnlib.train.data import make_dataset, make_loader
from ssnlib.train.distributed import (
    average,
    average_gradients,
    broadcast_module,
    init_distributed,
)
from ssnlib.train.ema import ema_beta, update_ema
from ssnlib.train.lock import lock_run_dir, unlock_run_dir
from ssnlib.train.monitor import Monitor
from ssnlib.transfer import TransferError, load_init
from ssnlib.utils import cpu_has_native_bf16, seed_everything

CKPT_FORMAT = "ssnlib-train-1"
# a checkpoint continues a run only under the same model, data, batch and seed
RESUME_KEYS = ("model", "data", "batch", "seed")


class NonFiniteLossError(SSNError, RuntimeError):
    """A loss or a weight became NaN or infinite; training stopped without saving."""


def lazy_ratio(intervals: list[int]) -> float:
    """Adam rescaling ``c`` for regularisers run every ``k`` steps in one extra optimiser step:
    main steps / all steps over one period (``k / (k + 1)`` for a single regulariser)."""
    if not intervals:
        return 1.0
    period = math.lcm(*intervals)
    extra = sum(any(t % k == 0 for k in intervals) for t in range(period))
    return period / (period + extra)


def build_models(cfg: TrainConfig) -> tuple[torch.nn.Module, torch.nn.Module]:
    """The generator and discriminator a config describes (fresh weights)."""
    from ssnlib.models import build_discriminator, build_generator

    m, res = cfg.model, cfg.data.resolution
    sigma = {"sigma_mode": m.sigma_mode} if m.arch == "ssn" else {}
    G = build_generator(m.arch, m.config, resolution=res, **{**sigma, **m.overrides})
    D = build_discriminator(m.config, resolution=res, **m.d_overrides)
    return G, D


def init_models(path: str, G: torch.nn.Module, D: torch.nn.Module) -> str:
    """Start G and D from ``model.init``, e.g. a StyleGAN2 transferred by ``ssn transfer``
    (section 3.4); a file that does not fit the config is a ConfigError naming the key."""
    try:
        return load_init(path, G, D)
    except TransferError as err:
        raise ConfigError(f"model.init: {err}") from None


class Trainer:
    """Trains G and D as a :class:`TrainConfig` says; ``run()`` continues to the end.

    ``dataset`` replaces the config's data (any dataset of float images [3, R, R] in [-1, 1]).
    Attributes: ``G``, ``D``, ``G_ema``, ``step``, ``images_seen``, ``history`` (logged stats).
    """

    def __init__(self, config: TrainConfig, dataset=None):
        cfg = self.cfg = config.validate()
        self.dist = init_distributed(cfg.device)
        self.device, world = self.dist.device, self.dist.world
        reg = cfg.reg
        for name, n in (("batch", cfg.batch), ("batch / reg.pl_batch_shrink",
                                                cfg.batch // reg.pl_batch_shrink),
                        ("batch / reg.distortion_batch_shrink",
                         cfg.batch // reg.distortion_batch_shrink)):
            if n < world or n % world:
                raise ConfigError(f"{name} = {n} must be a positive multiple of the "
                                  f"{world} processes")
        seed_everything(cfg.seed)                       # identical initial weights everywhere
        self.G, self.D = build_models(cfg)
        self.init_note = init_models(cfg.model.init, self.G, self.D) if cfg.model.init else ""
        self.memory_format = (torch.channels_last if cfg.channels_last
                              else torch.contiguous_format)
        for net in (self.G, self.D):
            net.to(self.device, memory_format=self.memory_format)
            broadcast_module(net, world)
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False)
        cuda = self.device.type == "cuda"
        use_bf16 = cfg.precision == "bf16" or (cfg.precision == "auto" and cuda)
        self.amp_dtype = torch.bfloat16 if use_bf16 else None
        if use_bf16 and self.device.type == "cpu" and cpu_has_native_bf16() is False:
            warnings.warn("precision=bf16 on a CPU without native bf16 (no avx512_bf16 or "
                          "amx_bf16 flag): autocast emulates it, about ten times slower than "
                          "fp32 (bench/cpu_zoo.py); use precision=fp32 here", stacklevel=2)
        if cuda:
            torch.backends.cudnn.benchmark = True
            torch.set_float32_matmul_precision("high")
        fused = True if cuda else None                  # one kernel per step on CUDA
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=cfg.optim.g_lr, fused=fused)
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=cfg.optim.d_lr, fused=fused)
        self._set_hyperparameters()
        self.mixing = reg.style_mixing if reg.style_mixing is not None else (
            0.0 if self.G.spatial else 0.9)
        self.gen = torch.Generator(self.device).manual_seed(cfg.seed + 1)
        fixed = torch.Generator().manual_seed(cfg.seed)
        self.fixed_z = self.G.sample_z(cfg.n_samples, fixed, device=self.device)
        self.fixed_noise = self.G.make_noise(cfg.n_samples, fixed, device=self.device)
        self.step, self.images_seen = 0, 0
        self.pl_mean = torch.zeros((), device=self.device)
        self._first_bad = torch.full((), -1, device=self.device)
        self.dataset = dataset if dataset is not None else make_dataset(cfg.data)
        self.run_dir = Path(cfg.run_dir)
        self.monitor: Monitor | None = None
        self.history: list[dict] = []                   # every logged record, for notebooks
        self._batches = None
        self.last_checkpoint = None
        self.resume_notes: list[str] = []
        created = not self.run_dir.exists()
        self._lock = lock_run_dir(self.run_dir) if self.dist.main else None
        self._made_run_dir = created and self._lock is not None
        try:
            if cfg.resume:
                self.resume(*self._resume_source())
        except BaseException:
            self.close()
            raise

    # -- set-up ---------------------------------------------------------------------------

    def _set_hyperparameters(self) -> None:
        """lr and betas from the config, rescaled for lazy regularisation."""
        cfg, reg = self.cfg, self.cfg.reg
        g_int = [k for k, on in ((reg.pl_interval, reg.pl_weight > 0),
                                 (reg.distortion_interval, reg.distortion_weight > 0)) if on]
        d_int = [reg.r1_interval] if reg.r1_gamma > 0 else []
        b1, b2 = cfg.optim.betas
        for opt, lr, intervals in ((self.opt_G, cfg.optim.g_lr, g_int),
                                   (self.opt_D, cfg.optim.d_lr, d_int)):
            c = lazy_ratio(intervals)
            for group in opt.param_groups:
                group["lr"], group["betas"] = lr * c, (b1 ** c, b2 ** c)

    def _local(self, t: torch.Tensor, n: int) -> torch.Tensor:
        """This process's rows of a tensor drawn for a global batch of ``n``."""
        per = n // self.dist.world
        return t[self.dist.rank * per:(self.dist.rank + 1) * per]

    def _autocast(self):
        return torch.autocast(self.device.type, dtype=self.amp_dtype or torch.float32,
                              enabled=self.amp_dtype is not None)

    # -- one step -------------------------------------------------------------------------

    def _latents(self, n: int) -> tuple[torch.Tensor, list[torch.Tensor]]:
        z = self.G.sample_z(n, self.gen, device=self.device)
        noise = self.G.make_noise(n, self.gen, device=self.device)
        return self._local(z, n), [self._local(t, n) for t in noise]

    def _generate(self, n: int) -> torch.Tensor:
        """Local fakes of a global batch of ``n``, with style mixing where configured."""
        z, noise = self._latents(n)
        if not self.mixing:
            return self.G(z, noise=noise)
        G, k = self.G, self.G.n_latent
        z2 = self._local(G.sample_z(n, self.gen, device=self.device), n)
        mix = self._local(torch.rand(n, generator=self.gen, device=self.device), n) < self.mixing
        cut = self._local(torch.randint(1, k, (n,), generator=self.gen, device=self.device), n)
        cut = torch.where(mix, cut, torch.full_like(cut, k))
        first = torch.arange(k, device=self.device)[None, :, None] < cut[:, None, None]
        w = torch.where(first, G.mapping(z)[:, None], G.mapping(z2)[:, None])
        return G.synthesis(w, noise)

    def _optimise(self, opt: torch.optim.Optimizer, net: torch.nn.Module,
                  loss: torch.Tensor) -> None:
        opt.zero_grad(set_to_none=True)
        loss.backward()
        average_gradients(net.parameters(), self.dist.world)
        opt.step()

    def train_step(self, real: torch.Tensor) -> dict[str, torch.Tensor]:
        """One full step on this process's real images; returns the losses (tensors)."""
        stats: dict[str, torch.Tensor] = {}
        self._d_step(real, stats)
        self._g_step(stats)
        update_ema(self.G_ema, self.G,
                   ema_beta(self.cfg.batch, self.cfg.ema.kimg, self.cfg.ema.rampup,
                            self.images_seen))
        return stats

    def _d_step(self, real: torch.Tensor, stats: dict) -> None:
        """D's logistic loss on real and generated images, then R1 when due (lazy)."""
        cfg, reg, B = self.cfg, self.cfg.reg, self.cfg.batch
        real = real.to(self.device, non_blocking=True).contiguous(
            memory_format=self.memory_format)
        if cfg.data.mirror:
            flip = self._local(torch.rand(B, generator=self.gen, device=self.device), B) < 0.5
            real = torch.where(flip[:, None, None, None], real.flip(3), real)
        self.G.requires_grad_(False)
        self.D.requires_grad_(True)
        with torch.no_grad(), self._autocast():
            fake = self._generate(B)
        with self._autocast():
            loss = d_logistic_loss(self.D(real), self.D(fake))
        self._optimise(self.opt_D, self.D, loss)
        stats["loss/D"] = loss.detach()
        if reg.r1_gamma > 0 and self.step % reg.r1_interval == 0:
            r1 = r1_penalty(self.D, real, reg.r1_gamma)       # fp32: lazy, double backward
            self._optimise(self.opt_D, self.D, r1 * reg.r1_interval)
            stats["loss/R1"] = r1.detach()

    def _g_step(self, stats: dict) -> None:
        """G's non-saturating loss, then path length and distortion when due (lazy, each
        weighted by its interval)."""
        reg = self.cfg.reg
        self.G.requires_grad_(True)
        self.D.requires_grad_(False)
        with self._autocast():
            loss = g_nonsaturating_loss(self.D(self._generate(self.cfg.batch)))
        self._optimise(self.opt_G, self.G, loss)
        stats["loss/G"] = loss.detach()
        # the regularisers share one optimiser step, but each term's backward runs as soon as
        # it is built, so the path length graph is freed before the distortion graph exists
        # (bench/saved_bytes.py: 41 % less saved for backward at 256 px)
        self.opt_G.zero_grad(set_to_none=True)
        due = False
        if reg.pl_weight > 0 and self.step % reg.pl_interval == 0:
            pl = self._path_length_term()
            (pl * (reg.pl_weight * reg.pl_interval)).backward()
            stats["loss/PL"], stats["pl_mean"] = pl.detach(), self.pl_mean
            due = True
        if reg.distortion_weight > 0 and self.step % reg.distortion_interval == 0:
            rd = self._distortion_term()
            (rd * (reg.distortion_weight * reg.distortion_interval)).backward()
            stats["loss/distortion"] = rd.detach()
            due = True
        if due:
            average_gradients(self.G.parameters(), self.dist.world)
            self.opt_G.step()

    def _path_length_term(self) -> torch.Tensor:
        reg = self.cfg.reg
        n = self.cfg.batch // reg.pl_batch_shrink
        z, noise = self._latents(n)
        res = self.G.resolution
        y = torch.randn((n, 3, res, res), generator=self.gen, device=self.device) / res
        lengths = path_lengths(self.G, z, noise, y=self._local(y, n))
        self.pl_mean = update_mean_path_length(
            self.pl_mean, average(lengths.mean().detach(), self.dist.world), reg.pl_decay)
        return path_length_penalty(lengths, self.pl_mean)

    def _distortion_term(self) -> torch.Tensor:
        """R_D (eq. 2) on this process's share of the global draws, so the draws do not depend
        on the number of processes."""
        reg = self.cfg.reg
        n, r = self.cfg.batch // reg.distortion_batch_shrink, reg.distortion_resamples
        z, noise = self._latents(n)
        blocks = sample_blocks(self.G.grid, r * n, self.gen, self.device).reshape(r, n)
        fresh = self.G.sample_z(r * n, self.gen, device=self.device)
        fresh = fresh.reshape(r, n, *fresh.shape[1:])
        per = n // self.dist.world
        part = slice(self.dist.rank * per, (self.dist.rank + 1) * per)
        return distortion_penalty(self.G, z, noise, reg.distortion_mode, r,
                                  blocks=blocks[:, part].flatten(),
                                  z_fresh=fresh[:, part].flatten(0, 1))

    # -- the loop -------------------------------------------------------------------------

    def _watch(self, stats: dict[str, torch.Tensor]) -> None:
        """Remember the first step with a non-finite loss, on the device (no sync per step)."""
        bad = ~torch.isfinite(torch.stack([v.float() for v in stats.values()])).all()
        self._first_bad = torch.where(bad & (self._first_bad < 0), self.step, self._first_bad)

    def _check_finite(self, stats: dict[str, torch.Tensor]) -> None:
        """Stop if any process saw a non-finite loss since the start (a sync; run before every
        log, sample and checkpoint, so no checkpoint ever holds a diverged run)."""
        if average((self._first_bad >= 0).float(), self.dist.world).item() > 0:
            first = int(self._first_bad)
            shown = ", ".join(f"{k}={v.item():.4g}" for k, v in stats.items())
            # step numbers count completed steps, as checkpoint names do (ckpt-N: after N)
            where = f"step {first + 1}" if first >= 0 else "a step of another process"
            raise NonFiniteLossError(
                f"non-finite loss in {where} (latest: {shown}); training stopped without "
                f"saving. {self._last_good()}; consider lower learning rates or a stronger R1")

    def _last_good(self) -> str:
        last = self.last_checkpoint or latest_checkpoint(self.run_dir)
        if last is None:
            return "No checkpoint was saved yet, so a new run starts from scratch"
        return f"Last good checkpoint: {last} (--resume auto continues from it)"

    def _non_finite(self) -> str | None:
        """The first tensor of the weights, the EMA or the optimisers' state that holds a NaN
        or an infinity (a diverged Adam state poisons every later step), or None."""
        parts = {"G": self.G.state_dict(), "D": self.D.state_dict(),
                 "G_ema": self.G_ema.state_dict()}
        for name, opt in (("opt_G", self.opt_G), ("opt_D", self.opt_D)):
            parts[name] = {f"{i}.{k}": v for i, s in enumerate(opt.state.values())
                           for k, v in s.items()}
        for part, tensors in parts.items():
            for key, t in tensors.items():
                if isinstance(t, torch.Tensor) and t.is_floating_point() \
                        and not t.isfinite().all():
                    return f"{part} {key}"
        return None

    def _start(self) -> None:
        """The data order from the current step, and the logs (first call of a run)."""
        cfg = self.cfg
        if self._batches is None:
            self._batches = make_loader(self.dataset, cfg.batch, cfg.seed, self.step,
                                        self.dist.rank, self.dist.world, cfg.data.workers,
                                        self.device.type == "cuda")
        if self.monitor is None:
            self.monitor = Monitor(self.run_dir, self.history, cfg.total_steps, self.step,
                                   self.dist.main, cfg.progress, cfg.tensorboard)
            if self.dist.main:
                prune_checkpoints(self.run_dir, 0)        # temporary files of a killed run

    def _out_of_time(self, started: float) -> bool:
        """``time_limit`` minutes have passed since ``started`` (on every process's say)."""
        late = time.perf_counter() - started > self.cfg.time_limit * 60
        return average(torch.tensor(float(late), device=self.device), self.dist.world) > 0

    def run(self, until: int | None = None) -> Trainer:
        """Train until ``self.step == until`` (default: the config's total) or ``time_limit``
        minutes have passed (checked when a log is due), logging, sampling and checkpointing on
        the configured intervals and at the end."""
        cfg, main = self.cfg, self.dist.main
        until = cfg.total_steps if until is None else until
        self._start()
        sums: dict[str, torch.Tensor] = {}
        counts: dict[str, int] = {}
        started = t0 = time.perf_counter()
        s0 = self.step
        while self.step < until:
            stats = self.train_step(next(self._batches))
            self._watch(stats)
            for k, v in stats.items():
                sums[k] = sums.get(k, 0) + v.detach().float()
                counts[k] = counts.get(k, 0) + 1
            self.step += 1
            self.images_seen += cfg.batch
            self.monitor.advance()
            if cfg.time_limit and self.step % cfg.log_every == 0 and self._out_of_time(started):
                until = self.step                       # stop here, with samples and a save
            due = [self.step % every == 0 or self.step == until
                   for every in (cfg.log_every, cfg.sample_every, cfg.ckpt_every)]
            if any(due):
                self._check_finite(stats)
            if due[0]:
                dt = time.perf_counter() - t0
                world = self.dist.world               # losses of the global batch
                record = {k: average(sums[k] / counts[k], world).item() for k in sorted(sums)}
                record.update(kimg=self.images_seen / 1000,
                              img_per_s=(self.step - s0) * cfg.batch / dt,
                              sec_per_step=dt / (self.step - s0))
                self.monitor.log(self.step, record)
                sums, counts, t0, s0 = {}, {}, time.perf_counter(), self.step
            if main and due[1]:
                self.save_samples()
            if due[2]:
                self.save()
        return self

    @torch.no_grad()
    def save_samples(self) -> Path | None:
        """The EMA generator on the fixed latents and noise, as a PNG grid."""
        images = self.G_ema(self.fixed_z, noise=self.fixed_noise)
        return self.monitor.samples(self.step, images, nrow=math.ceil(len(images) ** 0.5))

    # -- checkpoints ----------------------------------------------------------------------

    def state_dict(self) -> dict:
        return {
            "format": CKPT_FORMAT, "config": self.cfg.to_dict(), "step": self.step,
            "images_seen": self.images_seen, "device_type": self.device.type,
            "G": self.G.state_dict(), "D": self.D.state_dict(), "G_ema": self.G_ema.state_dict(),
            "opt_G": self.opt_G.state_dict(), "opt_D": self.opt_D.state_dict(),
            "pl_mean": self.pl_mean.detach().cpu(), "rng": rng_state({"train": self.gen}),
        }

    def save(self) -> Path | None:
        """Write ``run_dir/ckpt-<step>.pt`` atomically (main process), then prune old ones."""
        bad = self._non_finite()
        if bad is not None:
            raise NonFiniteLossError(f"non-finite values in {bad} after step {self.step}; "
                                     f"training stopped without saving. {self._last_good()}")
        if not self.dist.main:
            return None
        path = save_checkpoint(self.state_dict(), self.run_dir / checkpoint_name(self.step))
        prune_checkpoints(self.run_dir, self.cfg.keep_ckpts)
        self.last_checkpoint = path
        return path

    def _resume_source(self) -> tuple[Path, dict]:
        """The checkpoint ``resume`` names and its contents; with ``auto``, the newest one in
        ``run_dir`` that loads (newer ones that do not, e.g. cut short by a crash, are skipped
        and noted in ``resume_notes``)."""
        if self.cfg.resume == "auto":
            path, state, self.resume_notes = newest_loadable(self.run_dir)
            for note in self.resume_notes:
                warnings.warn(f"resume=auto {note}", stacklevel=3)
            return path, state
        path = resolve_checkpoint(self.cfg.resume)
        return path, load_checkpoint(path)

    def resume(self, path: str | Path, state: dict | None = None) -> None:
        """Continue exactly from a checkpoint of the same run (weights, optimisers, step,
        random state); settings outside ``RESUME_KEYS`` (length, intervals, lr) may change."""
        state = load_checkpoint(path) if state is None else state
        if state.get("format") != CKPT_FORMAT:
            raise CheckpointError(f"{path}: not an ssnlib training checkpoint (format "
                                  f"{state.get('format')!r}, expected {CKPT_FORMAT!r})")
        saved = from_dict(state["config"]).to_dict()
        mine = self.cfg.to_dict()
        for d in (saved, mine):
            del d["data"]["workers"]                    # does not change what is loaded
        for key in RESUME_KEYS:
            if saved[key] != mine[key]:
                raise ConfigError(f"cannot resume from {path}: its {key!r} setting "
                                  f"{saved[key]!r} differs from this run's {mine[key]!r}")
        for name in ("G", "D", "G_ema"):
            load_state(getattr(self, name), state[name], path, model=name)
        self.opt_G.load_state_dict(state["opt_G"])
        self.opt_D.load_state_dict(state["opt_D"])
        self._set_hyperparameters()
        self.step, self.images_seen = state["step"], state["images_seen"]
        self.pl_mean = state["pl_mean"].to(self.device)
        if state["device_type"] == self.device.type:
            set_rng_state(state["rng"], {"train": self.gen})
        else:
            warnings.warn(f"{path} was written on {state['device_type']}, this run is on "
                          f"{self.device.type}: weights and step continue, the random stream "
                          f"is re-seeded", stacklevel=2)
            self.gen.manual_seed(self.cfg.seed + 1 + self.step)
        self._batches = None
        self.last_checkpoint = Path(path)

    def close(self) -> None:
        """Close the logs and release the run folder. A folder this run made goes too if not
        one step was completed, so a run that fails at once (bad images, say) leaves nothing
        behind."""
        if self.monitor is not None:
            self.monitor.close()
            self.monitor = None
        if getattr(self, "_lock", None) is not None:
            unlock_run_dir(self._lock)
            self._lock = None
            if self._made_run_dir and self.step == 0 and self.last_checkpoint is None:
                shutil.rmtree(self.run_dir, ignore_errors=True)


def train(config: TrainConfig | str | Path | None = None, overrides=(), steps: int | None = None,
          dataset=None) -> Trainer:
    """Train from a config (a :class:`TrainConfig`, a YAML path or None for the defaults) with
    ``key=value`` overrides; ``steps`` sets the run length. Returns the finished
    :class:`Trainer` (``.G_ema``, ``.history``, ...), e.g. for a chapter's short CPU run."""
    if isinstance(config, TrainConfig):
        config = from_dict(config.to_dict())            # a copy the overrides may change
        for assignment in overrides:
            apply_override(config, assignment)
    else:
        config = load_config(config, overrides)
    if steps is not None:
        config.steps = steps
    trainer = Trainer(config, dataset=dataset)
    try:
        trainer.run()
    finally:
        trainer.close()
    return trainer
