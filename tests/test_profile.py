"""Where a resample's change lands (ssnlib.resample.profile): the distance profile agrees with
the distortion metric, a local generator changes nothing outside, repeated resamples of one
block never move the kept blocks, and graded resampling runs from no change to a full one."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ssnlib.blocks import BlockGrid
from ssnlib.metrics.distortion import distortion_and_locality
from ssnlib.models import build_generator
from ssnlib.resample.profile import (
    bin_labels,
    distance_bins,
    distance_profile,
    graded_changes,
    resample_drift,
)


class LocalGenerator(nn.Module):
    """Each block of z paints only its own pixels (a fixed linear map, nearest up-sampled)."""

    spatial = True

    def __init__(self):
        super().__init__()
        self.grid = BlockGrid(4, 4, 16, 16)
        self.register_buffer("P", torch.randn(3, 2, generator=torch.Generator().manual_seed(1)))

    z_shape = (2, 4, 4)

    def check_z(self, z):
        assert tuple(z.shape[1:]) == self.z_shape

    def sample_z(self, batch, generator=None, device=None):
        return torch.randn((batch, *self.z_shape), generator=generator).to(device)

    def make_noise(self, batch=1, generator=None, device=None):
        return [torch.randn((batch, 1, 4, 4), generator=generator).to(device)]

    def forward(self, z, noise=None, **kwargs):
        return F.interpolate(torch.einsum("oc,bchw->bohw", self.P, z), size=(16, 16))


@pytest.fixture(scope="module")
def ssn():
    torch.manual_seed(0)
    return build_generator("ssn", "tiny", n_mlp=2).eval()


def test_bins_are_inside_then_rings_by_distance():
    grid = BlockGrid(4, 4, 32, 32)
    bins = distance_bins(grid, 5)
    assert bin_labels() == ["inside", "0-0.5", "0.5-1", "1-2", "> 2"]
    assert torch.equal(bins == 0, grid.block_mask(5))
    d = grid.distance_map(5)
    assert (d[bins == 1] <= 0.5).all() and (d[bins == 2] > 0.5).all()
    assert (d[bins == 3] > 1).all() and (d[bins == 4] > 2).all()
    assert set(distance_bins(grid, 0).unique().tolist()) == {0, 1, 2, 3, 4}


def test_profile_agrees_with_the_distortion_metric(ssn):
    """Same draws: the inside bin is the locality metric's inside, and the outside bins pooled
    by their pixels are its distortion."""
    prof = distance_profile(ssn, 4, seed=3, batch=3)
    ref = distortion_and_locality(ssn, 4, seed=3)
    assert prof.mean_sq[0] == pytest.approx(ref["inside"], rel=1e-5)
    share = torch.tensor(prof.pixel_share[1:], dtype=torch.float64)
    outside = float((torch.tensor(prof.mean_sq[1:], dtype=torch.float64) * share).sum()
                    / share.sum())
    assert outside == pytest.approx(ref["distortion"], rel=1e-5)
    assert sum(prof.pixel_share) == pytest.approx(1) and sum(prof.energy_share) == \
        pytest.approx(1)
    assert prof.pixel_share[0] == pytest.approx(1 / 16)
    assert prof.energy_share[0] == pytest.approx(ref["energy_inside"], rel=0.3)   # pooled


def test_a_local_generator_changes_nothing_outside():
    G = LocalGenerator()
    prof = distance_profile(G, 4, seed=0)
    assert prof.mean_sq[0] > 0 and prof.mean_sq[1:] == [0.0] * 4
    drift = resample_drift(G, 4, repeats=(1, 3))
    assert drift["outside"] == [0.0, 0.0] and min(drift["inside"]) > 0
    graded = graded_changes(G, 4, [0.0, math.pi / 2])
    assert graded["inside"][0] == 0 and graded["inside"][1] > 0 and graded["outside"] == [0, 0]


def test_repeated_resamples_keep_the_other_blocks_and_do_not_accumulate(ssn):
    drift = resample_drift(ssn, 6, repeats=(1, 2, 4), batch=4)
    assert drift["repeats"] == [1, 2, 4] and drift["latent_outside"] == 0.0
    assert all(v > 0 for v in drift["outside"])
    # each k is one fresh draw of the block: no trend, only noise around the same level
    assert max(drift["outside"]) < 5 * min(drift["outside"])
    assert resample_drift(ssn, 6, repeats=(1, 2, 4), batch=6) == drift     # batch-invariant
    with pytest.raises(ValueError, match="positive"):
        resample_drift(ssn, 2, repeats=(0,))


def test_graded_resampling_goes_from_nothing_to_a_full_resample(ssn):
    ts = [0.0, 0.3, math.pi / 2]
    graded = graded_changes(ssn, 4, ts, seed=3)
    assert graded["inside"][0] == 0 and graded["outside"][0] == 0
    assert graded["inside"][1] < graded["inside"][2]
