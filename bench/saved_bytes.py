"""Bytes saved for backward in an SSN training step with R1, path length and distortion due
(the paper schedule's step 0), phase by phase, counted with
``torch.autograd.graph.saved_tensors_hooks``.

Every tensor autograd saves for backward is counted once per storage (views share it), the
parameters left out (they live anyway); a saved tensor stops counting when autograd lets go of
it, so ``peak`` is the most activation memory the graphs held at once, the figure that sets a
step's peak memory on a GPU (plus the weights, optimiser state and the kernels' workspaces).

The phases are the trainer's (``ssnlib/train/trainer.py``), run with the same loss functions
(``ssnlib/losses.py``) on the *meta* device, so the 256 px model costs no memory and no time:
D main, R1, G main, and the G regularisers, whose graphs were kept alive together until one
backward of their sum (the trainer before), or one backward per term as soon as it is built
(the trainer now), with exact or fast sigma_E; and a sketch of the distortion term with one
generator graph alive at a time instead of two (:func:`distortion_two_pass`).
Run: ``python bench/saved_bytes.py [--config paper256] [--batch 2] [--dtype fp32|bf16]``.
"""

from __future__ import annotations

import argparse
import weakref

import torch

import ssnlib.losses as losses
from ssnlib.models import build_discriminator, build_generator
from ssnlib.train.config import RegConfig


class SavedBytes:
    """A saved_tensors_hooks pair that tracks the bytes autograd holds for backward."""

    def __init__(self, exclude: set[int]):
        self.exclude = exclude                  # storages not to count (the parameters)
        self.refs: dict[int, list[int]] = {}    # storage -> [saved tensors holding it, bytes]
        self.live = self.peak = self.packed = 0

    def pack(self, t: torch.Tensor):
        storage = t.untyped_storage()
        key = storage._cdata                    # the StorageImpl: views share it
        if key in self.exclude or t.numel() == 0:
            return t
        box = _Saved(t)
        if key not in self.refs:
            self.refs[key] = [0, storage.nbytes()]
            self.live += storage.nbytes()
            self.packed += storage.nbytes()
            self.peak = max(self.peak, self.live)
        self.refs[key][0] += 1
        weakref.finalize(box, self._release, key)
        return box

    @staticmethod
    def unpack(box):
        return box.t if isinstance(box, _Saved) else box

    def _release(self, key: int) -> None:
        entry = self.refs[key]
        entry[0] -= 1
        if entry[0] == 0:
            self.live -= entry[1]
            del self.refs[key]

    def hooks(self):
        return torch.autograd.graph.saved_tensors_hooks(self.pack, self.unpack)


class _Saved:
    __slots__ = ("t", "__weakref__")

    def __init__(self, t: torch.Tensor):
        self.t = t


def _weights_on_cpu(grid, blocks, mode="outside", device=None):
    """distortion_weights needs block indices as values: any block gives the same shapes."""
    cpu = torch.zeros(blocks.shape, dtype=torch.long)
    return _distortion_weights(grid, cpu, mode, device="cpu").to(device)


_distortion_weights = losses.distortion_weights


def g_regularisers(G, batch: int, reg: RegConfig, mode: str) -> None:
    """The trainer's path length + distortion terms (as in ``Trainer.train_step``), then their
    backward: ``"sum"``, one backward of their sum (the trainer before); ``"per_term"``, one per
    term as soon as it is built (the trainer now); ``"two_pass"``, per term and the distortion
    by :func:`distortion_two_pass`."""
    device, res = G.input.input.device, G.resolution
    n = batch // reg.pl_batch_shrink
    z, noise = G.sample_z(n, device=device), G.make_noise(n, device=device)
    y = torch.randn((n, 3, res, res), device=device) / res
    pl = losses.path_length_penalty(losses.path_lengths(G, z, noise, y=y),
                                    torch.zeros((), device=device))
    terms = [pl * reg.pl_weight * reg.pl_interval]
    if mode != "sum":
        terms.pop().backward()
    n = batch // reg.distortion_batch_shrink
    z, noise = G.sample_z(n, device=device), G.make_noise(n, device=device)
    blocks = torch.zeros(n, dtype=torch.long, device=device)
    fresh = G.sample_z(n, device=device)
    if mode == "two_pass":
        distortion_two_pass(G, z, noise, fresh, blocks, 100.0 * reg.distortion_interval)
        return
    rd = losses.distortion_penalty(G, z, noise, reg.distortion_mode, 1, blocks=blocks,
                                   z_fresh=fresh)
    terms.append(rd * 100.0 * reg.distortion_interval)
    sum(terms).backward()


