"""The common frame of the procedural datasets: schema, determinism, return types.

A procedural dataset draws image ``index`` from a NumPy generator seeded with
``(seed, index)`` alone, so any sample can be regenerated anywhere (a worker
process, another machine, a test) without generating the ones before it.

Each image comes with

* ``attributes``: a dict with one entry per name in the class's fixed schema.
  ``DISCRETE[name]`` lists the class names of a discrete attribute (the value
  is the class index, so ``NUM_CLASSES[name]`` is a classifier's output size);
  ``CONTINUOUS[name]`` gives the ``(low, high)`` range of a float attribute.
  ``MIRROR_ODD`` names the continuous attributes that change sign when the
  image is mirrored left-right (positions and light directions, centred on 0).
* ``parts``: an integer map ``[H, W]`` whose values index ``PART_NAMES``.

The float image equals the uint8 image mapped to [-1, 1] (``u8 / 127.5 - 1``),
so training on the procedural dataset and on its packed archive see the same
numbers.
"""

from __future__ import annotations

import bisect
from typing import ClassVar, NamedTuple

import numpy as np
import torch

from ssnlib.data.raster import Canvas


class Sample(NamedTuple):
    """One procedural image. A NamedTuple, so torch's default collate batches it field-wise."""

    image: torch.Tensor  # float32 [3, H, W] in [-1, 1]
    parts: torch.Tensor  # int64 [H, W], values index PART_NAMES
    attributes: dict  # name -> int (class index) or float


def _to_float(image_u8: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(image_u8.transpose(2, 0, 1))).float() / 127.5 - 1


# The 256 values of _to_float, so a conversion is one table look-up (same numbers, bit for bit).
_FLOAT_OF_U8 = _to_float(np.arange(256, dtype=np.uint8).reshape(1, 256, 1)).numpy().ravel()


def to_float_image(image_u8: np.ndarray) -> torch.Tensor:
    """uint8 [H, W, 3] -> float32 tensor [3, H, W] in [-1, 1]."""
    if image_u8.dtype != np.uint8:
        return _to_float(image_u8)
    return torch.from_numpy(np.take(_FLOAT_OF_U8, image_u8.transpose(2, 0, 1)))


