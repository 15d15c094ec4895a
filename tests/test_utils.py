import numpy as np
import pytest
import torch

from ssnlib import utils
from ssnlib.errors import InputError


def test_get_device_falls_back_to_cpu_and_honours_env(monkeypatch):
    monkeypatch.delenv(utils.DEVICE_ENV, raising=False)
    expected = "cuda" if torch.cuda.is_available() else (
        "mps" if torch.backends.mps.is_available() else "cpu")
    assert utils.get_device().type == expected
    monkeypatch.setenv(utils.DEVICE_ENV, "cpu")
    assert utils.get_device() == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_get_device_refuses_missing_cuda(monkeypatch):
    monkeypatch.setenv(utils.DEVICE_ENV, "cuda")
    with pytest.raises(InputError, match="SSN_DEVICE"):
        utils.get_device()


def test_profiles(monkeypatch):
    monkeypatch.delenv(utils.PROFILE_ENV, raising=False)
    assert utils.get_profile() == "quick"
    assert utils.chapter_device() == torch.device("cpu")
    monkeypatch.setenv(utils.PROFILE_ENV, "full")
    assert utils.get_profile() == "full"
    assert utils.chapter_device() == utils.get_device()
    monkeypatch.setenv(utils.PROFILE_ENV, "fast")
    with pytest.raises(ValueError, match="SSN_PROFILE"):
        utils.get_profile()


def test_seed_everything_reproduces_all_generators():
    def draw(seed):
        g = utils.seed_everything(seed)
        return (torch.randn(3, generator=g), torch.randn(3), np.random.rand(3),  # noqa: NPY002 -- the legacy global state
                utils.random.random())

    a, b, c = draw(5), draw(5), draw(6)
    for x, y in zip(a, b, strict=True):
        assert torch.equal(x, y) if torch.is_tensor(x) else np.all(x == y)
    assert not torch.equal(a[0], c[0]) and not torch.equal(a[1], c[1])
    with pytest.raises(ValueError):
        utils.seed_everything(-1)


def test_image_grid_layout_and_value_mapping():
    images = torch.stack([torch.full((3, 4, 5), v) for v in (-1.0, 0.0, 1.0, 2.0, -3.0)])
    grid = utils.image_grid(images, nrow=3, padding=1, pad_value=0.0)
    # 2 rows x 3 columns of 4x5 tiles, 1 pixel gaps around and between
    assert grid.shape == (2 * 5 + 1, 3 * 6 + 1, 3) and grid.dtype == np.uint8
    tile = lambda r, c: grid[1 + r * 5: 5 + r * 5, 1 + c * 6: 6 + c * 6]  # noqa: E731
    assert (tile(0, 0) == 0).all() and (tile(0, 1) == 128).all() and (tile(0, 2) == 255).all()
    assert (tile(1, 0) == 255).all() and (tile(1, 1) == 0).all()  # clipped
    assert (tile(1, 2) == 0).all()  # empty slot keeps the padding colour
    assert (grid[0] == 0).all()  # padding


def test_image_grid_gray_and_bad_shapes():
    gray = utils.image_grid(torch.zeros(2, 1, 3, 3), value_range=(0, 1), padding=0)
    assert gray.shape == (3, 6, 3) and (gray == 0).all()
    with pytest.raises(ValueError, match="shape"):
        utils.image_grid(torch.zeros(3, 8, 8))
    with pytest.raises(ValueError, match="shape"):
        utils.image_grid(torch.zeros(1, 4, 8, 8))


def test_rounding_prints_a_bound_for_rounding_and_the_value_for_a_real_error():
    assert utils.rounding(3.6e-6, 1e-4) == utils.rounding(-9.9e-5, 1e-4) == "< 1e-04"
    assert utils.rounding(torch.tensor(0.055), 1e-4) == "5.5e-02"
    assert utils.rounding(1e-4, 1e-4) == "1.0e-04"          # the bound itself is not below it


def test_git_state_names_the_commit_that_SSN_COMMIT_gives(monkeypatch):
    """A copy of a checkout (the GPU device tool's) carries a git folder that is not the tree
    that runs: SSN_COMMIT replaces what git would say."""
    from ssnlib.utils import git_state

    monkeypatch.setenv("SSN_COMMIT", "c0ffee")
    assert git_state("ssnlib") == {
        "commit": "c0ffee", "dirty": "not checked (SSN_COMMIT: a copy of this commit's checkout)"}
    monkeypatch.delenv("SSN_COMMIT")
    assert git_state("ssnlib")["commit"] != "c0ffee"


@pytest.mark.parametrize(("text", "native"), [
    ("processor : 0\nflags : fpu sse avx avx2 fma\n", False),                  # AMD EPYC, Zen 3
    ("flags : fpu avx512f avx512_bf16 amx_tile\nflags : fpu avx512f avx512_bf16\n", True),
    ("flags : fpu avx512f amx_bf16 amx_tile\n", True),                          # Sapphire Rapids
    ("Features : fp asimd sve bf16 i8mm\n", True),                               # Neoverse V1
    ("processor : 0\nBogoMIPS : 50.00\n", None),                                 # no flag line
])
def test_cpu_has_native_bf16_reads_the_flags(tmp_path, text, native):
    (tmp_path / "cpuinfo").write_text(text)
    assert utils.cpu_has_native_bf16(tmp_path / "cpuinfo") is native
    assert utils.cpu_has_native_bf16(tmp_path / "missing") is None
