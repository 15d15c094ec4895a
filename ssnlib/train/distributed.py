"""Data-parallel training across processes started by ``torchrun`` (NCCL on GPUs, gloo on CPU).

Gradients are averaged with one flat ``all_reduce`` per optimiser step, the scheme of NVIDIA's
stylegan2-ada / stylegan3, rather than by wrapping the nets in ``DistributedDataParallel``:
a GAN step runs several phases over different parameter subsets (D, then G through a frozen D),
and R1 / path length take a double backward, which DDP's bucketed gradient hooks do not follow.
Every process holds identical parameters (same seed, then a broadcast from rank 0) and the same
optimiser state, so averaged gradients keep them identical.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from ssnlib.utils import get_device


@dataclass(frozen=True)
class Dist:
    """This process's place in the job."""

    rank: int = 0
    world: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def main(self) -> bool:
        return self.rank == 0


def init_distributed(prefer: str = "") -> Dist:
    """Join the ``torchrun`` job if there is one (``WORLD_SIZE > 1``), else a 1-process Dist.

    Under torchrun each process uses ``cuda:LOCAL_RANK`` when CUDA is available (NCCL),
    otherwise the CPU (gloo).
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist(0, 1, get_device(prefer or None))
    device = get_device(prefer or None)
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Dist(dist.get_rank(), dist.get_world_size(), device)


def broadcast_module(module: torch.nn.Module, world: int) -> None:
    """Copy rank 0's parameters and buffers to every process."""
    if world > 1:
        for tensor in [*module.parameters(), *module.buffers()]:
            dist.broadcast(tensor.data, src=0)


def average_gradients(params, world: int) -> None:
    """Average ``.grad`` over processes (one flat all-reduce; params without grad skipped:
    every process has the same ones)."""
    if world <= 1:
        return
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    flat = torch.cat([g.flatten() for g in grads])
    dist.all_reduce(flat)
    flat /= world
    for g, new in zip(grads, flat.split([g.numel() for g in grads]), strict=True):
        g.copy_(new.view_as(g))


def average(tensor: torch.Tensor, world: int) -> torch.Tensor:
    """The mean of a tensor over processes (a new tensor)."""
    if world <= 1:
        return tensor
    out = tensor.detach().clone()
    dist.all_reduce(out)
    return out / world


def shutdown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()
