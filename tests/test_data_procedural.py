"""The procedural datasets: determinism, ranges, schema, and the global rules they promise."""

import numpy as np
import pytest
import torch

from ssnlib.data import CartoonFaces, Sample, Skylines, save_gallery
from ssnlib.data.faces import HAIR

DATASETS = (CartoonFaces, Skylines)


def _pixels(sample: Sample) -> np.ndarray:
    """uint8 [H, W, 3] of a sample's float image."""
    return ((sample.image.permute(1, 2, 0).numpy() + 1) * 127.5).round().astype(np.int64)


def _erode(mask: np.ndarray, cross: bool = False) -> np.ndarray:
    """Pixels whose 3x3 neighbourhood (or, with `cross`, 4 neighbours) lies inside `mask`:
    away from the anti-aliased edges."""
    m = np.pad(mask, 1)
    out = mask.copy()
    for dy in range(3):
        for dx in range(3):
            if not cross or dy == 1 or dx == 1:
                out &= m[dy:dy + mask.shape[0], dx:dx + mask.shape[1]]
    return out


@pytest.mark.parametrize("cls", DATASETS)
def test_deterministic_by_seed_and_index(cls):
    a, b = cls(50, 32, seed=7), cls(50, 32, seed=7)
    for i in (3, 0, 49, 3):  # any order, repeated access
        x, y = a[i], b[i]
        assert torch.equal(x.image, y.image) and torch.equal(x.parts, y.parts)
        assert x.attributes == y.attributes
    other = cls(50, 32, seed=8)
    assert not torch.equal(a[3].image, other[3].image)
    assert not torch.equal(a[3].image, a[4].image)


@pytest.mark.parametrize("cls", DATASETS)
@pytest.mark.parametrize("resolution", [32, 48, 64, 128, 256])
def test_shapes_ranges_and_schema(cls, resolution):
    ds = cls(4, resolution, seed=1)
    for i in range(2 if resolution < 256 else 1):
        s = ds[i]
        assert s.image.shape == (3, resolution, resolution) and s.image.dtype == torch.float32
        assert s.image.min() >= -1 and s.image.max() <= 1 and s.image.std() > 0.1
        assert s.parts.shape == (resolution, resolution) and s.parts.dtype == torch.int64
        assert 0 <= s.parts.min() and s.parts.max() < len(cls.PART_NAMES)
        assert s.attributes.keys() == cls.DISCRETE.keys() | cls.CONTINUOUS.keys()
        for name, n in cls.NUM_CLASSES.items():
            assert isinstance(s.attributes[name], int) and 0 <= s.attributes[name] < n
        for name, (lo, hi) in cls.CONTINUOUS.items():
            assert lo <= s.attributes[name] <= hi
        assert set(cls.MIRROR_ODD) <= cls.CONTINUOUS.keys()


@pytest.mark.parametrize("cls", DATASETS)
def test_float_image_is_the_uint8_image_and_fast_path_matches(cls):
    ds, fast = cls(5, 64, seed=2), cls(5, 64, seed=2, return_parts=False)
    image, parts, attributes = ds.render(4)
    assert image.dtype == np.uint8 and image.shape == (64, 64, 3)
    s = ds[4]
    assert torch.equal(s.image, torch.from_numpy(image).permute(2, 0, 1).float() / 127.5 - 1)
    assert torch.equal(s.parts, torch.from_numpy(parts).long())
    assert torch.equal(fast[4], s.image)
    with pytest.raises(IndexError):
        ds[5]


def test_default_collate_batches_samples():
    loader = torch.utils.data.DataLoader(Skylines(8, 32), batch_size=4)
    batch = next(iter(loader))
    assert isinstance(batch, Sample)
    assert batch.image.shape == (4, 3, 32, 32) and batch.parts.shape == (4, 32, 32)
    assert batch.attributes["time_of_day"].shape == (4,)


def test_attribute_classes_all_occur():
    for cls in DATASETS:
        rng_attrs = [cls.sample_attributes(np.random.default_rng([0, i])) for i in range(600)]
        for name, n in cls.NUM_CLASSES.items():
            assert {a[name] for a in rng_attrs} == set(range(n)), name
        assert cls.describe(rng_attrs[0]).keys() == rng_attrs[0].keys()


FACES = CartoonFaces(48, 128, seed=3)


@pytest.fixture(scope="module")
def faces():
    return [FACES[i] for i in range(len(FACES))]


def test_faces_parts_follow_attributes(faces):
    P = {name: i for i, name in enumerate(CartoonFaces.PART_NAMES)}
    for s in faces:
        a, present = s.attributes, set(s.parts.unique().tolist())
        assert (a["glasses"] > 0) == (P["glasses"] in present)
        assert (a["hat"] > 0) == (P["hat"] in present)
        assert (a["beard"] > 0) == (P["beard"] in present)
        if a["hair_style"] == 0:
            assert P["hair"] not in present
        assert {P["face"], P["eyes"], P["eyebrows"], P["nose"], P["mouth"]} <= present


def test_glasses_span_both_eyes(faces):
    P = CartoonFaces.PART_NAMES.index
    with_glasses = [s for s in faces if s.attributes["glasses"]]
    assert len(with_glasses) >= 5
    for s in with_glasses:
        parts = s.parts.numpy()
        eye_x = np.nonzero(parts == P("eyes"))[1]
        mid = 0.5 * (eye_x.min() + eye_x.max())
        glasses_x = np.nonzero(parts == P("glasses"))[1]
        assert glasses_x.min() < eye_x.min() and glasses_x.max() > eye_x.max()
        assert np.any(np.abs(glasses_x - mid) < 1.5)  # the bridge between the eyes


