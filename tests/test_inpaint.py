"""Inpainting with the same generator (ssnlib.resample.inpaint) and its border jump."""

import torch

from ssnlib.blocks import BlockGrid, grid_of
from ssnlib.models import build_generator
from ssnlib.resample import resample_blocks
from ssnlib.resample.inpaint import border_jump, hole_pixels, inpaint_blocks


def _setup(blocks, n=2):
    torch.manual_seed(0)
    G = build_generator("ssn", "tiny", n_mlp=2).eval().requires_grad_(False)
    gen = torch.Generator().manual_seed(1)
    z, noise = G.sample_z(n, gen), G.make_noise(n, gen)
    with torch.no_grad():
        image = G(z, noise=noise)
    return G, z, noise, image, resample_blocks(G, z, blocks, gen)


def test_outside_is_kept_exactly_and_the_search_fits_the_kept_pixels():
    G, z, noise, image, start = _setup([5, 6])
    weights = [p.clone() for p in G.parameters()]
    result = inpaint_blocks(G, image, start, noise, [5, 6], steps=60, lr=0.05)
    hole = hole_pixels(grid_of(G), [5, 6])[0]
    assert torch.equal(result.image[..., ~hole], image[..., ~hole])    # outside: the old pixels
    assert torch.equal(result.image[..., hole], result.fill[..., hole])  # hole: the fill
    assert result.context_error[-1] < 0.5 * result.context_error[0]
    assert all(torch.equal(a, b) for a, b in zip(weights, G.parameters(), strict=True))


def test_starting_at_the_images_own_latent_returns_it():
    G, z, noise, image, _ = _setup([5])
    result = inpaint_blocks(G, image, z, noise, [5], steps=20, prior_weight=0.0)
    assert result.context_error[0] == 0.0
    torch.testing.assert_close(result.image, image, atol=1e-5, rtol=0)


def test_per_sample_holes_and_batch_independence():
    # float64: in float32 a batch's kernels round differently from a single sample's, and
    # ten Adam steps grow that to 4e-4 on some CPUs (seen under SSE4.1 kernels)
    G, z, noise, image, _ = _setup([0], n=2)
    G, z, image = G.double(), z.double(), image.double()
    noise = [n.double() for n in noise]
    per_sample = torch.zeros(2, 4, 4, dtype=torch.bool)
    per_sample[0, 0, 0] = per_sample[1, 3, 3] = True
    start = resample_blocks(G, z, per_sample, torch.Generator().manual_seed(2))
    both = inpaint_blocks(G, image, start, noise, per_sample, steps=10)
    one = inpaint_blocks(G, image[1:], start[1:], [n[1:] for n in noise], per_sample[1:],
                         steps=10)
    torch.testing.assert_close(both.image[1:], one.image, atol=1e-9, rtol=1e-7)
    holes = hole_pixels(grid_of(G), per_sample)
    assert holes.shape == (2, 32, 32) and holes[0, :8, :8].all() and holes[1, 24:, 24:].all()
    assert holes.sum((1, 2)).tolist() == [64, 64]


def test_border_jump_counts_only_pairs_across_the_border():
    grid = BlockGrid(2, 2, 4, 4)            # 2 x 2 blocks of 2 x 2 pixels
    image = torch.zeros(1, 3, 4, 4)
    image[..., :2, :2] = 1.0                 # block 0 bright, the rest dark
    # block 0's border: 2 horizontal + 2 vertical pairs, each a jump of 1
    assert border_jump(image, grid, [0]).item() == 1.0
    # a jump inside the selected region does not count, nor one far outside it
    flat = torch.zeros(1, 3, 4, 4)
    flat[..., :, 3] = 1.0                    # a step between columns 2 and 3
    assert border_jump(flat, grid, [0]).item() == 0.0
    # blocks 0 and 1 selected: the step at column 2|3 lies inside the region
    assert border_jump(flat, grid, [0, 1]).item() == 0.0
