"""The model zoo's machinery on a freshly trained tiny run: export, load, reference images,
recorded metrics, the generated results tables and the part-resample study."""


import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from ssnlib.blocks import BlockGrid
from ssnlib.cli import main
from ssnlib.resample.parts import covering_blocks, part_resample_study, save_part_gallery, summarise
from ssnlib.train import load_config, train
from ssnlib.train.sample import load_generator, sample_images
from ssnlib.utils import to_uint8
from ssnlib.zoo import pretrained, results
from ssnlib.zoo.export import export, record_metrics, run_wall_time

TINY = ["model.overrides.channel_max=8", "model.overrides.z_dim=8", "model.overrides.w_dim=8",
        "model.overrides.n_mlp=2", "model.d_overrides.channel_max=8", "data.length=32",
        "batch=4", "log_every=1", "progress=false", "tensorboard=false", "n_samples=4",
        "reg.pl_weight=0", "reg.distortion_weight=100", "steps=3"]


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    """Two exported tiny runs (SSN lambda_D 100 and StyleGAN2) in a temporary zoo."""
    root = tmp_path_factory.mktemp("zoo")
    runs = {}
    for name, extra in (("toy-ssn-ld100", []),
                        ("toy-stylegan2", ["model.arch=stylegan2",
                                           "reg.distortion_weight=0"])):
        run = root / "runs" / name
        train(load_config(None, [*TINY, f"run_dir={run}", *extra]))
        export(run, name, root / "zoo", description=name, launched_as="pytest")
        runs[name] = run
    return root / "zoo", runs


def test_export_writes_a_complete_manifest(zoo):
    directory, runs = zoo
    assert pretrained.names(directory) == ["toy-ssn-ld100", "toy-stylegan2"]
    m = pretrained.manifest("toy-ssn-ld100", directory)
    assert m["model"]["arch"] == "ssn" and m["model"]["kwargs"]["channel_max"] == 8
    t = m["training"]
    assert (t["steps"], t["images_seen"], t["batch"], t["lambda_D"]) == (3, 12, 4, 100)
    assert t["wall_time_s"] == pytest.approx(run_wall_time(runs["toy-ssn-ld100"]), abs=0.1)
    assert t["wall_time_s"] > 0 and t["device"] == "cpu" and t["launched_as"] == "pytest"
    assert len(m["export"]["commit"]) == 40 or m["export"]["commit"] == "unknown"
    assert m["weights"]["dtype"] == "fp16" and m["weights"]["bytes"] < 15 * 2**20
    assert m["weights"]["sha256"] == pretrained.sha256(
        directory / "toy-ssn-ld100" / pretrained.WEIGHTS)
    # the shipped config retrains the same model
    cfg = load_config(directory / "toy-ssn-ld100" / pretrained.CONFIG)
    assert cfg.model.overrides["channel_max"] == 8 and cfg.steps == 3
    assert t["command"].endswith("toy-ssn-ld100/config.yaml")


def test_load_matches_the_checkpoint_up_to_fp16(zoo):
    directory, runs = zoo
    for name, run in runs.items():
        G = pretrained.load(name, directory=directory)
        assert not G.training and all(not p.requires_grad for p in G.parameters())
        assert all(p.dtype == torch.float32 for p in G.parameters())
        full = load_generator(run)
        for (k, a), (_, b) in zip(G.state_dict().items(), full.state_dict().items(),
                                  strict=True):
            assert torch.allclose(a, b, rtol=1e-3, atol=1e-3), k
        seeds, ref = pretrained.reference_images(name, directory)
        got = np.stack([to_uint8(x) for x in sample_images(G, seeds)])
        assert ref.shape == got.shape and np.abs(ref.astype(int) - got).max() <= 1


def test_unknown_name_and_damaged_weights_are_clear_errors(zoo, tmp_path):
    directory, _ = zoo
    with pytest.raises(KeyError, match="known: toy-ssn-ld100, toy-stylegan2"):
        pretrained.load("faces", directory=directory)
    broken = tmp_path / "toy-ssn-ld100"
    broken.mkdir()
    for f in (pretrained.MANIFEST, pretrained.WEIGHTS):
        data = (directory / "toy-ssn-ld100" / f).read_bytes()
        (broken / f).write_bytes(data[:-8] + b"\0" * 8 if f == pretrained.WEIGHTS else data)
    with pytest.raises(ValueError, match="SHA-256 differs"):
        pretrained.load("toy-ssn-ld100", directory=tmp_path)


