"""Training data: the dataset a config names, and a data order that is a pure function of the
step, so a resumed or multi-process run sees exactly the images a single process would.

The order is an endless sequence of epochs, each a permutation of the dataset drawn from
``(seed, epoch)`` alone. Step t uses the global positions ``t*B .. t*B + B - 1`` of that
sequence; process r of R takes the r-th contiguous slice of B/R of them. Nothing but the step
has to be checkpointed to continue the order exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from ssnlib.data import ImageFolderDataset, PackedDataset, dataset_class
from ssnlib.train.config import ConfigError, DataConfig


def make_dataset(cfg: DataConfig) -> Dataset:
    """The dataset of a :class:`DataConfig`: items are float images [3, R, R] in [-1, 1].

    ``path``: a packed archive (a folder with ``dataset.json``, from ``ssn prepare-data``; its
    resolution must be ``cfg.resolution``) or a folder / zip of images, resized on the fly.
    """
    if cfg.path:
        path = Path(cfg.path)
        if not path.exists():
            raise ConfigError(f"data.path {cfg.path!r} does not exist")
        if (path / "dataset.json").is_file():
            data = PackedDataset(path)
            if data.resolution != cfg.resolution:
                raise ConfigError(f"the archive {cfg.path!r} holds {data.resolution}px images "
                                  f"but data.resolution={cfg.resolution}")
            return data
        return ImageFolderDataset(path, cfg.resolution)
    return dataset_class(cfg.name)(length=cfg.length, resolution=cfg.resolution, seed=cfg.seed,
                                return_parts=False)


class StepOrder(Sampler[list[int]]):
    """Batches of dataset indices for steps ``start, start + 1, ...`` on process ``rank``.

    ``batch`` is the global batch; each process gets its ``batch // world`` slice.
    """

    def __init__(self, size: int, batch: int, seed: int, start: int = 0, rank: int = 0,
                 world: int = 1):
        if size < 1:
            raise ValueError("the training dataset is empty")
        self.size, self.batch, self.seed, self.start = size, batch, seed, start
        self.local = batch // world
        self.lo = rank * self.local
        self._epoch, self._perm = -1, None

    def permutation(self, epoch: int) -> torch.Tensor:
        if epoch != self._epoch:
            gen = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._epoch, self._perm = epoch, torch.randperm(self.size, generator=gen)
        return self._perm

    def indices(self, step: int) -> list[int]:
        """This process's dataset indices at ``step``."""
        first = step * self.batch + self.lo
        out = []
        for pos in range(first, first + self.local):
            epoch, offset = divmod(pos, self.size)
            out.append(int(self.permutation(epoch)[offset]))
        return out

    def __iter__(self) -> Iterator[list[int]]:
        step = self.start
        while True:
            yield self.indices(step)
            step += 1


def make_loader(dataset: Dataset, batch: int, seed: int, start: int, rank: int, world: int,
                workers: int, pin_memory: bool) -> Iterator[torch.Tensor]:
    """An endless iterator of this process's image batches from step ``start`` on."""
    order = StepOrder(len(dataset), batch, seed, start, rank, world)
    loader = DataLoader(dataset, batch_sampler=order, num_workers=workers,
                        pin_memory=pin_memory, persistent_workers=workers > 0,
                        prefetch_factor=4 if workers > 0 else None)
    for item in loader:
        yield item[0] if isinstance(item, list | tuple) else item
