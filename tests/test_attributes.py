"""Attribute shares of samples against data (ssnlib.metrics.attributes), read by the shipped
domain network's heads from embeddings."""

import pytest
import torch

from ssnlib.metrics import load_domain_net
from ssnlib.metrics.attributes import MIN_SHARE, attribute_shares
from ssnlib.metrics.evaluate import REGISTRY, Run

NET = load_domain_net()[0].eval().requires_grad_(False)


def embeddings(n: int, seed: int) -> torch.Tensor:
    # any embeddings will do: the heads are linear on them, so classes and values vary
    return 3 * torch.randn(n, NET.dim, generator=torch.Generator().manual_seed(seed))


def hair_styles(features: torch.Tensor) -> torch.Tensor:
    index = [a for _, a, _ in NET.schema.discrete].index("hair_style")
    return NET.discrete[index](features).argmax(1)


def test_the_data_against_itself_misses_nothing():
    data = embeddings(3000, 0)
    out = attribute_shares(NET, data, data, "faces")
    assert set(out["discrete"]) == {f"faces/{a}" for d, a, _ in NET.schema.discrete
                                    if d == "faces"}
    assert out["mean_tv"] == 0 and out["under_drawn"] == []
    assert out["min_spread_ratio"] == pytest.approx(1)
    for a in out["discrete"].values():
        assert sum(a["data"]) == pytest.approx(1, abs=1e-3) and a["data"] == a["samples"]


def test_samples_that_never_draw_a_class_are_that_class_share_away():
    """Drop every sample of one class k (data share s): the others' shares grow to
    p_j / (1 - s), so TV = (s + sum_{j != k} p_j s / (1 - s)) / 2 = s exactly."""
    data = embeddings(4000, 1)
    styles = hair_styles(data)
    shares = torch.bincount(styles, minlength=5).double() / len(styles)
    k = int(shares.argmax())                          # a class that surely clears MIN_SHARE
    out = attribute_shares(NET, data, data[styles != k], "faces")
    hair = out["discrete"]["faces/hair_style"]
    name = hair["classes"][k]
    assert shares[k] >= MIN_SHARE and hair["samples"][k] == 0
    assert hair["tv"] == pytest.approx(float(shares[k]), abs=1e-4)
    assert name in hair["under_drawn"] and f"faces/hair_style={name}" in out["under_drawn"]
    assert out["count"] == {"data": 4000, "samples": int((styles != k).sum())}


def test_only_the_domain_network_and_a_procedural_reference_have_attributes():
    with pytest.raises(ValueError, match="reads \\['faces', 'skylines'\\], not 'cats'"):
        attribute_shares(NET, embeddings(10, 0), embeddings(10, 1), "cats")
    run = Run(G=torch.nn.Linear(1, 1), num=10, ref="my_photos/", features="domain")
    with pytest.raises(ValueError, match="needs --features domain and a procedural --ref"):
        REGISTRY["attributes"](run)


def test_a_procedural_archive_is_read_with_its_datasets_heads(tmp_path):
    from ssnlib.cli import main
    from ssnlib.data import procedural_domain
    from ssnlib.models import build_generator

    archive = tmp_path / "night"
    assert main(["prepare-data", str(archive), "--dataset", "skylines", "--count", "12",
                 "--resolution", "32", "--where", "time_of_day=night"]) == 0
    assert procedural_domain(archive) == "skylines" and procedural_domain("faces") == "faces"
    assert procedural_domain(tmp_path / "missing") is None and procedural_domain("cats") is None
    G = build_generator("ssn", "tiny", channel_max=8, z_dim=8, w_dim=8).eval()
    run = Run(G=G, num=8, ref=str(archive), ref_num=12, features="domain", batch=8,
              cache_dir=None)
    out = REGISTRY["attributes"](run)
    time_of_day = out["discrete"]["skylines/time_of_day"]
    assert out["domain"] == "skylines" and out["count"] == {"data": 12, "samples": 8}
    assert time_of_day["classes"] == ["day", "sunset", "night"]
    assert time_of_day["data"][2] > 0.5           # the heads see the archive's nights


def test_the_heads_read_from_embeddings_are_the_networks_own_predictions():
    """Why cached features suffice: heads(embed(x)) is forward(x) without the image pass."""
    x = torch.rand(4, 3, 64, 64, generator=torch.Generator().manual_seed(0)) * 2 - 1
    whole, from_embedding = NET(x, with_parts=False), NET.heads(NET.embed(x))
    assert torch.allclose(whole["continuous"], from_embedding["continuous"])
    for a, b in zip(whole["discrete"], from_embedding["discrete"], strict=True):
        assert torch.allclose(a, b)
