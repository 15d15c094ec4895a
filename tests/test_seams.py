"""The seam contrast: steps across block borders over the steps beside them."""

import pytest
import torch

from ssnlib.blocks import BlockGrid
from ssnlib.metrics import border_steps, seam_contrast
from ssnlib.metrics.evaluate import evaluate
from ssnlib.metrics.reference import source_batches
from ssnlib.metrics.sampling import generated_batches
from ssnlib.models import build_generator

GRID = BlockGrid(2, 2, 8, 8)                   # 2 x 2 blocks of 4 x 4 pixels


def ramp(size: int = 8) -> torch.Tensor:
    """[1, 3, size, size], rising by 1 per column: every horizontal step is 1."""
    return torch.arange(size, dtype=torch.float64).expand(1, 3, size, size).clone()


def test_an_image_that_ignores_the_grid_scores_one():
    assert seam_contrast(ramp(), GRID) == pytest.approx(1.0)
    assert seam_contrast(ramp().transpose(-1, -2), GRID) == pytest.approx(1.0)
    # any resolution: a pixel belongs to the block that holds its centre
    assert seam_contrast(ramp(16), GRID) == pytest.approx(1.0)
    smooth = torch.randn(4, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    smooth = torch.nn.functional.interpolate(smooth, size=(32, 32), mode="bicubic")
    assert seam_contrast(smooth, BlockGrid(4, 4, 32, 32)) == pytest.approx(1.0, abs=0.15)


def test_a_jump_at_the_border_counts_against_the_pairs_beside_it():
    image = ramp()
    image[..., 4:] += 2.0                 # a step of 2 more between columns 3 and 4
    across, beside = border_steps(image, GRID)
    # across: 8 horizontal pairs stepping 3, 8 vertical pairs stepping 0
    # beside: 16 horizontal pairs (columns 2|3 and 4|5) stepping 1, 16 vertical stepping 0
    torch.testing.assert_close(across, torch.tensor([1.5], dtype=torch.float64))
    torch.testing.assert_close(beside, torch.tensor([0.5], dtype=torch.float64))
    assert seam_contrast(image, GRID) == pytest.approx(3.0)


def test_blocks_painted_apart_score_far_above_one():
    gen = torch.Generator().manual_seed(1)
    grid = BlockGrid(4, 4, 32, 32)
    colours = torch.rand(8, 3, 4, 4, generator=gen)                      # one per block
    painted = colours.repeat_interleave(8, -1).repeat_interleave(8, -2)   # [8, 3, 32, 32]
    shaded = painted + 0.01 * torch.rand(8, 3, 32, 32, generator=gen)
    assert seam_contrast(shaded, grid) > 10


def test_the_seam_contrast_names_a_bad_input():
    with pytest.raises(ValueError, match=r"1x1 blocks"):
        seam_contrast(ramp(), BlockGrid(1, 1, 8, 8))
    with pytest.raises(ValueError, match=r"\(3, 8, 8\)"):
        seam_contrast(ramp()[0], GRID)


def test_batches_give_the_contrast_of_their_union():
    images = torch.rand(6, 3, 8, 8, generator=torch.Generator().manual_seed(2))
    assert seam_contrast(iter(images.split(4)), GRID) == pytest.approx(seam_contrast(images, GRID))


def test_ssn_eval_reports_the_samples_and_the_datas_seams():
    G = build_generator("ssn", "tiny", channel_max=8, z_dim=8, w_dim=8).eval()
    out = evaluate(G, ["seams"], num=6, seed=3, batch=4, ref="faces", ref_num=5)["seams"]
    assert out["seam_contrast"] == pytest.approx(
        seam_contrast(generated_batches(G, 6, seed=3, batch=4), G.grid))
    data = source_batches("faces", 5, G.resolution, workers=1)
    assert out["data_seam_contrast"] == pytest.approx(seam_contrast(data, G.grid))
    assert 0.5 < out["data_seam_contrast"] < 2
    with pytest.raises(ValueError, match="seam contrast"):
        evaluate(build_generator("stylegan2", "tiny"), ["seams"], num=2)
