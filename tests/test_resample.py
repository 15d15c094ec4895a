import matplotlib
import numpy as np
import pytest
import torch

from ssnlib.blocks import BlockGrid, grid_of
from ssnlib.models import build_generator
from ssnlib.resample import (
    difference,
    draw_blocks,
    heatmap,
    png_bytes,
    resample_blocks,
    resample_chain,
    resample_figure,
    selected_indices,
    selection_mask,
)
from ssnlib.utils import to_uint8

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def G():
    torch.manual_seed(0)
    return build_generator("ssn", "tiny", n_mlp=2).eval()


def gen(seed):
    return torch.Generator().manual_seed(seed)


def changed_blocks(z, z2):
    """Bool [B, n_h, n_w]: which blocks differ in any channel."""
    return (z != z2).any(dim=1)


@pytest.mark.parametrize("blocks, expected", [
    ([1, 2], [1, 2]),
    (5, [5]),
    ([(0, 1), (3, 3)], [1, 15]),
    (torch.tensor([0, 15]), [0, 15]),
    (np.array([4]), [4]),
    ([], []),
])
def test_resample_changes_exactly_the_selected_blocks(G, blocks, expected):
    z = G.sample_z(3, gen(0))
    z2 = resample_blocks(G, z, blocks, gen(1))
    want = torch.zeros(16, dtype=torch.bool)
    want[expected] = True
    assert torch.equal(changed_blocks(z, z2), want.reshape(1, 4, 4).expand(3, -1, -1))
    assert torch.equal(z2, resample_blocks(G, z, blocks, gen(1)))    # seeded: reproducible


def test_boolean_grid_per_sample_and_pixel_mask(G):
    z = G.sample_z(2, gen(0))
    per_sample = torch.zeros(2, 4, 4, dtype=torch.bool)
    per_sample[0, 0, 0] = per_sample[1, 2, 3] = True
    assert torch.equal(changed_blocks(z, resample_blocks(G, z, per_sample, gen(1))), per_sample)
    pixels = torch.zeros(32, 32, dtype=torch.bool)
    pixels[8:16, 8:16] = True                 # exactly block (1, 1) of the 8-pixel blocks
    pixels[0:8, 0:2] = True                   # a quarter of block 0: below the 0.5 threshold
    assert selected_indices(changed_blocks(z, resample_blocks(G, z, pixels, gen(1)))[0]) == [5]
    z_any = resample_blocks(G, z, pixels, gen(1), threshold=1e-6)
    assert selected_indices(changed_blocks(z, z_any)[0]) == [0, 5]


def test_mask_coverage_threshold_and_resolution():
    grid = BlockGrid(2, 2, 32, 32)
    yy, xx = torch.meshgrid(torch.arange(64), torch.arange(64), indexing="ij")
    mask = torch.zeros(64, 64)                # a mask at twice the image resolution
    mask[(yy - 16) ** 2 + (xx - 16) ** 2 < 14 ** 2] = 1.0        # a disc: 59% of block 0
    mask[40:64, 32:64] = 0.5                                      # faint paint: 38% of block 3
    assert torch.allclose(grid.block_coverage(mask), torch.tensor([[0.5947, 0], [0, 0.375]]),
                          atol=1e-4)
    assert selected_indices(selection_mask(grid, mask)) == [0]
    assert selected_indices(selection_mask(grid, mask, threshold=0.3)) == [0, 3]
    assert selected_indices(selection_mask(grid, mask, threshold=0.6)) == []
    assert selection_mask(grid, mask.numpy() > 0).shape == (1, 2, 2)


@pytest.mark.parametrize("blocks, error, match", [
    ([16], IndexError, "block index"),
    ([-1], IndexError, "block index"),
    ([(4, 0)], IndexError, "outside"),
    (["a"], TypeError, "index or a"),
    ([True], TypeError, "index or a"),
    ([[True, False], [False, True]], TypeError, "as a tensor"),    # nested bools: not cells
    (torch.tensor([0.5]), TypeError, "integers"),
    (torch.zeros(30, 30, dtype=torch.bool), ValueError, "does not divide"),
    (torch.zeros(1, 1, 4, 4, dtype=torch.bool), ValueError, "shape"),
    (torch.full((4, 4), 2.0), ValueError, r"\[0, 1\]"),
    (torch.zeros(5, 4, 4, dtype=torch.bool), ValueError, "batch of 3"),
])
def test_clear_errors(G, blocks, error, match):
    with pytest.raises(error, match=match):
        resample_blocks(G, G.sample_z(3, gen(0)), blocks, gen(1))


def test_wrong_z_and_threshold(G):
    with pytest.raises(ValueError, match="z must have shape"):
        resample_blocks(G, torch.zeros(1, 64, 2, 2), [0])
    with pytest.raises(ValueError, match="threshold"):
        resample_blocks(G, G.sample_z(1, gen(0)), [0], threshold=0)
    with pytest.raises(ValueError, match="permutation"):
        resample_chain(G, G.sample_z(1, gen(0)), order=[0, 0, 1])


