"""Zoo runs trained in installments, as the chapters read them (ssnlib.zoo.runs)."""

import json

import pytest
import torch

from ssnlib.errors import InputError, MissingFileError
from ssnlib.zoo import runs

COMMITTED = runs.names()


def test_committed_runs_load_and_summarise():
    assert "faces32-stylegan2" in COMMITTED
    for name in COMMITTED:
        s = runs.summary(name)
        book = runs.ledger(name)
        last = [p for p in book["installments"] if "images_after" in p][-1]
        assert s["images"] == last["images_after"] > 0
        assert s["fid"] == last["scores"]["fid"]
        assert (s["transfer"] is None) == ("transfer" not in book)
        G = runs.load(name)
        assert not G.training and not any(p.requires_grad for p in G.parameters())
        with torch.no_grad():
            assert G(G.sample_z(1, torch.Generator().manual_seed(0))).shape[-1] == 32


def test_missing_and_broken_runs_are_clear_errors(tmp_path):
    with pytest.raises(MissingFileError, match="no trained run 'nope'.*known: none"):
        runs.summary("nope", tmp_path)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / runs.STATE).write_bytes(b"")
    (tmp_path / "broken" / runs.LEDGER).write_text("{")
    with pytest.raises(InputError, match="manifest.json: not valid JSON"):
        runs.ledger("broken", tmp_path)
    (tmp_path / "broken" / runs.LEDGER).write_text(json.dumps({"installments": []}))
    with pytest.raises(InputError, match="no trained installment"):
        runs.summary("broken", tmp_path)
    assert runs.names(tmp_path) == ["broken"]