def test_eval_record_and_results_tables(zoo, monkeypatch, tmp_path):
    directory, _ = zoo
    monkeypatch.setenv("SSN_ZOO", str(directory))
    for name in ("toy-ssn-ld100", "toy-stylegan2"):
        metrics = "kid,fid" if "stylegan2" in name else "distortion,locality,fid"
        assert main(["eval", "--pretrained", name, "--metrics", metrics, "--ref", "faces",
                     "--num", "8", "--batch", "4", "--cache", str(tmp_path), "--record"]) == 0
    m = pretrained.manifest("toy-ssn-ld100")
    assert set(m["metrics"]) == {"distortion", "locality", "fid"}
    assert m["metrics"]["distortion"]["count"] == 8
    assert m["metrics"]["fid"]["command"].startswith("ssn eval --pretrained toy-ssn-ld100")
    # recording again replaces only the metrics it measured
    assert main(["eval", "--pretrained", "toy-ssn-ld100", "--metrics", "distortion", "--num",
                 "4", "--batch", "4", "--record"]) == 0
    m2 = pretrained.manifest("toy-ssn-ld100")
    assert m2["metrics"]["distortion"]["count"] == 4 and m2["metrics"]["fid"] == m["metrics"][
        "fid"]
    assert main(["eval", "--arch", "ssn", "--config", "tiny", "--metrics", "distortion",
                 "--record"]) == 2

    path = results.write_results(directory)
    text = path.read_text()
    ssn_fid = results.score(m2, "fid")
    assert f"`toy-ssn-ld100`) | {results._fmt(ssn_fid)}" in text
    assert "Baseline StyleGAN2 (`toy-stylegan2`)" in text and "12.24" in text
    assert (directory / "pareto.png").stat().st_size > 1000
    samples = Image.open(directory / "samples.png")
    assert samples.size[1] == 3 * (3 * 32 + 4)      # rows: faces data and the 2 models
    # the prose outside the markers survives a rewrite
    path.write_text("# Results\n\nhand-written.\n\n" + text[text.index(results.BEGIN):])
    results.write_results(directory)
    assert path.read_text().startswith("# Results\n\nhand-written.")


def test_inception_scores_are_recorded_apart_from_the_domain_ones(zoo, monkeypatch):
    directory, _ = zoo
    monkeypatch.setenv("SSN_ZOO", str(directory))
    report = {"metrics": {"fid": {"fid": 80.5, "num": 500}, "time_s": {"fid_kid": 1.0}},
              "args": {"seed": 0, "features": "inception"}, "environment": {},
              "command": "ssn eval --pretrained toy-stylegan2 --features inception --record"}
    record_metrics("toy-stylegan2", report)
    m = pretrained.manifest("toy-stylegan2")
    assert m["metrics"]["fid_inception"]["fid"] == 80.5
    assert m["metrics"].get("fid", {}).get("fid") != 80.5
    assert "80.5 (500)" in results.render_tables(results.models())