def test_stylegan2_is_one_block():
    G2 = build_generator("stylegan2", "tiny", n_mlp=1)
    assert grid_of(G2) == BlockGrid(1, 1, 32, 32)
    z = G2.sample_z(2, gen(0))
    assert (resample_blocks(G2, z, [0], gen(1)) != z).all()
    with pytest.raises(IndexError):
        resample_blocks(G2, z, [1], gen(1))


def test_chain_ends_at_a_sample_independent_of_the_start(G):
    """Definition 1: after every block is redrawn once, z shares nothing with z^(0)."""
    n = 4000
    z0 = G.sample_z(n, gen(0))
    order = torch.randperm(16, generator=gen(7)).tolist()
    chain = resample_chain(G, z0, order=order, generator=gen(1))
    assert chain.zs.shape == (17, n, 64, 4, 4) and chain.order == order
    for k, a in enumerate(order, 1):             # step k redraws block a only
        step = changed_blocks(chain.zs[k - 1], chain.zs[k]).reshape(n, 16)
        assert step[:, a].all() and step.sum() == n
    end = chain.zs[-1]
    # the end is a function of the random stream alone: another start gives the same end
    other = resample_chain(G, G.sample_z(n, gen(5)), order=order, generator=gen(1)).zs[-1]
    assert torch.equal(end, other)
    # and it is N(0, I), uncorrelated with the start (|r| < 4 standard errors)
    assert abs(float(end.mean())) < 0.01 and abs(float(end.var()) - 1) < 0.01
    a, b = z0.flatten(1), end.flatten(1)
    r = ((a - a.mean(0)) * (b - b.mean(0))).mean(0) / (a.std(0) * b.std(0))
    assert r.abs().max() < 4 * 4 / n ** 0.5 and abs(float(r.mean())) < 4 / (n * 1024) ** 0.5


def test_chain_renders_frames_under_fixed_noise(G):
    chain = resample_chain(G, G.sample_z(1, gen(0)), generator=gen(1), render=True)
    assert chain.images.shape == (17, 1, 3, 32, 32)
    assert chain.order == list(range(16))
    assert not torch.equal(chain.images[0], chain.images[-1])
    noise = G.make_noise(2, gen(3))
    z = G.sample_z(2, gen(0))
    two = resample_chain(G, z, generator=gen(1), render=True, noise=noise)
    with torch.no_grad():                     # frames are the batch's own images, same noise
        assert torch.allclose(two.images[0], G(z, noise=noise), atol=1e-5)
        assert torch.allclose(two.images[9], G(two.zs[9], noise=noise), atol=1e-5)


def test_same_noise_empty_selection_same_image(G):
    z, noise = G.sample_z(1, gen(0)), G.make_noise(1, gen(2))
    with torch.no_grad():
        x = G(z, noise=noise)
        assert torch.equal(G(resample_blocks(G, z, [], gen(1)), noise=noise), x)
        assert not torch.equal(G(resample_blocks(G, z, [6], gen(1)), noise=noise), x)


def test_render_helpers():
    grid = BlockGrid(2, 2, 32, 32)
    before = torch.zeros(3, 32, 32)
    after = before.clone()
    after[:, :16, 16:] = 1.0
    d = difference(before, after)
    assert d.shape == (32, 32) and float(d.max()) == 1.0
    heat = heatmap(d)
    assert heat.shape == (32, 32, 3) and heat.dtype == np.uint8
    assert (heat[0, 20] > heat[20, 0]).any()
    rgb = to_uint8(before)
    assert rgb.shape == (32, 32, 3) and int(rgb[0, 0, 0]) == 128
    plain = np.asarray(draw_blocks(rgb, grid, [], scale=4, lines=False))
    marked = np.asarray(draw_blocks(rgb, grid, [1], scale=4))
    assert marked.shape == (128, 128, 3)
    assert (marked[10:50, 74:118] != plain[10:50, 74:118]).all(-1).all()   # block 1 tinted
    assert (marked[74:118, 10:50] == plain[74:118, 10:50]).all()          # block 2 not
    assert png_bytes(marked).startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="does not match"):
        draw_blocks(rgb[:16], grid)
    with pytest.raises(ValueError, match="differ"):
        difference(before, after[:, :16])
    fig = resample_figure(before, after, grid, blocks=[1])
    assert len(fig.axes) == 4                  # three panels and the colour bar
    matplotlib.pyplot.close(fig)