def distortion_two_pass(G, z, noise, z_fresh, blocks, weight: float) -> None:
    """What ``losses.distortion_penalty`` would need to keep one generator graph alive instead
    of two (a sketch, "outside" weighting, one resample): both images without a graph, the
    gradient of R_D with respect to each image from them, then each image again with its graph
    and its backward: two more forward passes, half the memory."""
    grid = G.grid
    keep = torch.arange(grid.n_blocks, device=z.device)[None] != blocks[:, None]
    z_a = torch.where(keep.reshape(-1, 1, grid.n_h, grid.n_w), z, z_fresh)
    with torch.no_grad():
        diff = G(z, noise=noise).float() - G(z_a, noise=noise).float()      # [B, 3, H, W]
    m = losses.distortion_weights(grid, blocks, "outside", device=z.device)  # [B, 1, H, W]
    bh, bw = grid.block_size
    outside = grid.height * grid.width - bh * bw
    # R_D = mean_b sum_p m mean_c diff^2 / outside: dR_D / d g(z) = 2 m diff / (3 B outside)
    grad = weight * 2 * m * diff / (diff.shape[1] * diff.shape[0] * outside)
    G(z, noise=noise).backward(grad.to(diff.dtype))
    G(z_a, noise=noise).backward(-grad.to(diff.dtype))


def measure(config: str, batch: int, sigma_mode: str, mode: str,
            dtype: torch.dtype) -> dict[str, int]:
    """Peak bytes saved for backward in every phase of the step, on the meta device."""
    # autocast does not reach the meta device: bf16 runs the networks in bf16 instead (R1 in
    # fp32, as the trainer does), which stands for bf16 autocast's activations
    G = build_generator("ssn", config, sigma_mode=sigma_mode).to("meta", dtype)
    D, D32 = build_discriminator(config), build_discriminator(config)
    D, D32 = D.to("meta", dtype), D32.to("meta")
    nets = [*G.parameters(), *D.parameters(), *D32.parameters()]
    params = {p.untyped_storage()._cdata for p in nets}
    res, reg = G.resolution, RegConfig()
    real = torch.zeros(batch, 3, res, res, device="meta")
    z = lambda: G.sample_z(batch, device="meta").to(dtype)              # noqa: E731
    G.sample_z = lambda n, generator=None, device=None, _f=G.sample_z: _f(n, generator,
                                                                            device).to(dtype)
    phases = {
        "D main": lambda: losses.d_logistic_loss(D(real.to(dtype)),
                                                 D(G(z()).detach())).backward(),
        "R1": lambda: losses.r1_penalty(D32, real, 1.0).backward(),
        "G main": lambda: losses.g_nonsaturating_loss(D(G(z()))).backward(),
        "G reg (PL + distortion)": lambda: g_regularisers(G, batch, reg, mode),
    }
    out = {}
    losses.distortion_weights = _weights_on_cpu
    try:
        for name, phase in phases.items():
            counter = SavedBytes(params)
            with counter.hooks():
                phase()
            out[name] = counter.peak
    finally:
        losses.distortion_weights = _distortion_weights
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="paper256")
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--dtype", default="fp32", choices=("bf16", "fp32"),
                        help="activations' dtype: fp32 (the CPU default) or bf16 (the GPU's)")
    args = parser.parse_args()
    dtype = torch.bfloat16 if args.dtype == "bf16" else torch.float32
    print(f"torch {torch.__version__}; counted on the meta device (shapes only; the figures "
          f"hold for any device); SSN {args.config}, batch {args.batch}, activations "
          f"{args.dtype} (R1 fp32)")
    print("peak MiB saved for backward per phase of a step with R1, path length and "
          "distortion due")
    variants = [("exact sigma_E, one backward of the regularisers' sum (the trainer before)",
                 "exact", "sum"),
                ("exact sigma_E, backward per regulariser term (the trainer now)", "exact",
                 "per_term"),
                ("fast sigma_E, backward per regulariser term", "fast", "per_term"),
                ("exact sigma_E, per term, distortion in two passes (not in losses.py yet)",
                 "exact", "two_pass")]
    for text, sigma_mode, mode in variants:
        peaks = measure(args.config, args.batch, sigma_mode, mode, dtype)
        cells = ", ".join(f"{k} {v / 2**20:.0f}" for k, v in peaks.items())
        print(f"  {text}:\n    {cells}; step peak {max(peaks.values()) / 2**20:.0f} MiB "
              f"(x{32 // args.batch} for batch 32: "
              f"{max(peaks.values()) * 32 / args.batch / 2**30:.1f} GiB)", flush=True)
    if args.dtype == "fp32":
        tiny = max(measure("tiny", args.batch, "exact", "per_term", dtype).values())
        print(f"check: the real Trainer's step at tiny, batch {args.batch}, on the CPU: "
              f"{trainer_peak(args.batch) / 2**20:.1f} MiB; the phases above at tiny: "
              f"{tiny / 2**20:.1f}")


def trainer_peak(batch: int) -> int:
    """Peak bytes saved for backward in a real ``Trainer.train_step`` (tiny, CPU, fp32) with
    every regulariser of the paper schedule due."""
    import tempfile

    from ssnlib.train import Trainer, load_config

    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(load_config(None, [
            "model.config=tiny", f"batch={batch}", f"run_dir={tmp}", "device=cpu",
            "precision=fp32", "progress=false", "tensorboard=false",
            "reg.distortion_weight=100"]))
        nets = [*trainer.G.parameters(), *trainer.D.parameters(), *trainer.G_ema.parameters()]
        counter = SavedBytes({p.untyped_storage()._cdata for p in nets})
        real = torch.zeros(batch, 3, 32, 32)
        with counter.hooks():
            trainer.train_step(real)
        trainer.close()
    return counter.peak


if __name__ == "__main__":
    main()
