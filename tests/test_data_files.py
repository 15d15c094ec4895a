"""Image folders, zips, packed archives and `ssn prepare-data`, including every bad input."""

import json
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from ssnlib.cli import main
from ssnlib.data import (
    BadImageError,
    ImageConversionWarning,
    ImageFolderDataset,
    PackedDataset,
    Skylines,
    pack_folder,
)

R = 16


def _rgb(seed: int, h: int = R, w: int = R) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


@pytest.fixture
def good_folder(tmp_path):
    """Three RGB PNGs at the target size, one in a subfolder, plus a non-image file."""
    folder = tmp_path / "good"
    (folder / "sub").mkdir(parents=True)
    arrays = {"a.png": _rgb(0), "b.png": _rgb(1), "sub/c.PNG": _rgb(2)}
    for name, array in arrays.items():
        Image.fromarray(array).save(folder / name)
    (folder / "notes.txt").write_text("not an image, and not named like one")
    return folder, arrays


def _tensor(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(array).permute(2, 0, 1).float() / 127.5 - 1


def test_folder_dataset_exact_pixels_sorted_and_xflip(good_folder):
    folder, arrays = good_folder
    ds = ImageFolderDataset(folder, R)
    assert ds.source.names == ["a.png", "b.png", "sub/c.PNG"]
    for i, name in enumerate(ds.source.names):
        assert torch.equal(ds[i], _tensor(arrays[name]))
    flipped = ImageFolderDataset(folder, R, xflip=True)
    assert len(flipped) == 6
    assert torch.equal(flipped[4], _tensor(arrays["b.png"]).flip(-1))


def test_round_trip_folder_to_archive_to_dataset(good_folder, tmp_path):
    folder, arrays = good_folder
    report = pack_folder(folder, tmp_path / "arch", R, progress=False)
    assert report.count == 3 and not report.skipped
    ds = PackedDataset(tmp_path / "arch")
    assert len(ds) == 3 and ds.resolution == R
    for i, name in enumerate(sorted(arrays)):
        assert torch.equal(ds[i], _tensor(arrays[name]))
    assert torch.equal(PackedDataset(tmp_path / "arch", xflip=True)[3],
                       _tensor(arrays["a.png"]).flip(-1))
    manifest = json.loads((tmp_path / "arch" / "dataset.json").read_text())
    assert manifest["count"] == 3 and manifest["source"] == str(folder)


def test_zip_source_and_formats(tmp_path):
    """JPEG and WebP decode; a zip works like a folder; non-square images are centre-cropped."""
    wide = _rgb(3, R, 2 * R)
    Image.fromarray(wide).save(tmp_path / "wide.png")
    Image.fromarray(_rgb(4)).save(tmp_path / "x.jpg", quality=95)
    Image.fromarray(_rgb(5)).save(tmp_path / "y.webp", lossless=True)
    with zipfile.ZipFile(tmp_path / "images.zip", "w") as z:
        for name in ("wide.png", "x.jpg", "y.webp"):
            z.write(tmp_path / name, f"dir/{name}")
    ds = ImageFolderDataset(tmp_path / "images.zip", R)
    assert len(ds) == 3
    assert torch.equal(ds[0], _tensor(wide[:, R // 2:R // 2 + R]))
    assert torch.equal(ds[2], _tensor(_rgb(5)))  # lossless WebP
    assert ds[1].shape == (3, R, R)
    big = ImageFolderDataset(tmp_path / "images.zip", R // 2)[2]  # Lanczos downsizing
    assert big.shape == (3, R // 2, R // 2)


def _bad_file(folder, kind: str) -> str:
    """Write one bad file of the given kind into `folder`; return its name."""
    if kind == "corrupt":
        data = (folder / "a.png").read_bytes()
        (folder / "corrupt.png").write_bytes(data[: len(data) // 2])
        return "corrupt.png"
    if kind == "not_an_image":
        (folder / "text.jpg").write_text("hello")
        return "text.jpg"
    if kind == "too_small":
        Image.fromarray(_rgb(9, R - 1, 40)).save(folder / "small.png")
        return "small.png"
    if kind == "transparent":
        rgba = np.dstack([_rgb(9), np.full((R, R), 128, np.uint8)])
        Image.fromarray(rgba, "RGBA").save(folder / "alpha.png")
        return "alpha.png"
    if kind == "float":
        Image.fromarray(np.ones((R, R), np.float32), "F").save(folder / "float.tiff.png", "TIFF")
        return "float.tiff.png"
    raise ValueError(kind)


BAD = ("corrupt", "not_an_image", "too_small", "transparent", "float")


@pytest.mark.parametrize("kind", BAD)
def test_bad_input_is_refused_naming_the_file(good_folder, tmp_path, kind, capsys):
    folder, _ = good_folder
    name = _bad_file(folder, kind)
    with pytest.raises(BadImageError, match=name) as info:
        pack_folder(folder, tmp_path / "arch", R, progress=False)
    assert info.value.name == name
    # Nothing is left behind: no archive and no temporary directory.
    assert [p.name for p in tmp_path.iterdir()] == ["good"]
    with pytest.raises(BadImageError, match=name):
        ds = ImageFolderDataset(folder, R)
        ds[ds.source.names.index(name)]
    assert main(["prepare-data", str(folder), str(tmp_path / "arch"), "--resolution", str(R)]) == 2
    assert name in capsys.readouterr().err


def test_skip_bad_skips_and_reports(good_folder, tmp_path, capsys):
    folder, arrays = good_folder
    names = [_bad_file(folder, kind) for kind in BAD]
    args = ["prepare-data", str(folder), str(tmp_path / "arch"), "--resolution", str(R),
            "--skip-bad"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"skipped {len(BAD)} bad file(s)" in out and all(n in out for n in names)
    ds = PackedDataset(tmp_path / "arch")
    assert len(ds) == 3 and torch.equal(ds[2], _tensor(arrays["sub/c.PNG"]))
    assert len(ds.manifest["skipped"]) == len(BAD)
    assert main(args) == 2  # the archive exists now: refuse to overwrite silently
    assert "exists" in capsys.readouterr().err
    assert main(args + ["--overwrite"]) == 0


def test_grayscale_16bit_and_opaque_alpha_are_converted(tmp_path):
    gray = np.random.default_rng(0).integers(0, 256, (R, R), dtype=np.uint8)
    Image.fromarray(gray, "L").save(tmp_path / "gray.png")
    deep = gray.astype(np.uint16) * 256 + 200  # 16 bits whose top byte is `gray`
    Image.fromarray(deep).save(tmp_path / "deep.png")
    Image.fromarray(np.dstack([_rgb(1), np.full((R, R), 255, np.uint8)]), "RGBA").save(
        tmp_path / "opaque.png")
    ds = ImageFolderDataset(tmp_path, R)
    assert ds.source.names == ["deep.png", "gray.png", "opaque.png"]
    expected = _tensor(np.repeat(gray[..., None], 3, axis=2))
    for i, note in ((0, "16-bit grayscale"), (1, "grayscale")):
        with pytest.warns(ImageConversionWarning, match=note):
            assert torch.equal(ds[i], expected)
    assert torch.equal(ds[2], _tensor(_rgb(1)))  # fully opaque alpha: dropped, no warning
    with pytest.warns(ImageConversionWarning, match="1 image"):
        report = pack_folder(tmp_path, tmp_path / "arch", R, progress=False)
    assert dict(report.converted) == {"16-bit grayscale": 1, "grayscale": 1}


def test_empty_or_missing_sources(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("no images here")
    with pytest.raises(ValueError, match="no image files"):
        ImageFolderDataset(tmp_path / "empty", R)
    with pytest.raises(FileNotFoundError):
        ImageFolderDataset(tmp_path / "missing", R)
    assert main(["prepare-data", str(tmp_path / "empty"), str(tmp_path / "a"),
                 "--resolution", str(R)]) == 2
    assert "no image files" in capsys.readouterr().err
    with pytest.raises(FileNotFoundError, match="not a packed archive"):
        PackedDataset(tmp_path / "empty")


def test_truncated_archive_is_detected(good_folder, tmp_path):
    folder, _ = good_folder
    pack_folder(folder, tmp_path / "arch", R, progress=False)
    with open(tmp_path / "arch" / "images.bin", "r+b") as f:
        f.truncate(100)
    with pytest.raises(ValueError, match="truncated"):
        PackedDataset(tmp_path / "arch")


def test_procedural_archive_keeps_parts_labels_and_mirrors(tmp_path):
    args = ["prepare-data", str(tmp_path / "sky"), "--dataset", "skylines", "--count", "6",
            "--seed", "3", "--resolution", "32"]
    assert main(args) == 0
    source = Skylines(6, 32, seed=3)
    packed = PackedDataset(tmp_path / "sky", xflip=True, return_parts=True)
    assert len(packed) == 12 and packed.schema["part_names"] == list(Skylines.PART_NAMES)
    for i in range(6):
        s, p, m = source[i], packed[i], packed[i + 6]
        assert torch.equal(s.image, p.image) and torch.equal(s.parts, p.parts)
        assert p.attributes == pytest.approx(s.attributes)
        assert torch.equal(m.image, s.image.flip(-1)) and torch.equal(m.parts, s.parts.flip(-1))
        assert m.attributes["sun_x"] == pytest.approx(-s.attributes["sun_x"])
        assert m.attributes["sun_height"] == pytest.approx(s.attributes["sun_height"])
    with pytest.raises(ValueError, match="no part maps"):
        pack_folder_dir = tmp_path / "imgs"
        pack_folder_dir.mkdir()
        Image.fromarray(_rgb(0)).save(pack_folder_dir / "a.png")
        pack_folder(pack_folder_dir, tmp_path / "plain", R, progress=False)
        PackedDataset(tmp_path / "plain", return_parts=True)


def test_prepare_data_where_packs_one_class_and_records_it(tmp_path, capsys):
    args = ["prepare-data", str(tmp_path / "day"), "--dataset", "skylines", "--count", "5",
            "--resolution", "16", "--where", "time_of_day=day"]
    assert main(args) == 0
    packed = PackedDataset(tmp_path / "day", return_parts=True)
    source = Skylines(5, 16, where={"time_of_day": "day"})
    assert len(packed) == 5 and "where={'time_of_day': 'day'}" in packed.manifest["source"]
    for i in range(5):
        assert torch.equal(packed[i].image, source[i].image)
        assert packed[i].attributes["time_of_day"] == 0          # day
    for bad, message in [("time_of_day", "--where needs ATTRIBUTE=CLASS, got 'time_of_day'"),
                         ("time_of_day=noon", "time_of_day has no class 'noon'")]:
        capsys.readouterr()
        assert main([*args[:-1], bad, "--overwrite"]) == 2
        assert message in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["prepare-data", str(tmp_path), str(tmp_path / "x"), "--resolution", "16",
              "--where", "time_of_day=day"])


def test_packed_dataset_in_worker_processes(good_folder, tmp_path):
    folder, arrays = good_folder
    pack_folder(folder, tmp_path / "arch", R, progress=False)
    ds = PackedDataset(tmp_path / "arch")
    ds[0]  # opens the memmap in this process; workers must reopen their own
    loader = torch.utils.data.DataLoader(ds, batch_size=3, num_workers=2)
    (batch,) = list(loader)
    assert torch.equal(batch, torch.stack([_tensor(arrays[n]) for n in sorted(arrays)]))


def test_procedural_packing_is_the_same_with_worker_processes(tmp_path):
    from ssnlib.data import pack_procedural
    data = Skylines(length=40, resolution=16, seed=3)
    pack_procedural(data, tmp_path / "one", progress=False)
    pack_procedural(data, tmp_path / "two", progress=False, workers=2)
    for name in ("images.bin", "parts.bin"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
