"""The global latent u beside the grid (ours, not the paper's): it rides last in the noise list,
so whatever holds the noise when a block is redrawn holds u; a model grown from one without u
draws exactly its images; eq. 2 does not charge what u carries."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ssnlib.cli import main
from ssnlib.losses import distortion_penalty
from ssnlib.models import build_generator
from ssnlib.resample import redraw_global, resample_blocks
from ssnlib.transfer import TransferReport, init_state, load_init
from ssnlib.utils import to_uint8
from ssnlib.widgets import BlockPicker
from ssnlib.zoo import load_any

WIDTH, U = 16, 8


def ssn(global_dim=U, seed=0, **kw):
    torch.manual_seed(seed)
    return build_generator("ssn", "tiny", z_dim=WIDTH, w_dim=WIDTH, channel_max=WIDTH,
                           n_mlp=2, global_dim=global_dim, **kw)


def opened(G, gain=1.0):
    """G with u's gain set, so u changes the image (a fresh one starts at 0)."""
    with torch.no_grad():
        G.global_latent.gain.fill_(gain)
    return G


def test_u_is_the_noise_lists_last_entry_and_none_draws_it_as_make_noise_does():
    G = opened(ssn())
    plain = ssn(global_dim=0)
    assert G.num_noise == plain.num_noise + 1
    noise = G.make_noise(3, torch.Generator().manual_seed(5))
    assert noise[-1].shape == (3, U, 1, 1)
    assert [n.shape for n in noise[:-1]] == [n.shape for n in plain.make_noise(3)]
    z = G.sample_z(3, torch.Generator().manual_seed(1))
    drawn = G(z, noise=None, generator=torch.Generator().manual_seed(5))
    assert torch.equal(drawn, G(z, noise=noise))
    const = G(z, noise="const")
    assert torch.equal(const, G(z, noise=[*G.noises.as_list(), G.global_latent.const]))


def test_u_changes_the_whole_image_and_a_block_resample_keeps_it():
    G = opened(ssn())
    gen = torch.Generator().manual_seed(0)
    z, noise = G.sample_z(2, gen), G.make_noise(2, gen)
    other_u = [*noise[:-1], torch.randn(noise[-1].shape, generator=gen)]
    with torch.no_grad():
        base, new_u = G(z, noise=noise), G(z, noise=other_u)
        moved = G(resample_blocks(G, z, 5, gen), noise=noise)
    inside = G.grid.block_mask(5)
    change_u = (new_u - base).abs().mean(1)[0]
    assert change_u[inside].mean() > 0 and change_u[~inside].mean() > 0   # u is global
    # the resample keeps u: with u redrawn too the change outside the block is far larger
    kept = (moved - base).abs().mean(1)[0][~inside].mean()
    assert kept < change_u[~inside].mean()


def start_without_u(tmp_path):
    """An SSN without u and its ``model.init`` file (no discriminator): (start, path)."""
    start = ssn(global_dim=0, seed=1)
    path = tmp_path / "init.pt"
    torch.save(init_state(start, None, {}, TransferReport("test", "SSNGenerator"), "test"), path)
    return start, path


def test_a_grown_model_draws_exactly_the_images_of_its_start(tmp_path):
    start, path = start_without_u(tmp_path)
    G = ssn(seed=2)
    assert "global latent u fresh (gain 0)" in load_init(path, G, torch.nn.Linear(1, 1))
    assert torch.equal(G.global_latent.gain.detach(), torch.zeros(1))
    gen = torch.Generator().manual_seed(3)
    z, noise = G.sample_z(4, gen), G.make_noise(4, gen)
    with torch.no_grad():
        assert torch.equal(G(z, noise=noise), start(z, noise=noise[:-1]))


def test_a_nonzero_starting_gain_lets_u_act_from_the_start(tmp_path):
    start, path = start_without_u(tmp_path)
    G = ssn(seed=2, global_gain=0.25)
    assert "u fresh (gain 0.25)" in load_init(path, G, torch.nn.Linear(1, 1))
    gen = torch.Generator().manual_seed(3)
    z, noise = G.sample_z(2, gen), G.make_noise(2, gen)
    with torch.no_grad():
        grown, other_u = G(z, noise=noise), G(z, noise=redraw_global(G, noise, gen))
        assert not torch.equal(grown, start(z, noise=noise[:-1]))
    assert (grown - other_u).abs().mean() > 1e-4


