"""Datasets: procedural stand-ins for FFHQ and LSUN Churches, and your own images.

* `CartoonFaces`, `Skylines`: rendered on the fly, deterministic from
  ``(seed, index)``, with attribute labels and part maps (`Sample`).
* `ImageFolderDataset`: a folder or zip of images, checked and resized on the fly.
* `pack_folder`, `pack_procedural`, `PackedDataset`: the uint8 archive that
  ``ssn prepare-data`` writes, for fast loading.
* `DATASETS`, `dataset_class`: the procedural datasets by name (``faces``, ``skylines``);
  `procedural_domain`: which of them a source (a name or a procedural archive) holds.
* `save_gallery`: a PNG contact sheet of a dataset with its part maps.
"""

from ssnlib.data.faces import CartoonFaces
from ssnlib.data.folder import (
    BadImageError,
    ImageConversionWarning,
    ImageFolderDataset,
    parse_background,
)
from ssnlib.data.gallery import save_gallery
from ssnlib.data.packed import PackedDataset, PackReport, pack_folder, pack_procedural
from ssnlib.data.procedural import ProceduralDataset, Sample
from ssnlib.data.registry import (
    DATASETS,
    DEPRECATED_NAMES,
    dataset_class,
    dataset_name,
    procedural_domain,
)
from ssnlib.data.skylines import Skylines

__all__ = ["DATASETS", "DEPRECATED_NAMES", "BadImageError", "CartoonFaces",
           "ImageConversionWarning", "ImageFolderDataset", "PackReport", "PackedDataset",
           "ProceduralDataset", "Sample", "Skylines", "dataset_class", "dataset_name",
           "pack_folder", "pack_procedural", "parse_background", "procedural_domain",
           "save_gallery"]
