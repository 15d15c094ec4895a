"""Zoo runs trained in installments, as the chapters read them (ssnlib.zoo.runs)."""

import json
import re
from pathlib import Path

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


def test_a_run_folder_exports_to_the_zoo(tmp_path):
    """``ssn export --ckpt data/runs/NAME`` (how a run becomes a zoo model, README) reads its
    state.pt; the exported float32 model draws what the run draws."""
    from ssnlib import zoo

    name = COMMITTED[0]
    folder = zoo.export(runs.runs_dir() / name, "exported", out=tmp_path, dtype="fp32")
    assert zoo.names(tmp_path) == ["exported"] and folder == tmp_path / "exported"
    G, H = runs.load(name), zoo.load_any(folder)
    z = G.sample_z(2, torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(H(z, noise="const"), G(z, noise="const"))


def test_a_runs_history_is_its_ledger_from_its_start():
    for name in COMMITTED:
        book, points = runs.ledger(name), runs.history(name)
        parts = [p for p in book["installments"] if "images_after" in p]
        start = book.get("transfer")
        assert len(points) == len(parts) + bool(start)
        assert points[-1]["fid"] == runs.summary(name)["fid"]
        assert [p["images"] for p in points[bool(start):]] == [p["images_after"] for p in parts]
        totals = [p["total_images"] for p in points]
        assert totals == sorted(set(totals))                  # strictly increasing
        if start:                                             # the StyleGAN2 at the transfer
            source = [p for p in runs.history(start["from"])
                      if p["total_images"] == start["images"]]
            assert points[0]["images"] == 0 and points[0]["total_images"] == start["images"]
            assert source and source[0]["fid"] == points[0]["fid"]


def test_a_run_folder_names_its_generator_for_every_command():
    """``ssn sample --ckpt data/runs/NAME`` (any load_any source) is the run's newest EMA
    generator, not a broken zoo export: a run's ledger is a manifest.json too."""
    from ssnlib.zoo import load_any

    name = COMMITTED[0]
    z = runs.load(name).sample_z(2, torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = runs.load(name)(z, noise="const")
        for source in (runs.runs_dir() / name, runs.runs_dir() / name / runs.STATE):
            assert torch.equal(load_any(source)(z, noise="const"), expected)


def _printed_as(cell: str, value: float) -> bool:
    """Whether ``cell`` is ``value`` rounded to the digits it shows."""
    digits = len(cell.split(".")[1]) if "." in cell else 0
    return abs(float(cell) - value) <= 0.5 * 10 ** -digits + 1e-12


def test_the_readme_table_of_runs_is_their_ledgers():
    """The README's "where they stand" table: one row per committed run, every figure the
    newest installment's, so no figure there outlives the run it describes."""
    lines = (Path(__file__).resolve().parents[1] / "README.md").read_text().splitlines()
    head = lines.index("| Run | Images | Domain FID | Precision | Recall | Coverage | Distortion |")
    rows = {}
    for line in lines[head + 2:]:
        if not line.startswith("| `"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[re.match(r"`([^`]+)`", cells[0]).group(1)] = cells[1:]
    assert sorted(rows) == COMMITTED
    for name, (images, fid, *scores) in rows.items():
        s = runs.summary(name)
        assert int(images.replace(" ", "")) == s["images"], name
        assert _printed_as(fid.split()[0], s["fid"]), (name, fid, s["fid"])
        for cell, key in zip(scores, ("precision", "recall", "coverage", "distortion"),
                             strict=True):
            assert _printed_as(cell, s[key]) if cell else key not in s, (name, key, cell)


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


def test_v3_targets_compare_runs_with_v1_and_each_other():
    from ssnlib.zoo import results

    v1 = [{"name": "faces32-stylegan2", "metrics": {"fid": {"fid": 30.0}}},
          {"name": "faces32-ssn-ld0", "metrics": {"fid": {"fid": 27.0}}}]
    rows = [{"name": "faces32-stylegan2", "dataset": "faces", "fid": 10.0, "precision": 0.7,
             "recall": 0.3},
            {"name": "faces32-ssn-ld0", "dataset": "faces", "fid": 10.0, "precision": 0.5,
             "recall": 0.5, "distortion": 0.02},
            {"name": "faces32-ssn-ld100", "dataset": "faces", "fid": 12.0, "precision": 0.5,
             "recall": 0.5, "distortion": 0.005}]
    got = {(what, run): (value, met) for what, run, value, met in results.v3_checks(rows, v1)}
    assert got[("FID 3x below v1 `faces32-stylegan2`", "faces32-stylegan2")] == ("3.00x", True)
    assert got[("FID 3x below v1 `faces32-ssn-ld0`", "faces32-ssn-ld0")] == ("2.70x", False)
    assert got[("recall >= 0.4", "faces32-stylegan2")] == ("0.30", False)
    assert got[("precision >= 0.6", "faces32-ssn-ld0")] == ("0.50", False)
    assert got[("λ_D = 100 cuts distortion >= 5x", "faces32-ssn-ld100")] == ("4.00x", False)
    assert got[("λ_D = 100 FID within 1.3x of λ_D = 0", "faces32-ssn-ld100")] == ("1.20x", True)
    assert len(got) == 8
    # without the lambda_D = 100 run there are no lambda_D targets yet
    assert len(results.v3_checks(rows[:2], v1)) == 6
    # a second seed is checked against its own lambda_D = 0, and the images each saw are named
    seed1 = [{**rows[1], "name": "faces32-ssn-ld0-seed1", "distortion": 0.03, "images": 800},
             {**rows[2], "name": "faces32-ssn-ld100-seed1", "fid": 14.0, "images": 800}]
    got = {(what, run): (value, met) for what, run, value, met
           in results.v3_checks(rows + seed1, v1)}
    assert got[("λ_D = 100 cuts distortion >= 5x", "faces32-ssn-ld100-seed1")] == (
        "6.00x at 800 images", True)
    assert got[("λ_D = 100 FID within 1.3x of λ_D = 0", "faces32-ssn-ld100-seed1")] == (
        "1.40x at 800 images", False)
    seed1[1]["images"] = 1600
    got = {run: value for what, run, value, met in results.v3_checks(rows + seed1, v1)}
    assert got["faces32-ssn-ld100-seed1"].endswith("at 1,600 vs 800 images (λ_D 0's)")


def test_the_radial_share_runs_are_held_against_their_seeds_lambda_0_twins():
    """The study branch continued as zoo runs meets the same two numbers against the eq. 2
    lambda_D 0 run of its own seed; the twin of every committed penalised run exists."""
    from ssnlib.zoo import results

    assert results.twin_name("faces32-ssn-ld100-seed1") == "faces32-ssn-ld0-seed1"
    assert results.twin_name("faces32-ssn-radial60-u") == "faces32-ssn-ld0"
    assert results.twin_name("faces32-ssn-radial60-u-seed1") == "faces32-ssn-ld0-seed1"
    rows = [{"name": n, "dataset": "faces", "fid": f, "precision": 0.5, "recall": 0.1,
             "distortion": d, "images": i}
            for n, f, d, i in (("faces32-ssn-ld0-seed1", 10.0, 0.04, 800),
                               ("faces32-ssn-radial60-u-seed1", 12.0, 0.0002, 800),
                               ("faces32-ssn-radial60-u", 9.0, 0.001, 400))]
    got = {(what, run): (value, met) for what, run, value, met in results.v3_checks(rows, [])}
    assert got == {
        ("radial share 60 with u cuts distortion >= 5x", "faces32-ssn-radial60-u-seed1"):
            ("200.00x at 800 images", True),
        ("radial share 60 with u FID within 1.3x of λ_D = 0", "faces32-ssn-radial60-u-seed1"):
            ("1.20x at 800 images", True)}      # seed 0 has no twin among these rows
    # on skylines the radial share runs at weight 10, against the skylines twins
    assert results.twin_name("skylines32-ssn-radial10-u-seed1") == "skylines32-ssn-ld0-seed1"
    rows = [{"name": n, "dataset": "skylines", "fid": f, "precision": 0.5, "recall": 0.0,
             "distortion": d, "images": 100}
            for n, f, d in (("skylines32-ssn-ld0", 8.0, 0.04),
                            ("skylines32-ssn-radial10-u", 12.0, 0.0004))]
    got = {(what, run): (value, met) for what, run, value, met in results.v3_checks(rows, [])}
    assert got == {
        ("radial share 10 with u cuts distortion >= 5x", "skylines32-ssn-radial10-u"):
            ("100.00x at 100 images", True),
        ("radial share 10 with u FID within 1.3x of λ_D = 0", "skylines32-ssn-radial10-u"):
            ("1.50x at 100 images", False)}
    for name in COMMITTED:
        if runs.summary(name)["lambda_D"] > 0:
            assert results.twin_name(name) in COMMITTED, name


def test_a_run_that_stopped_short_of_its_twin_meets_it_where_it_stopped(tmp_path):
    """Where the twin has trained on, the targets read its ledger entry at the penalised
    run's images (within 2 %), not its newest; without such an entry, its newest, named."""
    from ssnlib.zoo import results

    twin = tmp_path / "faces32-ssn-ld0"
    twin.mkdir()
    (twin / runs.STATE).write_bytes(b"")
    entries = [{"images_after": i, "scores": {"fid": f, "distortion": d}}
               for i, f, d in ((300, 10.0, 0.04), (900, 5.0, 0.036))]
    (twin / runs.LEDGER).write_text(json.dumps({"installments": entries}))
    assert results.matched_entry("faces32-ssn-ld0", 306, tmp_path)["images_after"] == 300
    assert results.matched_entry("faces32-ssn-ld0", 307, tmp_path) is None   # 2.3 % apart
    rows = [{"name": "faces32-ssn-ld0", "dataset": "faces", "fid": 5.0, "distortion": 0.036,
             "images": 900},
            {"name": "faces32-ssn-radial60-u", "dataset": "faces", "fid": 9.9,
             "distortion": 0.0001, "images": 304}]
    got = {what: value for what, _, value, _ in results.v3_checks(rows, [], tmp_path)}
    assert got["radial share 60 with u cuts distortion >= 5x"] == (
        "400.00x at 304 vs 300 images (λ_D 0's)")
    assert got["radial share 60 with u FID within 1.3x of λ_D = 0"].startswith("0.99x")
    rows[1]["images"] = 500                              # no twin entry near 500 images
    got = {what: value for what, _, value, _ in results.v3_checks(rows, [], tmp_path)}
    assert got["radial share 60 with u FID within 1.3x of λ_D = 0"] == (
        "1.98x at 500 vs 900 images (λ_D 0's)")


def test_a_perfect_generator_scores_what_the_k_nn_estimates_predict(tmp_path):
    """data/stats/floors.json (tools/floors.py): other training images in the generator's
    place. Two samples of one distribution: coverage at its expected value (Naeem et al.),
    density and the radius ratio at 1, precision and recall high but below 1, FID near 0."""
    from ssnlib.metrics import expected_coverage
    from ssnlib.zoo import results

    floor = results.floors()
    assert sorted(floor) == ["faces", "skylines"]
    for f in floor.values():
        n = f["per_half"]
        assert f["coverage"] == pytest.approx(expected_coverage(n, n, f["k"]), abs=0.02)
        assert f["density"] == pytest.approx(1, abs=0.05)
        assert f["radius_ratio"] == pytest.approx(1, abs=0.05)
        assert 0.85 < f["precision"] < 1 and 0.85 < f["recall"] < 1 and f["fid"] < 0.5
        # the domain network reads the same attribute shares in both halves, to about 1 %
        assert f["attribute_tv"] < 0.02 and f["spread_ratio"] == pytest.approx(1, abs=0.03)
    assert results.floors(tmp_path / "none.json") == {}
    row = {"name": "faces32-ssn-ld0", "arch": "ssn", "dataset": "faces", "lambda_D": 0.0,
           "transfer": None, "images": 10, "installments": 1, "devices": ["cpu"], "fid": 12.0}
    text = results.render_tables([], [row], floor={"faces": floor["faces"]})
    perfect = next(line for line in text.splitlines() if "perfect generator" in line)
    assert perfect.startswith("| faces: a perfect generator")
    assert f"| {floor['faces']['coverage']:.2g} |" in perfect


def test_pushing_w_outwards_buys_recall_only_at_the_margin():
    """data/diagnostics/truncation: each report is the command its manifest names, on a
    committed run's state at the images the manifest says, with the psi its name says. On the
    faces lambda_D 0 SSN recall rises and precision falls as psi grows (with psi 1 from the
    run's ledger), yet at 1.6 recall is still far below the target and head size varies
    under 0.7 of the data's: the missing variety is not in how far w spreads. Nor is it the
    EMA: the raw generator's recall is the EMA's."""
    from ssnlib.zoo import results

    folder = Path(__file__).resolve().parents[1] / "data" / "diagnostics" / "truncation"
    manifest = json.loads((folder / "manifest.json").read_text())
    sweep = {}
    for name, command in manifest["reports"].items():
        report = json.loads((folder / name).read_text())
        psi, run = report["args"]["truncation"], Path(report["args"]["ckpt"]).parent.name
        assert report["command"] == command and f"--truncation {psi:g} " in command
        assert name == f"{run}-psi{psi:g}.json" and run in COMMITTED
        sweep[run, psi] = {**report["metrics"]["pr"],
                           "head": report["metrics"]["attributes"]["continuous"]
                           ["faces/head_size"]["spread_ratio"]}
    for run, images in manifest["images"].items():
        [entry] = [e for e in runs.ledger(run)["installments"] if e["images_after"] == images]
        sweep[run, 1.0] = entry["scores"]
    ld0 = [sweep[k] for k in sorted(k for k in sweep if k[0] == "faces32-ssn-ld0")]
    assert len(ld0) == 4
    assert all(a["recall"] < b["recall"] for a, b in zip(ld0, ld0[1:], strict=False))
    assert all(a["precision"] > b["precision"] for a, b in zip(ld0, ld0[1:], strict=False))
    assert ld0[-1]["recall"] < results.V3_RECALL * 0.6 and ld0[-1]["head"] < 0.7
    raw = json.loads((folder / manifest["raw_generator"]["report"]).read_text())
    assert raw["args"]["net"] == "g" and raw["command"] == manifest["raw_generator"]["command"]
    assert abs(raw["metrics"]["pr"]["recall"] - sweep["faces32-ssn-ld0", 1.0]["recall"]) < 0.02
    sg2 = sweep["faces32-stylegan2", 1.6]
    assert sg2["recall"] < 0.1 and sg2["precision"] < sweep["faces32-stylegan2", 1.0]["precision"]
