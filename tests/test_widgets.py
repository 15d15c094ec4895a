from pathlib import Path

import ipywidgets as widgets
import numpy as np
import pytest
import torch

from ssnlib.models import build_generator
from ssnlib.widgets import NEEDS_KERNEL, BlockPicker


@pytest.fixture(scope="module")
def G():
    torch.manual_seed(0)
    return build_generator("ssn", "tiny", n_mlp=2).eval()


def changed(z, z2):
    return torch.nonzero((z != z2).any(1).flatten()).flatten().tolist()


def test_select_resample_undo_reset(G):
    p = BlockPicker(G, seed=3)
    assert isinstance(p, widgets.VBox) and len(p.cells) == 16
    z0, png0 = p.z, bytes(p.current.value)
    assert png0.startswith(b"\x89PNG") and p.undo_button.disabled
    p.cells[1].click()                               # a click on block 1
    assert p.selected == [1]
    p.cells[2].click()
    p.cells[2].click()                               # a second click deselects
    assert p.selected == [1]
    p.select([(0, 1), (2, 2)])                       # (row, col) cells: blocks 1 and 10
    assert p.selected == [1, 10]
    png_selected = bytes(p.current.value)
    assert png_selected != png0                      # the selection is drawn on the image
    p.resample_button.click()
    assert changed(z0, p.z) == [1, 10]               # exactly the selected blocks
    assert bytes(p.current.value) != png_selected and not p.undo_button.disabled
    assert p.before.value != p.change.value
    z1, png1 = p.z, bytes(p.current.value)
    p.resample_button.click()
    assert changed(z1, p.z) == [1, 10] and bytes(p.current.value) != png1
    p.undo_button.click()
    assert torch.equal(p.z, z1) and bytes(p.current.value) == png1    # undo restores exactly
    p.undo_button.click()
    assert torch.equal(p.z, z0) and bytes(p.current.value) == png_selected
    assert p.undo_button.disabled
    p.select([5])
    p.resample_button.click()
    p.reset_button.click()
    assert torch.equal(p.z, z0) and p.selected == [] and bytes(p.current.value) == png0
    assert "0 of 16 blocks" in p.status.value


def test_new_image_and_determinism(G):
    a, b = BlockPicker(G, seed=1), BlockPicker(G, seed=1)
    assert torch.equal(a.z, b.z) and bytes(a.current.value) == bytes(b.current.value)
    for p in (a, b):
        p.new_button.click()
        p.select(torch.eye(4, dtype=torch.bool))     # a boolean grid: the diagonal
        p.resample_button.click()
    assert torch.equal(a.z, b.z) and bytes(a.current.value) == bytes(b.current.value)
    assert a.selected == [0, 5, 10, 15]
    a.undo_button.click()
    a.undo_button.click()                            # before New image
    assert torch.equal(a.z, BlockPicker(G, seed=1).z)


def test_noise_is_kept_and_given_latent_used(G):
    gen = torch.Generator().manual_seed(0)
    z, noise = G.sample_z(1, gen)[0], G.make_noise(1, gen)
    p = BlockPicker(G, z=z, noise=noise, display=64)
    assert torch.equal(p.z[0], z) and p.scale == 2
    with torch.no_grad():
        assert torch.equal(p.image, G(z[None], noise=noise)[0])
    p.select([0])
    p.resample_button.click()
    assert p.noise[0] is noise[0]
    p.select([])
    p.resample_button.click()                        # nothing selected: a hint, no step
    assert "select one or more" in p.status.value and len(p._history) == 1


def test_other_grids_and_stylegan2():
    torch.manual_seed(0)
    G = build_generator("ssn", "tiny", grid=(2, 4), n_mlp=1).eval()
    p = BlockPicker(G, display=128)
    assert len(p.cells) == 8 and p.cells[5].layout.grid_area == "2 / 2 / 3 / 3"
    mask = np.zeros((32, 32), bool)
    mask[16:, 24:] = True                            # a pixel mask over the last block
    p.select(mask)
    assert p.selected == [7]
    G2 = build_generator("stylegan2", "tiny", n_mlp=1).eval()
    p2 = BlockPicker(G2)
    assert len(p2.cells) == 1 and "one global z" in p2.status.value
    z0 = p2.z
    p2.select([0])
    p2.resample_button.click()
    assert (p2.z != z0).all()


def test_bad_latent(G):
    with pytest.raises(ValueError, match="batch 1"):
        BlockPicker(G, z=G.sample_z(2))
    with pytest.raises(ValueError, match="z must have shape"):
        BlockPicker(G, z=torch.zeros(1, 3, 4, 4))


def test_the_saved_widget_says_it_needs_a_kernel_and_the_live_one_hides_that(G):
    """The static book renders saved widget state with no kernel: the note saying so is the
    picker's last line, hidden by its own layout (a live notebook) and shown by the book's
    stylesheet (tests/browser/check_book.mjs checks it is visible there)."""
    note = BlockPicker(G, seed=0).children[-1]
    assert "ssn-needs-kernel" in note._dom_classes and note.layout.display == "none"
    assert note.value == NEEDS_KERNEL and "make lab" in NEEDS_KERNEL
    css = (Path(__file__).resolve().parents[1] / "jupyter_book/_js/book.css").read_text()
    assert ".ssn-needs-kernel {\n  display: block !important;" in css