def test_target_checks_pair_each_lambda100_with_the_lambda0_of_its_seed_and_start():
    def model(arch, lam, fid, dist=None, seed=0, init=None, name=""):
        metrics = {"fid": {"fid": fid}}
        if dist is not None:
            metrics["distortion"] = {"distortion": dist}
        return {"name": name or f"{arch}-{lam}-{seed}-{init}", "model": {"arch": arch},
                "training": {"dataset": "faces", "lambda_D": lam, "seed": seed, "init": init,
                             "distortion_mode": "outside"}, "metrics": metrics}
    ms = [model("stylegan2", 0, 10.0), model("ssn", 0, 12.0, 0.02),
          model("ssn", 100, 16.5, 0.003), model("ssn", 0, 20.0, 0.03, seed=1),
          model("ssn", 100, 22.0, 0.003, seed=1), model("ssn", 100, 9.0, 0.001, init="t.pt")]
    checks = results.target_checks(ms)
    by = {(c["key"], c["models"][0]): c for c in checks}
    assert by["fid_ssn0_vs_stylegan2", "ssn-0-0-None"]["ratio"] == pytest.approx(1.2)
    assert by["fid_ssn0_vs_stylegan2", "ssn-0-0-None"]["pass"] is True
    assert by["fid_ssn0_vs_stylegan2", "ssn-0-1-None"]["pass"] is False      # 2.0x
    assert by["distortion_cut_at_100", "ssn-100-0-None"]["ratio"] == pytest.approx(20 / 3)
    assert by["distortion_cut_at_100", "ssn-100-0-None"]["pass"] is True
    assert by["fid_rise_at_100", "ssn-100-0-None"]["ratio"] == pytest.approx(1.375)
    assert by["fid_rise_at_100", "ssn-100-0-None"]["pass"] is False
    # seed 1 is compared with seed 1's lambda_D = 0, not seed 0's
    assert by["distortion_cut_at_100", "ssn-100-1-None"]["ratio"] == pytest.approx(10)
    assert by["fid_rise_at_100", "ssn-100-1-None"]["models"] == ["ssn-100-1-None",
                                                                  "ssn-0-1-None"]
    # a transferred run has no transferred lambda_D = 0 to compare with: not measured
    assert by["distortion_cut_at_100", "ssn-100-0-t.pt"]["pass"] is None
    # no energy recorded: not measured, never a pass
    assert by["energy_inside_at_100", "ssn-100-0-None"]["pass"] is None
    assert [c["pass"] for c in results.target_checks(ms[2:3])] == [None, None, None]


def test_results_say_which_path_length_weight_each_model_trained_with():
    def model(name, pl):
        return {"name": name, "training": {"pl_weight": pl}}
    one = results._path_length_note([model("a", 0.0), model("b", 0.0)])
    assert "0 for all 2 models" in one and "not comparable" in one
    mixed = results._path_length_note([model("a", 0.0), model("b", 2.0), model("c", 0.0)])
    assert "0 for `a`, `c`; 2 for `b`" in mixed
    assert "not comparable" not in results._path_length_note([model("b", 2.0)])


def test_covering_blocks_takes_the_fullest_and_every_large_share():
    grid = BlockGrid(4, 4, 32, 32)
    mask = torch.zeros(32, 32, dtype=torch.bool)
    mask[0:8, 0:8] = True                 # all of block 0
    mask[8:12, 0:8] = True                # half as much in block 4
    mask[31, 31] = True                   # one pixel in block 15
    assert covering_blocks(grid, mask, 0.25) == [0, 4]
    assert covering_blocks(grid, mask, 0.9) == [0]
    assert covering_blocks(grid, torch.zeros(32, 32, dtype=torch.bool), 0.25) == []


def test_part_study_resamples_only_the_chosen_blocks(zoo, tmp_path):
    directory, _ = zoo
    G = pretrained.load("toy-ssn-ld100", directory=directory)
    studies = part_resample_study(G, "face+hair+background", "faces", [0, 1], n_resamples=2,
                                  min_pixels=1)
    assert [s.seed for s in studies] == [0, 1]
    for s in studies:
        assert s.blocks and len(s.resamples) == 2
        # every resample is a new image; a fixed seed gives the same resamples again
        assert all((r - s.image).abs().max() > 0 for r in s.resamples)
    again = part_resample_study(G, "face+hair+background", "faces", [0], n_resamples=2,
                                min_pixels=1)
    assert torch.equal(again[0].resamples[1], studies[0].resamples[1])
    summary = summarise(studies)
    assert summary["resamples"] == 4 and summary["seeds"] == [0, 1]
    for key in ("part_changed", "outside_changed"):
        assert summary[key] == sum(c[key] for c in summary["per_seed"].values())
    assert summary["per_seed"][0]["part_changed"] == sum(studies[0].part_changed)
    out = save_part_gallery(studies, G.grid, tmp_path / "g.png", scale=2)
    assert out.stat().st_size > 0


def test_zoo_configs_load():
    for path in sorted(pretrained.ZOO_DIR.parents[1].glob("configs/zoo/*.yaml")):
        cfg = load_config(path)
        assert cfg.model.config == "tiny" and cfg.data.resolution == 32, path
        assert yaml.safe_load(path.read_text())["reg"]["pl_weight"] == 0