def test_eq2_does_not_charge_what_u_carries():
    """Blocks whose w does not depend on z (the grid's last mapping layer zeroed) leave only u
    to vary the image: the images differ from u to u, and eq. 2, holding u, is exactly 0."""
    G = opened(ssn())
    with torch.no_grad():
        G.style[-1].weight.zero_()
    gen = torch.Generator().manual_seed(0)
    z = G.sample_z(4, gen)
    penalty = distortion_penalty(G, z, generator=gen, resamples=2)
    assert penalty.item() == 0.0
    with torch.no_grad():
        images = G(z, noise=G.make_noise(4, gen))
    assert (images[0] - images[1]).abs().mean() > 1e-3


def test_truncation_pulls_the_grid_and_leaves_u():
    G = opened(ssn())
    gen = torch.Generator().manual_seed(0)
    z, noise = G.sample_z(2, gen), G.make_noise(2, gen)
    centre = G.mean_w(256, torch.Generator().manual_seed(1))
    with torch.no_grad():
        squeezed = G(z, noise=noise, truncation=0.0, truncation_w=centre)
        other_u = G(z, noise=[*noise[:-1], noise[-1].flip(0)], truncation=0.0,
                    truncation_w=centre)
    assert (squeezed - other_u).abs().mean() > 1e-3       # u still varies the image


@pytest.mark.parametrize("bad", [-1, 2.5, True])
def test_a_bad_global_dim_is_a_one_line_error(bad):
    with pytest.raises(ValueError, match="global_dim must be a non-negative integer"):
        ssn(global_dim=bad)


def test_a_u_of_the_wrong_shape_names_it():
    G = ssn()
    noise = G.make_noise(2)
    noise[-1] = torch.randn(2, U + 1, 1, 1)
    with pytest.raises(ValueError, match="global latent u"):
        G(G.sample_z(2), noise=noise)


def test_redraw_global_changes_only_u_and_grades_like_a_block():
    G = opened(ssn())
    gen = torch.Generator().manual_seed(0)
    noise = G.make_noise(2, gen)
    new = redraw_global(G, noise, torch.Generator().manual_seed(1))
    assert all(a is b for a, b in zip(new[:-1], noise[:-1], strict=True))
    assert not torch.equal(new[-1], noise[-1])
    assert torch.equal(redraw_global(G, noise, gen, t=0.0)[-1], noise[-1])
    with pytest.raises(ValueError, match="no global latent u"):
        redraw_global(ssn(global_dim=0), noise[:-1])
    with pytest.raises(ValueError, match="noise entries"):
        redraw_global(G, noise[:-1])


def test_the_block_picker_offers_new_u_only_with_a_global_latent():
    G = opened(ssn())
    picker = BlockPicker(G, seed=0, display=32)
    z, before = picker.z.clone(), picker.image.clone()
    picker.global_button.click()
    assert torch.equal(picker.z, z) and not torch.equal(picker.image, before)
    picker.undo_button.click()
    assert torch.equal(picker.image, before)
    assert BlockPicker(ssn(global_dim=0), seed=0, display=32).global_button is None


EXPORTED_U = (Path(__file__).resolve().parents[1]
              / "data/studies/faces32-ssn-global/models/faces32-ssn-ld200x4-u")


@pytest.mark.parametrize("blocks", [[], ["--blocks", "2:1"]], ids=["u alone", "u and a block"])
def test_ssn_resample_new_u_redraws_u_and_only_the_blocks_asked_for(tmp_path, blocks):
    """`ssn resample --new-u` on an exported generator with u: the noise maps and every block
    not asked for are kept, u is new, and after.png is that generator's image of the new
    latents (the resample seed's draws: the blocks first, then u)."""
    out = tmp_path / "r"
    assert main(["resample", "--ckpt", str(EXPORTED_U), "--seed", "3", "--new-u", *blocks,
                 "--out", str(out), "--device", "cpu"]) == 0
    saved = torch.load(out / "latents.pt", weights_only=True)
    z, z_after, noise, noise_after = (saved[k] for k in ("z", "z_after", "noise",
                                                         "noise_after"))
    G = load_any(EXPORTED_U, device="cpu")
    assert saved["blocks"] == ([G.grid.index(2, 1)] if blocks else [])
    moved = (z_after != z).any(1)[0]                                   # [n_h, n_w]
    assert moved.flatten().nonzero().flatten().tolist() == saved["blocks"]
    assert all(torch.equal(a, b) for a, b in zip(noise[:-1], noise_after[:-1], strict=True))
    assert not torch.equal(noise[-1], noise_after[-1])
    gen = torch.Generator().manual_seed(0)                             # --resample-seed 0
    expect_z = resample_blocks(G, z, saved["blocks"], gen) if blocks else z
    assert torch.equal(expect_z, z_after)
    assert torch.equal(redraw_global(G, noise, gen)[-1], noise_after[-1])
    with torch.no_grad():
        expected = to_uint8(G(z_after, noise=noise_after)[0].float())
    assert np.array_equal(np.asarray(Image.open(out / "after.png")), expected)