def test_cli_seed_and_mask(tmp_path, capsys):
    from PIL import Image

    from ssnlib import cli

    assert cli.main(["resample", "--seed", "3", "--blocks", "1,2:2", "--out",
                     str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    assert "UNTRAINED" in out and "blocks [1, 10]" in out
    names = {p.name for p in (tmp_path / "a").iterdir()}
    assert names == {"before.png", "after.png", "diff.png", "figure.png", "latents.pt"}
    saved = torch.load(tmp_path / "a" / "latents.pt", weights_only=True)
    assert selected_indices(changed_blocks(saved["z"], saved["z_after"])[0]) == [1, 10]
    mask = np.zeros((64, 64), np.uint8)
    mask[48:, :16] = 255                      # bottom-left block at twice the resolution
    Image.fromarray(mask).save(tmp_path / "mask.png")
    assert cli.main(["resample", "--seed", "3", "--mask", str(tmp_path / "mask.png"),
                     "--out", str(tmp_path / "b")]) == 0
    assert "blocks [12]" in capsys.readouterr().out
    before = np.asarray(Image.open(tmp_path / "b" / "before.png"))
    assert (before == np.asarray(Image.open(tmp_path / "a" / "before.png"))).all()


def test_cli_image_and_errors(tmp_path, capsys):
    from PIL import Image

    from ssnlib import cli

    photo = np.random.default_rng(0).integers(0, 255, (48, 40, 3), dtype=np.uint8)
    Image.fromarray(photo).save(tmp_path / "photo.png")
    assert cli.main(["resample", "--image", str(tmp_path / "photo.png"), "--blocks", "0",
                     "--steps", "2", "--out", str(tmp_path / "c")]) == 0
    assert "PSNR" in capsys.readouterr().out
    assert Image.open(tmp_path / "c" / "input.png").size == (32, 32)
    for bad, message in ((["--blocks", "16"], "block index"), (["--blocks", "x"], "bad block"),
                         (["--blocks", "1", "--ckpt", str(tmp_path / "none.pt")], "not found")):
        assert cli.main(["resample", "--seed", "0", *bad, "--out", str(tmp_path / "d")]) == 2
        assert message in capsys.readouterr().err
    assert cli.main(["resample", "--image", str(tmp_path / "none.png"), "--blocks", "1",
                     "--out", str(tmp_path / "d")]) == 2


def test_cli_checkpoint_and_seed_convention(tmp_path, capsys):
    """``--ckpt`` loads the trainer's EMA generator; ``--seed S`` shows ``ssn sample``'s image S."""
    from PIL import Image

    from ssnlib import cli
    from ssnlib.train import load_config, train
    from ssnlib.train.sample import load_generator, sample_images

    train(load_config(None, [
        "model.overrides.channel_max=8", "model.overrides.z_dim=8", "model.overrides.w_dim=8",
        "model.overrides.n_mlp=1", "model.d_overrides.channel_max=8", "data.length=8",
        "batch=2", "steps=1", "progress=false", "tensorboard=false", "n_samples=2",
        f"run_dir={tmp_path / 'run'}"]))
    assert cli.main(["resample", "--ckpt", str(tmp_path / "run"), "--seed", "5", "--blocks",
                     "3", "--out", str(tmp_path / "out")]) == 0
    assert "UNTRAINED" not in capsys.readouterr().out
    expected = to_uint8(sample_images(load_generator(tmp_path / "run"), [5])[0])
    assert (np.asarray(Image.open(tmp_path / "out" / "before.png")) == expected).all()


def test_graded_resampling_keeps_the_prior_and_spans_no_change_to_full(G):
    """cos(t) z_a + sin(t) z_fresh: t = 0 keeps z, t = pi/2 is the full resample bit for bit,
    and every t leaves the chosen block N(0, I) (mean 0, variance 1 over many draws) with its
    correlation to the old block equal to cos(t)."""
    import math

    from ssnlib.resample import change_locality
    z = G.sample_z(2000, torch.Generator().manual_seed(0))
    assert torch.equal(resample_blocks(G, z, [3], torch.Generator().manual_seed(1), t=0.0), z)
    full = resample_blocks(G, z, [3], torch.Generator().manual_seed(1))
    assert torch.equal(resample_blocks(G, z, [3], torch.Generator().manual_seed(1),
                                       t=math.pi / 2), full)
    t = 0.6
    moved = resample_blocks(G, z, [3], torch.Generator().manual_seed(1), t=t)
    a, b = moved[:, :, 0, 3].flatten(), z[:, :, 0, 3].flatten()
    assert abs(a.mean()) < 0.01 and abs(a.var() - 1) < 0.02
    assert abs(torch.corrcoef(torch.stack([a, b]))[0, 1] - math.cos(t)) < 0.01
    assert torch.equal(moved[:, :, 1:], z[:, :, 1:])             # the other blocks are kept
    # locality of a change confined to block 0: all of it inside
    before = torch.zeros(3, 32, 32)
    after = before.clone()
    after[:, :8, :8] = 0.5
    where = change_locality(before, after, G.grid, [0])
    assert where == {"inside": 0.5, "outside": 0.0, "energy_inside": 1.0}
