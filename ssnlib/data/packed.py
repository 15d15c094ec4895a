"""Packed archives: a dataset as one uint8 array on disk, for fast training input.

An archive is a directory::

    dataset.json   manifest: format, resolution, count, source, schema, skipped files
    images.bin     uint8 [count, 3, R, R], raw, C order (memory-mapped when read)
    parts.bin      uint8 [count, R, R] part maps (procedural sources only)
    labels.npz     one array of length count per attribute (procedural sources only)

Raw arrays beat a zip of PNGs: loading an image is a memory copy, with no
decoding, and the operating system's page cache shares the file between
DataLoader workers. Archives are written into a temporary directory beside the
destination and renamed into place, so a crash never leaves a half-written
archive under the final name.
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

import ssnlib
from ssnlib.data.folder import BadImageError, ImageConversionWarning, ImageSource, load_image
from ssnlib.data.procedural import ProceduralDataset, Sample
from ssnlib.data.registry import DATASETS
from ssnlib.errors import InputError

FORMAT = "ssnlib-packed"
VERSION = 1


@dataclass
class PackReport:
    """What packing did: where, how many images, which files were skipped or converted."""

    path: Path
    count: int
    resolution: int
    skipped: list[str] = field(default_factory=list)  # "name: reason"
    converted: Counter = field(default_factory=Counter)  # note -> number of images


def _write_atomically(dst: Path, overwrite: bool, write) -> None:
    """Run ``write(tmp_dir)`` and move the result to `dst` with renames only."""
    dst = Path(dst)
    if dst.exists() and not overwrite:
        raise FileExistsError(f"{dst} exists; pass overwrite=True (--overwrite) to replace it")
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.parent / f".{dst.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        write(tmp)
        if dst.exists():
            old = dst.parent / f".{dst.name}.old-{os.getpid()}"
            os.replace(dst, old)
            os.replace(tmp, dst)
            if old.is_dir():
                shutil.rmtree(old)
            else:
                old.unlink()
        else:
            os.replace(tmp, dst)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _manifest(count: int, resolution: int, source: str, **extra) -> dict:
    return {"format": FORMAT, "version": VERSION, "resolution": resolution, "count": count,
            "source": source, "ssnlib": ssnlib.__version__, **extra}


def pack_folder(src: str | Path, dst: str | Path, resolution: int, skip_bad: bool = False,
                overwrite: bool = False, progress: bool = True,
                background: tuple[int, int, int] | None = None) -> PackReport:
    """Pack a folder or zip of images into an archive at `dst` (see `load_image` for what
    is refused or converted; ``background`` flattens transparent images onto that colour). A
    bad file raises `BadImageError`, unless `skip_bad`: then it is left out and listed in the
    report and the manifest."""
    source = ImageSource(src)
    report = PackReport(Path(dst), 0, resolution)
    examples: dict[str, str] = {}

    def write(tmp: Path) -> None:
        size = 3 * resolution * resolution
        with open(tmp / "images.bin", "wb") as out:
            for i in tqdm(range(len(source)), desc=f"packing {source.path.name}",
                          unit="img", disable=not progress):
                name = source.names[i]
                try:
                    image, note = load_image(source.read(i), name, resolution, background)
                except BadImageError as error:
                    if not skip_bad:
                        raise
                    report.skipped.append(str(error))
                    continue
                if note:
                    report.converted[note] += 1
                    examples.setdefault(note, name)
                out.write(np.ascontiguousarray(image.transpose(2, 0, 1)).tobytes())
                report.count += 1
        if report.count == 0:
            raise InputError(f"every image in {source.path} was bad, so nothing was packed "
                             f"({len(report.skipped)} skipped; the first: {report.skipped[0]})")
        assert (tmp / "images.bin").stat().st_size == report.count * size
        manifest = _manifest(report.count, resolution, str(source.path),
                             skipped=report.skipped, converted=dict(report.converted))
        (tmp / "dataset.json").write_text(json.dumps(manifest, indent=1))

    _write_atomically(Path(dst), overwrite, write)
    for note, n in report.converted.items():
        warnings.warn(f"{n} image(s) converted from {note}, e.g. {examples[note]}",
                      ImageConversionWarning, stacklevel=2)
    return report


def _render_chunk(args: tuple[ProceduralDataset, int, int]) -> list[tuple]:
    dataset, start, stop = args
    return [dataset.render(i) for i in range(start, stop)]


def _rendered(dataset: ProceduralDataset, workers: int, chunk: int = 256):
    """``dataset.render(i)`` for every index in order, by ``workers`` processes (each image
    depends on ``(seed, i)`` alone, so the pixels do not depend on ``workers``)."""
    n = len(dataset)
    if workers <= 1:
        yield from (dataset.render(i) for i in range(n))
        return
    import multiprocessing

    jobs = [(dataset, s, min(n, s + chunk)) for s in range(0, n, chunk)]
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        for rendered in pool.imap(_render_chunk, jobs):
            yield from rendered


def pack_procedural(dataset: ProceduralDataset, dst: str | Path, overwrite: bool = False,
                    progress: bool = True, workers: int = 1) -> PackReport:
    """Pack a procedural dataset (all its indices) with part maps and attribute labels,
    rendered by ``workers`` processes."""
    n, r = len(dataset), dataset.resolution
    if n == 0:
        raise ValueError("the dataset is empty; nothing to pack")
    cls = type(dataset)

    def write(tmp: Path) -> None:
        images = np.memmap(tmp / "images.bin", np.uint8, "w+", shape=(n, 3, r, r))
        parts = np.memmap(tmp / "parts.bin", np.uint8, "w+", shape=(n, r, r))
        labels = {name: np.zeros(n, np.int64) for name in cls.DISCRETE}
        labels.update({name: np.zeros(n, np.float32) for name in cls.CONTINUOUS})
        for i, (image, part_map, attributes) in enumerate(tqdm(
                _rendered(dataset, workers), total=n, desc=f"rendering {cls.__name__}",
                unit="img", disable=not progress)):
            images[i] = image.transpose(2, 0, 1)
            parts[i] = part_map
            for name, value in attributes.items():
                labels[name][i] = value
        images.flush()
        parts.flush()
        del images, parts
        np.savez(tmp / "labels.npz", **labels)
        schema = {"discrete": cls.DISCRETE, "continuous": cls.CONTINUOUS,
                  "mirror_odd": cls.MIRROR_ODD, "part_names": cls.PART_NAMES}
        where = f", where={dataset.where}" if dataset.where else ""
        source = (f"{cls.__name__}(seed={dataset.seed}, supersample={dataset.supersample}"
                  f"{where})")
        domain = next((name for name, c in DATASETS.items() if c is cls), None)
        manifest = _manifest(n, r, source, schema=schema, domain=domain, where=dataset.where)
        (tmp / "dataset.json").write_text(json.dumps(manifest, indent=1))

    _write_atomically(Path(dst), overwrite, write)
    return PackReport(Path(dst), n, r)


class PackedDataset(torch.utils.data.Dataset):
    """A packed archive as a Dataset of float images [3, R, R] in [-1, 1].

    ``xflip=True`` doubles the length: index ``i + count`` is image ``i`` mirrored
    (its part map too, and its `MIRROR_ODD` attributes change sign).
    ``return_parts=True`` (procedural archives only) returns `Sample` items.
    """

    def __init__(self, path: str | Path, xflip: bool = False, return_parts: bool = False):
        self.path = Path(path)
        manifest_path = self.path / "dataset.json"
        if not manifest_path.is_file():
            raise FileNotFoundError(f"{self.path} is not a packed archive (no dataset.json); "
                                    f"make one with `ssn prepare-data`")
        self.manifest = json.loads(manifest_path.read_text())
        if self.manifest.get("format") != FORMAT or self.manifest.get("version") != VERSION:
            raise ValueError(f"{manifest_path}: not a {FORMAT} v{VERSION} manifest")
        self.count, self.resolution = int(self.manifest["count"]), int(self.manifest["resolution"])
        self.schema = self.manifest.get("schema")
        self.xflip, self.return_parts = xflip, return_parts
        if return_parts and self.schema is None:
            raise ValueError(f"{self.path} has no part maps (packed from image files)")
        r = self.resolution
        self._files = {"images.bin": self.count * 3 * r * r}
        if self.schema is not None:
            self._files["parts.bin"] = self.count * r * r
        for name, size in self._files.items():
            actual = (self.path / name).stat().st_size
            if actual != size:
                raise ValueError(f"{self.path / name} has {actual} bytes, expected {size}: "
                                 f"truncated or not written by this version")
        self.labels: dict[str, np.ndarray] = {}
        if self.schema is not None:
            with np.load(self.path / "labels.npz") as npz:
                self.labels = {k: npz[k] for k in npz.files}
        self._images: np.memmap | None = None
        self._parts: np.memmap | None = None

    def __len__(self) -> int:
        return self.count * (2 if self.xflip else 1)

    def __getstate__(self):
        # A memmap would be pickled as a copy of the whole array: reopen it in the worker.
        return {**self.__dict__, "_images": None, "_parts": None}

    def _open(self) -> None:
        r = self.resolution
        self._images = np.memmap(self.path / "images.bin", np.uint8, "r",
                                 shape=(self.count, 3, r, r))
        if self.schema is not None:
            self._parts = np.memmap(self.path / "parts.bin", np.uint8, "r",
                                    shape=(self.count, r, r))

    def __getitem__(self, index: int) -> torch.Tensor | Sample:
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} images")
        if self._images is None:
            self._open()
        i, flip = index % self.count, index >= self.count
        image = torch.from_numpy(np.array(self._images[i])).float() / 127.5 - 1
        if flip:
            image = image.flip(-1)
        if not self.return_parts:
            return image
        parts = torch.from_numpy(np.array(self._parts[i])).long()
        attributes = {}
        for name, values in self.labels.items():
            value = values[i].item()
            attributes[name] = -value if flip and name in self.schema["mirror_odd"] else value
        return Sample(image, parts.flip(-1) if flip else parts, attributes)
