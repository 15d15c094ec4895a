"""BlockGrid: index round trips, boxes, masks that partition the image, coverage, errors."""

import pytest
import torch

from ssnlib.blocks import BlockGrid


@pytest.mark.parametrize("n_h,n_w,h,w", [(4, 4, 32, 32), (2, 4, 64, 32), (3, 1, 12, 7)])
def test_index_position_round_trip_and_boxes(n_h, n_w, h, w):
    grid = BlockGrid(n_h, n_w, h, w)
    assert grid.n_blocks == n_h * n_w
    seen = torch.zeros(h, w, dtype=torch.long)
    for a in range(grid.n_blocks):
        row, col = grid.position(a)
        assert grid.index(row, col) == a
        top, left, bottom, right = grid.box(a)
        assert (bottom - top, right - left) == grid.block_size
        seen[top:bottom, left:right] += 1
        assert grid.block_at(top, left) == a and grid.block_at(bottom - 1, right - 1) == a
    assert (seen == 1).all()                                   # boxes tile the image


def test_block_masks_partition_image_and_match_boxes():
    grid = BlockGrid(4, 2, 32, 16)
    masks = torch.stack([grid.block_mask(a) for a in range(grid.n_blocks)])
    assert masks.dtype == torch.bool and masks.shape == (8, 32, 16)
    assert (masks.sum(0) == 1).all()
    top, left, bottom, right = grid.box(5)
    expected = torch.zeros(32, 16, dtype=torch.bool)
    expected[top:bottom, left:right] = True
    assert torch.equal(masks[5], expected)
    union = grid.block_mask([1, 5])
    assert torch.equal(union, masks[1] | masks[5])
    assert torch.equal(grid.label_map(), sum(a * masks[a].long() for a in range(8)))


@pytest.mark.parametrize("size", [(4, 4), (8, 8), (2, 2), (64, 64), (4, 6)])
def test_masks_at_other_resolutions_partition(size):
    grid = BlockGrid(4, 4, 32, 32)
    masks = torch.stack([grid.block_mask(a, size=size) for a in range(16)])
    assert masks.shape == (16, *size)
    assert (masks.sum(0) == 1).all()
    if size == (8, 8):                                          # 2x2 pixels per block
        assert torch.equal(masks[5], grid.block_mask(5).reshape(8, 4, 8, 4).any(3).any(1))


def test_latent_mask_coverage_and_distance():
    grid = BlockGrid(2, 2, 8, 8)
    assert torch.equal(grid.latent_mask([0, 3]), torch.tensor([[True, False], [False, True]]))
    mask = torch.zeros(8, 8, dtype=torch.bool)
    mask[:4, :2] = True                                         # half of block 0
    assert torch.equal(grid.block_coverage(mask), torch.tensor([[0.5, 0.0], [0.0, 0.0]]))
    cov = grid.block_coverage(grid.block_mask([1, 2], size=(16, 16)))
    assert torch.equal(cov, torch.tensor([[0.0, 1.0], [1.0, 0.0]]))
    dist = grid.distance_map(0)
    assert (dist[grid.block_mask(0)] == 0).all() and (dist[~grid.block_mask(0)] > 0).all()
    assert dist[7, 7].item() == pytest.approx(2 ** 0.5 * 3.5 / 4)   # far corner, block units


def test_clear_errors():
    with pytest.raises(ValueError, match="does not divide"):
        BlockGrid(3, 3, 32, 32)
    with pytest.raises(ValueError, match="positive integer"):
        BlockGrid(0, 4, 32, 32)
    grid = BlockGrid(4, 4, 32, 32)
    with pytest.raises(IndexError):
        grid.position(16)
    with pytest.raises(IndexError):
        grid.block_mask([0, -1])
    with pytest.raises(IndexError):
        grid.index(4, 0)
    with pytest.raises(ValueError, match="does not divide"):
        grid.block_coverage(torch.ones(6, 6))
