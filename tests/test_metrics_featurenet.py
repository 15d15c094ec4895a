"""The shipped domain feature network: manifest, size, held-out accuracy, FID noise floor in its
space, and part-level locality on generators with known behaviour."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import pytest
import torch
from torch import nn

from ssnlib.blocks import BlockGrid
from ssnlib.commands.train_featurenet import add_arguments
from ssnlib.metrics.featurenet import DEFAULT_DIR, DomainFeatures, load_domain_net
from ssnlib.metrics.fid import GaussianStats, fid
from ssnlib.metrics.labelled import render_labelled
from ssnlib.metrics.parts import part_locality
from ssnlib.metrics.reference import procedural_batches
from ssnlib.metrics.train_featurenet import HELDOUT_SEED, evaluate

MANIFEST_KEYS = {"command", "config", "schema", "git_commit", "git_dirty", "steps", "wall_time_s",
                 "device",
                 "torch", "heldout", "parameters"}


@pytest.fixture(scope="module")
def shipped():
    return load_domain_net()


@pytest.fixture(scope="module")
def extractor(shipped):
    return DomainFeatures(shipped[0])


def test_manifest_is_complete_and_weights_are_small(shipped):
    net, manifest = shipped
    assert MANIFEST_KEYS <= manifest.keys()
    assert manifest["command"].split()[:3] == ["python", "-m", "ssnlib.metrics.train_featurenet"]
    # today's spelling of the same run parses with the command's own arguments
    rerun = manifest["rerun"].split()
    assert rerun[:2] == ["ssn", "train-featurenet"]
    args = add_arguments(argparse.ArgumentParser()).parse_args(rerun[2:])
    assert (args.train, args.steps, args.batch) == (6000, 1500, 48)
    assert (DEFAULT_DIR / "featurenet.safetensors").stat().st_size < 5_000_000
    for d, a, _ in net.schema.discrete:
        assert 0 <= manifest["heldout"][f"{d}/{a}"]["accuracy"] <= 1
    assert manifest["parameters"] == sum(p.numel() for p in net.parameters())


def test_shipped_net_reaches_its_stated_accuracy_on_a_small_heldout_batch(shipped):
    net, manifest = shipped
    n = 48
    scores = evaluate(net, render_labelled(net.schema, n, HELDOUT_SEED, workers=1))
    for key, stated in manifest["heldout"].items():
        if "accuracy" not in stated:
            continue
        p, m = stated["accuracy"], scores[key]["n"]
        # 4 binomial standard errors (floored for p near 1) over ~20 heads
        slack = 4 * math.sqrt(max(p * (1 - p), 0.02) / m)
        assert scores[key]["accuracy"] >= p - slack, key


def test_domain_fid_separates_datasets_and_its_noise_floor_is_small(extractor):
    faces = extractor(torch.cat(list(procedural_batches("faces", 256, 64, workers=1))))
    sky = extractor(torch.cat(list(procedural_batches("skylines", 128, 64, workers=1))))
    # at 128 vs 128 images in 192 dimensions FID's small-sample bias dominates the floor
    floor = fid(GaussianStats.of(faces[:128]), GaussianStats.of(faces[128:]))
    apart = fid(GaussianStats.of(faces[:128]), GaussianStats.of(sky))
    assert apart > 5 * floor


class DatasetLookup(nn.Module):
    """A 'generator' that shows one of 16 real CartoonFaces images chosen by the signs of its 2x2
    latent blocks (``global``), or always image 0 (``constant``: z is ignored)."""

    spatial, resolution = True, 64

    def __init__(self, mode: str):
        super().__init__()
        self.mode = mode
        self.grid = BlockGrid(2, 2, 64, 64)
        self.register_buffer("bank", torch.cat(list(procedural_batches("faces", 16, 64,
                                                                       workers=1))))

    @property
    def z_shape(self):
        return (1, 2, 2)

    def sample_z(self, batch, generator=None, device=None):
        return torch.randn((batch, 1, 2, 2), generator=generator)

    def make_noise(self, batch=1, generator=None, device=None):
        return [torch.zeros(batch, 1, 4, 4)]

    def forward(self, z, noise=None):
        bits = (z.flatten(1) > 0).long() * torch.tensor([1, 2, 4, 8])
        index = bits.sum(1) if self.mode == "global" else torch.zeros(len(z), dtype=torch.long)
        return self.bank[index]


def test_part_locality_is_zero_when_nothing_changes_and_high_for_global_changes(extractor):
    still = part_locality(DatasetLookup("constant"), extractor, count=4, batch=4)
    assert still["domain"] == "faces" and still["outside_count"] > 0
    assert still["leak_rate"] == 0 and still["touching_rate"] == 0
    moving = part_locality(DatasetLookup("global"), extractor, count=8, batch=4)
    assert moving["leak_rate"] > 0.1


def test_featurenet_folder_missing_is_a_clear_error(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="train-featurenet"):
        load_domain_net(tmp_path)