class ProceduralDataset(torch.utils.data.Dataset):
    """Base class: subclasses set the schema and implement `draw(rng, canvas)`.

    Args:
        length: number of images (indices ``0 .. length-1``).
        resolution: output size in pixels (square); 32 to 256 is tested, 16 to 1024 allowed.
        seed: dataset seed; image ``i`` depends only on ``(seed, i)`` and ``resolution``.
        return_parts: True: items are `Sample` (image, parts, attributes); False: the
            image tensor alone, the fast path for training (no part map is computed).
        supersample: the canvas is this many times finer than the output before the box filter.
        where: ``{attribute: class name}``: keep only the images whose discrete attributes
            are these; image ``i`` is then the i-th image of the unfiltered dataset (same seed)
            that matches, and ``length`` counts the matches. A draw's first use of its
            generator is :meth:`sample_attributes`, so a match is found without rendering.
    """

    PART_NAMES: ClassVar[tuple[str, ...]] = ()
    DISCRETE: ClassVar[dict[str, tuple[str, ...]]] = {}
    CONTINUOUS: ClassVar[dict[str, tuple[float, float]]] = {}
    MIRROR_ODD: ClassVar[tuple[str, ...]] = ()
    NUM_CLASSES: ClassVar[dict[str, int]] = {}
    # Class frequencies of the discrete attributes that are not uniform.
    WEIGHTS: ClassVar[dict[str, tuple[float, ...]]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.NUM_CLASSES = {name: len(classes) for name, classes in cls.DISCRETE.items()}
        cls._cumulative = {name: (np.cumsum(w) / np.sum(w)).tolist()
                           for name, w in cls.WEIGHTS.items()}

    def __init__(self, length: int = 10_000, resolution: int = 64, seed: int = 0,
                 return_parts: bool = True, supersample: int = 2,
                 where: dict[str, str] | None = None):
        if not 16 <= resolution <= 1024:
            raise ValueError(f"resolution must be in [16, 1024], got {resolution}")
        if length < 0 or seed < 0 or supersample < 1:
            raise ValueError(f"need length >= 0, seed >= 0, supersample >= 1; "
                             f"got {length}, {seed}, {supersample}")
        self.length, self.resolution, self.seed = int(length), int(resolution), int(seed)
        self.return_parts, self.supersample = return_parts, int(supersample)
        self.where = dict(where or {})
        self._source = self._matching(self._class_indices(self.where)) if self.where else None

    @classmethod
    def _class_indices(cls, where: dict[str, str]) -> dict[str, int]:
        out = {}
        for name, value in where.items():
            if name not in cls.DISCRETE:
                raise ValueError(f"{cls.__name__} has no discrete attribute {name!r}; choose "
                                 f"from {', '.join(cls.DISCRETE)}")
            if value not in cls.DISCRETE[name]:
                raise ValueError(f"{cls.__name__}'s {name} has no class {value!r}; choose from "
                                 f"{', '.join(cls.DISCRETE[name])}")
            out[name] = cls.DISCRETE[name].index(value)
        return out

    def _matching(self, classes: dict[str, int]) -> np.ndarray:
        """The unfiltered indices of the first ``length`` images with these classes."""
        found, i = [], 0
        while len(found) < self.length:
            a = self.sample_attributes(np.random.default_rng([self.seed, i]))
            if all(a[name] == k for name, k in classes.items()):
                found.append(i)
            i += 1
        return np.asarray(found, dtype=np.int64)

    def __len__(self) -> int:
        return self.length

    def render(self, index: int, with_parts: bool = True
               ) -> tuple[np.ndarray, np.ndarray | None, dict]:
        """Draw image `index`: (uint8 [H, W, 3], uint8 part map [H, W] or None, attributes)."""
        if not 0 <= index < self.length:
            raise IndexError(f"index {index} out of range for {type(self).__name__} "
                             f"of length {self.length}")
        source = int(index) if self._source is None else int(self._source[index])
        rng = np.random.default_rng([self.seed, source])
        canvas = Canvas(self.resolution, self.supersample, with_parts, len(self.PART_NAMES))
        attributes = self.draw(rng, canvas)
        assert attributes.keys() == self.DISCRETE.keys() | self.CONTINUOUS.keys()
        return canvas.image(), canvas.part_map() if with_parts else None, attributes

    @classmethod
    def sample_attributes(cls, rng: np.random.Generator) -> dict:
        """Draw every attribute of the schema independently: discrete ones by `WEIGHTS`
        (uniform if absent), continuous ones uniform in their range."""
        u = rng.random(len(cls.DISCRETE) + len(cls.CONTINUOUS)).tolist()
        a = {}
        for k, (name, classes) in enumerate(cls.DISCRETE.items()):
            cum = cls._cumulative.get(name)
            # bisect_right on the cumulative weights is searchsorted(side="right"), minus NumPy.
            a[name] = (min(int(u[k] * len(classes)), len(classes) - 1) if cum is None
                       else min(bisect.bisect_right(cum, u[k]), len(cum) - 1))
        for k, (name, (lo, hi)) in enumerate(cls.CONTINUOUS.items(), len(cls.DISCRETE)):
            a[name] = float(lo + (hi - lo) * u[k])
        return a

    def draw(self, rng: np.random.Generator, canvas: Canvas) -> dict:
        """Paint one image on `canvas` with randomness from `rng`; return its attributes."""
        raise NotImplementedError

    def __getitem__(self, index: int) -> Sample | torch.Tensor:
        image, parts, attributes = self.render(index, with_parts=self.return_parts)
        if not self.return_parts:
            return to_float_image(image)
        return Sample(to_float_image(image), torch.from_numpy(parts).long(), attributes)

    @classmethod
    def describe(cls, attributes: dict) -> dict[str, str | float]:
        """Attributes with class names in place of class indices (for captions and reports)."""
        return {k: cls.DISCRETE[k][v] if k in cls.DISCRETE else round(float(v), 3)
                for k, v in attributes.items()}