def test_eyebrows_have_the_hair_colour():
    P = CartoonFaces.PART_NAMES.index
    hair = np.round(HAIR * 255)
    ds = CartoonFaces(12, 256, seed=5)  # brows are thin: look where they are several pixels
    for i in range(len(ds)):
        s = ds[i]
        brow = _pixels(s)[_erode(s.parts.numpy() == P("eyebrows"), cross=True)]
        assert len(brow) > 0
        # Eyebrows are flat, exactly the hair colour, also on bald heads (the median: where
        # glasses cover a brow, the lens tints it).
        assert np.abs(np.median(brow, axis=0) - hair[s.attributes["hair_colour"]]).max() <= 1


def test_beard_has_the_hair_colour(faces):
    P = CartoonFaces.PART_NAMES.index
    hair = np.round(HAIR * 255)
    bearded = [s for s in faces if s.attributes["beard"]]
    assert len(bearded) >= 5
    for s in bearded:
        pixels, parts = _pixels(s), s.parts.numpy()
        colour = hair[s.attributes["hair_colour"]]
        beard = pixels[_erode(parts == P("beard"))].astype(float)
        assert len(beard) > 0
        # The beard is shaded: hair colour times one light factor per pixel.
        ratio = (beard + 1) / (colour + 1)
        assert np.all(ratio.max(axis=1) - ratio.min(axis=1) < 0.15)


def test_one_light_shades_the_face(faces):
    P = CartoonFaces.PART_NAMES.index
    checked = 0
    for s in faces:
        light_x = s.attributes["light_x"]
        if abs(light_x) < 0.4:
            continue
        ys, xs = np.nonzero(s.parts.numpy() == P("face"))
        luminance = _pixels(s)[ys, xs].sum(axis=1)
        centre = xs.mean()
        right, left = luminance[xs > centre + 5].mean(), luminance[xs < centre - 5].mean()
        assert np.sign(right - left) == np.sign(light_x)
        checked += 1
    assert checked >= 10


SKY = Skylines(40, 128, seed=4)


@pytest.fixture(scope="module")
def skylines():
    return [SKY[i] for i in range(len(SKY))]


def test_night_iff_lit_windows(skylines):
    P = Skylines.PART_NAMES.index
    times = set()
    for s in skylines:
        pixels = _pixels(s)[s.parts.numpy() == P("windows")]
        lit = (pixels[:, 0] > 190) & (pixels[:, 2] < 140)
        night = s.attributes["time_of_day"] == 2
        assert lit.any() == night
        times.add(s.attributes["time_of_day"])
    assert times == {0, 1, 2}


def test_shadows_fall_away_from_the_sun(skylines):
    names = Skylines.PART_NAMES
    objects = [names.index(n) for n in ("houses", "church", "tower", "trees")]
    checked = 0
    for s in skylines:
        parts = s.parts.numpy()
        shadow_x = np.nonzero(parts == names.index("shadow"))[1]
        if s.attributes["time_of_day"] == 2:
            assert len(shadow_x) == 0  # no shadows at night
            continue
        assert len(shadow_x) > 0
        if abs(s.attributes["sun_x"]) < 0.25:
            continue
        object_x = np.nonzero(np.isin(parts, objects))[1]
        assert np.sign(shadow_x.mean() - object_x.mean()) == -np.sign(s.attributes["sun_x"])
        checked += 1
    assert checked >= 10


def test_towers_and_crowns_match_attributes(skylines):
    P = Skylines.PART_NAMES.index
    for s in skylines:
        columns = np.any(s.parts.numpy() == P("tower"), axis=0).astype(int)
        runs = np.count_nonzero(np.diff(np.concatenate([[0], columns])) == 1)
        assert runs == s.attributes["towers"] + 1
        assert (s.parts == P("tower_top")).any()


def test_gallery_writes_a_png(tmp_path):
    from PIL import Image

    path = save_gallery(CartoonFaces(8, 32), tmp_path / "g.png", n=6, ncol=3)
    with Image.open(path) as im:
        assert im.size == (3 * 34 + 2, 2 * 66 + 2)
    path = save_gallery(Skylines(4, 32, return_parts=False), tmp_path / "s.png", n=4)
    with Image.open(path) as im:
        assert im.size == (4 * 34 + 2, 34 + 2)


@pytest.mark.parametrize("cls, where", [(Skylines, {"time_of_day": "night"}),
                                        (CartoonFaces, {"hat": "beanie", "glasses": "round"})])
def test_where_keeps_the_matching_images_of_the_unfiltered_dataset_in_order(cls, where):
    full = cls(length=200, resolution=16, seed=5)
    kept = [i for i in range(200)
            if all(cls.describe(full.render(i, False)[2])[k] == v for k, v in where.items())]
    subset = cls(length=len(kept), resolution=16, seed=5, where=where)
    assert len(kept) > 0 and len(subset) == len(kept)
    for j, i in enumerate(kept):          # image j of the subset is the j-th match, pixel for pixel
        image, _, attributes = subset.render(j, False)
        assert np.array_equal(image, full.render(i, False)[0])
        assert all(cls.describe(attributes)[k] == v for k, v in where.items())


def test_where_names_an_unknown_attribute_or_class():
    with pytest.raises(ValueError, match="Skylines has no discrete attribute 'weather'"):
        Skylines(length=4, resolution=16, where={"weather": "rain"})
    with pytest.raises(ValueError, match="Skylines's time_of_day has no class 'dusk'; choose "
                                         "from day, sunset, night"):
        Skylines(length=4, resolution=16, where={"time_of_day": "dusk"})
