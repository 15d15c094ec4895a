"""Your own images: a folder or zip of PNG/JPEG/WebP files as a torch Dataset.

`load_image` is the one gate every user image passes, for `ImageFolderDataset`
and for `ssn prepare-data` alike. Its policy is that nothing trains on garbage
without anybody being told:

* refused with `BadImageError` (naming the file): unreadable or corrupt files,
  non-images with an image extension, images smaller than the resolution
  (upscaling would teach the model blur), images with transparent pixels (the
  colour under them is arbitrary), 32-bit integer and float images (no known
  range to map to 8 bits);
* converted, and reported: grayscale (copied to R, G and B) and 16-bit
  grayscale (scaled to 8 bits). Both are real photographs that a colour model
  may legitimately see, but a dataset full of them is usually a mistake, so
  the caller is told (`ImageConversionWarning`, and a count in the packer);
* converted silently: palette, CMYK and YCbCr images, and alpha channels that
  are fully opaque: those conversions lose nothing.

Every image is centre-cropped to a square and resized with Lanczos filtering.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ssnlib.data.procedural import to_float_image
from ssnlib.errors import InputError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp")


class BadImageError(InputError):
    """A file that cannot become a training image; `name` says which."""

    def __init__(self, name: str, reason: str):
        super().__init__(f"{name}: {reason}")
        self.name, self.reason = name, reason


class ImageConversionWarning(UserWarning):
    """An image was usable only after a lossy or meaning-changing conversion."""


def parse_background(spec: str) -> tuple[int, int, int]:
    """``white``, ``black`` or ``#rrggbb`` -> an RGB triple (what transparency is flattened
    onto)."""
    named = {"white": (255, 255, 255), "black": (0, 0, 0)}
    if spec.lower() in named:
        return named[spec.lower()]
    text = spec.removeprefix("#")
    if len(text) != 6 or any(c not in "0123456789abcdefABCDEF" for c in text):
        raise InputError(f"background {spec!r}: use white, black or #rrggbb (e.g. #808080)")
    return tuple(int(text[i:i + 2], 16) for i in (0, 2, 4))


def load_image(data: bytes, name: str, resolution: int,
               background: tuple[int, int, int] | None = None) -> tuple[np.ndarray, str | None]:
    """Decode, check and resize one image file's bytes.

    Returns ``(uint8 [resolution, resolution, 3], note)``, where `note` describes
    a reportable conversion ("grayscale", "16-bit grayscale", "transparency flattened")
    or is None. Raises `BadImageError` for the cases listed in the module docstring; with
    a ``background`` colour, transparent pixels are composited onto it instead.
    """
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise BadImageError(name, f"not a readable image ({error})") from None
    image, note = _to_rgb(image, name, background)
    w, h = image.size
    if min(w, h) < resolution:
        raise BadImageError(name, f"is {w}x{h}, smaller than the resolution {resolution}; "
                                  f"upscaling would train on blur")
    side = min(w, h)
    left, top = (w - side) // 2, (h - side) // 2
    image = image.crop((left, top, left + side, top + side))
    if side != resolution:
        image = image.resize((resolution, resolution), Image.Resampling.LANCZOS)
    return np.asarray(image, dtype=np.uint8), note


def _to_rgb(image: Image.Image, name: str, background: tuple[int, int, int] | None = None
            ) -> tuple[Image.Image, str | None]:
    mode = image.mode
    if mode == "RGB":
        return image, None
    if mode in ("1", "L"):
        return image.convert("RGB"), "grayscale"
    if mode.startswith("I;16") or mode == "I":
        values = np.asarray(image).astype(np.int64)
        if mode == "I" and (values.min() < 0 or values.max() > 65535):
            raise BadImageError(name, "is a 32-bit integer image with no known range")
        gray = (values >> 8).astype(np.uint8)  # the top 8 of 16 bits
        return Image.fromarray(np.repeat(gray[..., None], 3, axis=2)), "16-bit grayscale"
    if mode == "F":
        raise BadImageError(name, "is a floating-point image with no known range")
    if mode == "P" and "transparency" not in image.info:
        return image.convert("RGB"), None
    if mode in ("RGBA", "LA", "PA", "P", "RGBa", "La"):
        rgba = image.convert("RGBA")
        if np.asarray(rgba)[..., 3].min() < 255:
            if background is None:
                raise BadImageError(name, "has transparent pixels, whose colour is arbitrary; "
                                          "flatten it onto a background first (ssn "
                                          "prepare-data --background white|black|#rrggbb)")
            flat = Image.new("RGBA", rgba.size, (*background, 255))
            flat.alpha_composite(rgba)
            return flat.convert("RGB"), "transparency flattened onto #{:02x}{:02x}{:02x}".format(
                *background)
        converted = rgba.convert("RGB")
        return converted, ("grayscale" if mode in ("LA", "La") else None)
    try:
        return image.convert("RGB"), None  # CMYK, YCbCr, LAB, HSV: exact colour conversions
    except ValueError as error:
        raise BadImageError(name, f"has image mode {mode!r}, which cannot become RGB "
                                  f"({error})") from None


class ImageSource:
    """The image files of a folder (searched recursively) or of a zip archive, sorted by
    path; `read(i)` gives file i's bytes. Safe to pickle into DataLoader workers: an
    open zip file is not carried across, each process opens its own."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.exists():
            raise FileNotFoundError(f"image source {self.path} does not exist")
        self.is_zip = self.path.is_file()
        if self.is_zip:
            if not zipfile.is_zipfile(self.path):
                raise ValueError(f"{self.path} is neither a folder nor a zip archive")
            with zipfile.ZipFile(self.path) as archive:
                names = [n for n in archive.namelist() if not n.endswith("/")]
        else:
            names = [p.relative_to(self.path).as_posix()
                     for p in self.path.rglob("*") if p.is_file()]
        self.names = sorted(n for n in names if n.lower().endswith(IMAGE_EXTENSIONS))
        if not self.names:
            raise ValueError(f"no image files ({', '.join(IMAGE_EXTENSIONS)}) in {self.path}")
        self._zip: zipfile.ZipFile | None = None

    def __len__(self) -> int:
        return len(self.names)

    def read(self, index: int) -> bytes:
        name = self.names[index]
        if not self.is_zip:
            return (self.path / name).read_bytes()
        if self._zip is None:
            self._zip = zipfile.ZipFile(self.path)
        return self._zip.read(name)

    def __getstate__(self):
        return {**self.__dict__, "_zip": None}


class ImageFolderDataset(torch.utils.data.Dataset):
    """Images from a folder or zip, loaded, checked and resized on the fly.

    Items are float tensors [3, R, R] in [-1, 1]. With ``xflip=True`` the dataset
    is twice as long: index ``i + n`` is the mirror image of ``i`` (as in
    stylegan2-ada), so every epoch sees both and no random state is involved.
    A bad file raises `BadImageError` when it is reached; run ``ssn prepare-data``
    first to find them all at once (and skip them with ``--skip-bad``).
    """

    def __init__(self, path: str | Path, resolution: int, xflip: bool = False):
        self.source = ImageSource(path)
        self.resolution, self.xflip = int(resolution), xflip

    def __len__(self) -> int:
        return len(self.source) * (2 if self.xflip else 1)

    def __getitem__(self, index: int) -> torch.Tensor:
        n = len(self.source)
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} images")
        image, note = load_image(self.source.read(index % n), self.source.names[index % n],
                                 self.resolution)
        if note:
            warnings.warn(f"{self.source.names[index % n]}: converted from {note}",
                          ImageConversionWarning, stacklevel=2)
        tensor = to_float_image(image)
        return tensor.flip(-1) if index >= n else tensor
