"""tools/installment.py (issue 27): a zoo run trained in installments continues from its
committed state alone, exactly as one uninterrupted run, and its ledger adds up."""

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import torch

from ssnlib.train.checkpoint import load_checkpoint

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
TINY = """\
model: {arch: stylegan2, config: tiny, overrides: {channel_max: 8, z_dim: 8, w_dim: 8, n_mlp: 2},
        d_overrides: {channel_max: 8}}
data: {name: faces, resolution: 32, length: 48, workers: 0}
batch: 4
steps: 4
reg: {r1_gamma: 0.02, r1_interval: 2, pl_weight: 0, distortion_weight: 0}
ema: {kimg: 0.01}
log_every: 1
ckpt_every: 2
n_samples: 4
progress: false
tensorboard: false
"""


def installment(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    places = [f"--{p}-dir={tmp_path / p}" for p in ("data", "runs", "configs", "stats")]
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "installment.py"), *args,
                           *places, "--num", "24"], capture_output=True, text=True,
                          env=ENV, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.mark.slow
def test_two_installments_equal_one_run_and_the_ledger_adds_up(tmp_path):
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "tiny.yaml").write_text(TINY)
    installment(tmp_path, "train", "tiny", "--minutes", "10")
    state = tmp_path / "data" / "tiny" / "state.pt"
    assert load_checkpoint(state)["step"] == 4
    # a fresh machine has only what was committed: no run folder
    shutil.rmtree(tmp_path / "runs" / "tiny")
    installment(tmp_path, "train", "tiny", "--minutes", "10", "--set", "steps=8")
    second = load_checkpoint(state)
    assert second["step"] == 8 and second["images_seen"] == 32

    straight = tmp_path / "straight"
    subprocess.run([sys.executable, "-m", "ssnlib.cli", "train", "--config",
                    str(tmp_path / "configs" / "tiny.yaml"), "steps=8", f"run_dir={straight}"],
                   env=ENV, cwd=ROOT, check=True, capture_output=True, timeout=600)
    reference = load_checkpoint(straight / "ckpt-00000008.pt")
    for net in ("G", "D", "G_ema"):
        for key, value in reference[net].items():
            assert torch.equal(second[net][key], value), f"{net}.{key} differs after resuming"

    ledger = json.loads((tmp_path / "data" / "tiny" / "manifest.json").read_text())
    first, then = ledger["installments"]
    assert (first["images_before"], first["images_after"]) == (0, 16)
    assert (then["images_before"], then["images_after"]) == (16, 32)
    assert "--resume auto" in then["command"] and "steps=8" in then["command"]
    assert "--resume" not in first["command"]
    for entry in (first, then):
        assert entry["wall_time_s"] > 0 and entry["img_per_s"] > 0 and entry["commit"]
        scores = entry["scores"]
        assert scores["fid"] > 0 and 0 <= scores["precision"] <= 1 and 0 <= scores["recall"] <= 1
        assert "--metrics fid,kid,pr,attributes" in entry["scores_command"]
        # what the samples miss: attribute shares against the data's, kept in the entry
        assert 0 <= scores["attribute_tv"] <= 1 and scores["spread_ratio"] >= 0
        shares = entry["attributes"]["discrete"]["faces/hair_style"]
        assert len(shares["data"]) == len(shares["samples"]) == len(shares["classes"]) == 5
    for picture in ("samples.png", "progress.png"):
        assert (tmp_path / "data" / "tiny" / picture).stat().st_size > 1000


@pytest.mark.slow
def test_the_gpu_window_script_packs_one_archive_per_run(tmp_path):
    """tools/gpu_installments.py, rehearsed on the CPU: the runs continue side by side into a
    scratch copy (the committed states stay as they are) and come back one archive each."""
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "tiny.yaml").write_text(TINY)
    out = tmp_path / "out"
    extra = [f"--pass=--{p}-dir={tmp_path / p}" for p in ("configs", "stats")]
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "gpu_installments.py"), str(out),
                           "tiny", "--dry-run", "--minutes", "5", *extra, "--pass=--num=24",
                           "--commit", "c0ffee"],
                          capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert [p.name for p in out.iterdir()] == ["tiny.tar.gz"]
    assert not (ROOT / "data" / "runs" / "tiny").exists()
    with tarfile.open(out / "tiny.tar.gz") as tar:
        assert {"tiny/state.pt", "tiny/manifest.json", "tiny/config.yaml", "tiny/samples.png",
                "tiny/installment.log"} <= set(tar.getnames())
        ledger = json.load(tar.extractfile("tiny/manifest.json"))
    [entry] = ledger["installments"]
    assert "device=cpu" in entry["command"] and entry["images_after"] == 16
    # the code is the commit named, not the git state of the copy it ran in
    assert entry["commit"] == "c0ffee" and entry["dirty"].startswith("not checked")


def test_the_gpu_window_script_needs_the_developers_commit(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "gpu_installments.py"),
                           str(tmp_path), "tiny"], capture_output=True, text=True, env=ENV)
    assert proc.returncode != 0 and "--commit SHA is required" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_an_ssn_run_starts_from_a_transfer_of_a_stylegan2_run(tmp_path):
    """The paper's protocol in installments: a StyleGAN2 run, ``transfer`` into the SSN run's
    init file (the one its config names), then the SSN's first installment trains from it."""
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "tiny.yaml").write_text(TINY)
    init = tmp_path / "data" / "tiny-ssn" / "init.pt"
    ssn = TINY.replace("arch: stylegan2", "arch: ssn").replace(
        "config: tiny,", f"config: tiny, init: {init},")
    (tmp_path / "configs" / "tiny-ssn.yaml").write_text(ssn)
    installment(tmp_path, "train", "tiny", "--minutes", "10")
    installment(tmp_path, "transfer", "tiny-ssn", "--from", "tiny")
    assert init.is_file()
    installment(tmp_path, "train", "tiny-ssn", "--minutes", "10")
    ledger = json.loads((tmp_path / "data" / "tiny-ssn" / "manifest.json").read_text())
    assert ledger["transfer"]["from"] == "tiny" and ledger["transfer"]["images"] == 16
    assert ledger["transfer"]["command"].startswith("ssn transfer ")
    assert [e["images_after"] for e in ledger["installments"]] == [16]
    # an SSN's record adds its resampling metrics; ``score`` measures them again from the
    # committed state alone, and finds the same
    [entry] = ledger["installments"]
    assert {"distortion", "energy_inside"} <= set(entry["scores"])
    assert "--metrics distortion,locality,seams" in entry["more_scores"][0]["command"]
    assert entry["scores"]["data_seam_contrast"] > 0 < entry["scores"]["seam_contrast"]
    shutil.rmtree(tmp_path / "runs")
    installment(tmp_path, "score", "tiny-ssn")
    [again_entry] = json.loads((tmp_path / "data" / "tiny-ssn" / "manifest.json").read_text()
                               )["installments"]
    assert again_entry["scores"] == entry["scores"] and len(again_entry["more_scores"]) == 2
    again = subprocess.run([sys.executable, str(ROOT / "tools" / "installment.py"), "transfer",
                            "tiny-ssn", "--from", "tiny",
                            *[f"--{p}-dir={tmp_path / p}" for p in ("data", "runs", "configs")]],
                           capture_output=True, text=True, env=ENV, cwd=ROOT)
    assert again.returncode != 0 and "has trained already" in again.stderr
    # a new lambda_D starts from its twin's very start, though the twin has trained on
    (tmp_path / "configs" / "tiny-ssn2.yaml").write_text(ssn.replace(
        "tiny-ssn/init.pt", "tiny-ssn2/init.pt").replace("distortion_weight: 0",
                                                          "distortion_weight: 300"))
    installment(tmp_path, "transfer", "tiny-ssn2", "--like", "tiny-ssn")
    assert (tmp_path / "data" / "tiny-ssn2" / "init.pt").read_bytes() == init.read_bytes()
    shared = json.loads((tmp_path / "data" / "tiny-ssn2" / "manifest.json").read_text())
    assert shared["transfer"] == {**ledger["transfer"], "like": "tiny-ssn"}
    assert shared["installments"] == []
    unlike = subprocess.run([sys.executable, str(ROOT / "tools" / "installment.py"), "transfer",
                             "tiny-ssn2", "--like", "tiny",
                             *[f"--{p}-dir={tmp_path / p}" for p in ("data", "runs", "configs")]],
                            capture_output=True, text=True, env=ENV, cwd=ROOT)
    assert unlike.returncode != 0 and "tiny did not start from a transfer" in unlike.stderr


@pytest.mark.slow
def test_a_branch_from_a_runs_start_becomes_its_first_installment(tmp_path):
    """``adopt``: a branch trained elsewhere from the same init bytes, agreeing with the run's
    config in every resume key, becomes installment 1 (its images, its command, model.init
    renamed to the run's own file) and the run trains on from it; a branch from other bytes
    or of another model is refused with one line."""
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "tiny.yaml").write_text(TINY)
    installment(tmp_path, "train", "tiny", "--minutes", "10")
    init = tmp_path / "data" / "tiny-ssn" / "init.pt"
    ssn = TINY.replace("arch: stylegan2", "arch: ssn").replace(
        "config: tiny,", f"config: tiny, init: {init},")
    (tmp_path / "configs" / "tiny-ssn.yaml").write_text(ssn)
    installment(tmp_path, "transfer", "tiny-ssn", "--from", "tiny")
    start, branch = tmp_path / "study-start.pt", tmp_path / "study" / "arm"
    shutil.copyfile(init, start)
    launched = ["train", "--config", str(tmp_path / "configs" / "tiny-ssn.yaml"),
                f"model.init={start}", "reg.distortion_weight=5", f"run_dir={branch}"]
    subprocess.run([sys.executable, "-m", "ssnlib.cli", *launched], check=True, env=ENV,
                   cwd=ROOT, capture_output=True)
    ckpt = branch / "ckpt-00000004.pt"

    def refused(why: str) -> None:
        proc = subprocess.run([sys.executable, str(ROOT / "tools" / "installment.py"), "adopt",
                               "tiny-ssn", "--ckpt", str(ckpt), "--launched-as", "x",
                               *[f"--{p}-dir={tmp_path / p}" for p in
                                 ("data", "runs", "configs", "stats")]],
                              capture_output=True, text=True, env=ENV, cwd=ROOT)
        assert proc.returncode != 0 and why in proc.stderr and "Traceback" not in proc.stderr

    start.write_bytes(b"another start")
    refused("not from the bytes of")
    shutil.copyfile(init, start)
    (tmp_path / "configs" / "tiny-ssn.yaml").write_text(ssn.replace("channel_max: 8, z_dim",
                                                                    "channel_max: 16, z_dim"))
    refused("model settings differ")
    (tmp_path / "configs" / "tiny-ssn.yaml").write_text(ssn)
    installment(tmp_path, "adopt", "tiny-ssn", "--ckpt", str(ckpt),
                "--launched-as", "ssn " + " ".join(launched))
    [entry] = json.loads((tmp_path / "data" / "tiny-ssn" / "manifest.json").read_text()
                         )["installments"]
    assert (entry["images_before"], entry["images_after"], entry["step"]) == (0, 16, 4)
    assert entry["command"] == "ssn " + " ".join(launched) and str(ckpt) in entry["adopted"]
    assert entry["wall_time_s"] > 0 and {"fid", "distortion"} <= set(entry["scores"])
    state = load_checkpoint(tmp_path / "data" / "tiny-ssn" / "state.pt")
    assert state["config"]["model"]["init"] == str(init)
    assert state["config"]["reg"]["distortion_weight"] == 5      # what trained it, as it was
    installment(tmp_path, "train", "tiny-ssn", "--minutes", "10", "--set", "steps=6")
    ledger = json.loads((tmp_path / "data" / "tiny-ssn" / "manifest.json").read_text())
    assert [e["images_after"] for e in ledger["installments"]] == [16, 24]


def test_a_first_installment_needs_a_config(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "installment.py"), "train",
                           "nothing", f"--configs-dir={tmp_path}", f"--data-dir={tmp_path}",
                           f"--runs-dir={tmp_path}"], capture_output=True, text=True, env=ENV)
    assert proc.returncode != 0 and "nothing.yaml" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_the_recipe_study_scores_every_checkpoint_of_every_variant(tmp_path):
    """tools/recipe_study.py on a tiny recipe: two variants, a checkpoint every 8 images, each
    scored; the manifest holds both curves with images rising, training seconds never falling."""
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(TINY)
    out = tmp_path / "study"
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "recipe_study.py"), str(out),
                           "--recipe", str(recipe), "--variant", "base=", "--variant",
                           "lr=optim.g_lr=0.001,optim.d_lr=0.001", "--minutes", "5", "--every",
                           "8", "--num", "24", "--runs", str(tmp_path / "runs"),
                           "--stats-dir", str(tmp_path / "stats")],
                          capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    manifest = json.loads((out / "manifest.json").read_text())
    assert list(manifest["variants"]) == ["base", "lr"]
    for curve in manifest["variants"].values():
        points = curve["points"]
        assert [p["images"] for p in points] == [8, 16]
        # cumulative training seconds, rounded to 0.1 s: 8 tiny images may add less than that
        assert points[0]["train_s"] <= points[1]["train_s"] and points[1]["fid"] > 0
        assert 0 <= points[1]["coverage"] <= 1 and points[1]["radius_ratio"] > 0
    assert manifest["variants"]["lr"]["overrides"] == ["optim.g_lr=0.001", "optim.d_lr=0.001"]
    assert (out / "curves.png").stat().st_size > 1000


def branched_study(tmp_path: Path, recipe_text: str, *options: str) -> tuple[Path, dict]:
    """Train RECIPE_TEXT 2 steps, then run recipe_study from that checkpoint with
    ``options`` (the variants and extras); the start and the study's manifest."""
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(recipe_text)
    first = subprocess.run([sys.executable, "-m", "ssnlib.cli", "train", "--config", str(recipe),
                            "steps=2", f"run_dir={tmp_path / 'first'}"],
                           capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=600)
    assert first.returncode == 0, first.stderr[-3000:]
    (start,) = (tmp_path / "first").glob("ckpt-*.pt")
    out = tmp_path / "study"
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "recipe_study.py"), str(out),
                           "--recipe", str(recipe), "--start", str(start), *options,
                           "--minutes", "5", "--every", "8", "--num", "24", "--runs",
                           str(tmp_path / "runs"), "--stats-dir", str(tmp_path / "stats")],
                          capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (out / "curves.png").stat().st_size > 1000
    return start, json.loads((out / "manifest.json").read_text())


@pytest.mark.slow
def test_the_recipe_study_branches_every_variant_from_one_start(tmp_path):
    """--start: both variants resume from the same checkpoint, which is scored once and opens
    both curves at 0 training seconds; their own checkpoints follow it."""
    start, manifest = branched_study(tmp_path, TINY, "--variant", "base=",
                                     "--variant", "R1=reg.r1_gamma=0.1")
    assert manifest["start"] == str(start)
    base, r1 = (manifest["variants"][v]["points"] for v in ("base", "R1"))
    assert base[0] == r1[0] and base[0]["images"] == 8 and base[0]["train_s"] == 0
    assert [p["images"] for p in base] == [p["images"] for p in r1] == [8, 16]
    assert base[1]["train_s"] > 0 and base[1]["fid"] != r1[1]["fid"]
    assert "--resume auto" in manifest["variants"]["R1"]["command"]
    assert "distortion" not in base[1]                  # only when asked


@pytest.mark.slow
def test_the_recipe_study_scores_distortion_when_asked(tmp_path):
    """--resampling: an SSN recipe's checkpoints also get distortion and the share inside the
    block, a lambda_D branch among the variants; the start carries them too."""
    _, manifest = branched_study(tmp_path, TINY.replace("arch: stylegan2", "arch: ssn"),
                                 "--variant", "base=", "--variant",
                                 "ld=reg.distortion_weight=300", "--resampling", "8")
    variants = manifest["variants"]
    for curve in variants.values():
        for point in curve["points"]:
            assert point["distortion"] > 0 and 0 <= point["energy_inside"] <= 1
            assert point["block_variance"] > 0 and point["relative_leak"] > 0
            assert 0 <= point["block_rho2"] <= 1 and 0 <= point["attribute_tv"] <= 1
            assert point["seam_contrast"] > 0 and 0.5 < point["data_seam_contrast"] < 2
    base, ld = variants["base"]["points"], variants["ld"]["points"]
    assert base[0] == ld[0] and base[1]["distortion"] != ld[1]["distortion"]
    for point in base + ld:                 # four decimals, four significant digits below 1
        for v in (v for v in point.values() if isinstance(v, float)):
            assert v == (float(f"{v:.4g}") if abs(v) < 1 else round(v, 4))


@pytest.mark.slow
def test_a_recipe_study_refreshes_its_points_from_their_reports(tmp_path):
    """--refresh rewrites every point from the eval reports in --runs without training or
    scoring: damaged or missing numbers come back as they were measured; a point whose reports
    are gone keeps what it had, and the manifest says how many."""
    _, manifest = branched_study(tmp_path, TINY.replace("arch: stylegan2", "arch: ssn"),
                                 "--variant", "ld=reg.distortion_weight=300",
                                 "--resampling", "8")
    out, runs = tmp_path / "study", tmp_path / "runs"
    damaged = json.loads((out / "manifest.json").read_text())
    first, last = damaged["variants"]["ld"]["points"]
    last["fid"], first["energy_inside"] = 0.0, 2.0
    del last["distortion"]
    (out / "manifest.json").write_text(json.dumps(damaged))
    reports = sorted(runs.glob("ld/*.scores.json"))
    assert len(reports) == 1                        # the last point; the first is the start's
    before = os.stat(reports[0]).st_mtime_ns

    def refresh(*options: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(ROOT / "tools" / "recipe_study.py"), str(out),
                               "--refresh", "--runs", str(runs), *options],
                              capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=600)

    proc = refresh()
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "refreshed 2 points" in proc.stdout and os.stat(reports[0]).st_mtime_ns == before
    refreshed = json.loads((out / "manifest.json").read_text())
    assert refreshed["variants"] == manifest["variants"]
    assert refreshed["refreshed"][0]["without_reports"] == 0
    # --seams N scores the seam contrast where a checkpoint lacks it (a study older than it)
    seams = sorted(runs.rglob("*.seams.json"))
    assert len(seams) == 2                          # the start's and the last point's
    for report in seams:
        report.unlink()
    for point in damaged["variants"]["ld"]["points"]:
        point.pop("seam_contrast"), point.pop("data_seam_contrast")
    (out / "manifest.json").write_text(json.dumps(damaged))
    proc = refresh("--seams", "8")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert json.loads((out / "manifest.json").read_text())["variants"] == manifest["variants"]
    assert sorted(runs.rglob("*.seams.json")) == seams
    for report in runs.rglob("*.json"):
        report.unlink()
    (out / "manifest.json").write_text(json.dumps(damaged))
    proc = refresh()
    assert "0 points" in proc.stdout and "2 without reports" in proc.stdout
    kept = json.loads((out / "manifest.json").read_text())["variants"]["ld"]["points"]
    assert kept[1]["fid"] == 0.0 and "distortion" not in kept[1]
    gone = subprocess.run([sys.executable, str(ROOT / "tools" / "recipe_study.py"),
                           str(tmp_path / "none"), "--refresh"],
                          capture_output=True, text=True, env=ENV, cwd=ROOT)
    assert gone.returncode != 0 and "none/manifest.json does not exist" in gone.stderr


@pytest.mark.slow
def test_a_recipe_study_extends_with_new_variants_only_on_equal_terms(tmp_path):
    """--extend: a new variant joins OUT's curves (the start reused, not rescored), the earlier
    curves unchanged (older points get ``never_drawn`` from their checkpoints' reports) and the
    extension's command kept; a different budget or a name already there is refused before
    anything trains."""
    start, manifest = branched_study(tmp_path, TINY, "--variant", "base=")
    out, runs = tmp_path / "study", tmp_path / "runs"

    def extend(*options: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(ROOT / "tools" / "recipe_study.py"),
                               str(out), "--extend", "--recipe", str(tmp_path / "recipe.yaml"),
                               "--start", str(start), "--num", "24", "--runs", str(runs),
                               "--stats-dir", str(tmp_path / "stats"), *options],
                              capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=600)

    other = extend("--variant", "R1=reg.r1_gamma=0.1", "--minutes", "5", "--every", "16")
    assert other.returncode != 0 and "has --every 8, not 16" in other.stderr
    again = extend("--variant", "base=", "--minutes", "5", "--every", "8")
    assert again.returncode != 0 and "already has variant 'base'" in again.stderr
    assert "Traceback" not in other.stderr + again.stderr
    (start_report,) = runs.glob("start.scores.json")
    scored = start_report.stat().st_mtime_ns
    older = json.loads((out / "manifest.json").read_text())    # a study from before the field
    for point in older["variants"]["base"]["points"]:
        del point["never_drawn"]
    (out / "manifest.json").write_text(json.dumps(older))
    proc = extend("--variant", "R1=reg.r1_gamma=0.1", "--minutes", "5", "--every", "8")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    extended = json.loads((out / "manifest.json").read_text())
    assert list(extended["variants"]) == ["base", "R1"]
    assert start_report.stat().st_mtime_ns == scored     # the start is not scored again
    # the earlier curve unchanged, its never-drawn classes read back from its eval reports
    assert extended["variants"]["base"] == manifest["variants"]["base"]
    r1 = extended["variants"]["R1"]
    assert r1["points"][0] == manifest["variants"]["base"]["points"][0]
    assert [p["images"] for p in r1["points"]] == [8, 16] and r1["commit"]
    assert extended["command"] == manifest["command"]
    (extension,) = extended["extensions"]
    assert "--extend" in extension["command"] and extension["wall_time_s"] > 0
    assert all(isinstance(p["never_drawn"], list) for p in r1["points"])


def test_a_recipe_study_start_must_exist(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "recipe_study.py"),
                           str(tmp_path / "out"), "--start", str(tmp_path / "none.pt")],
                          capture_output=True, text=True, env=ENV, cwd=ROOT)
    assert proc.returncode != 0 and "none.pt: no such checkpoint" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_v3_configs_follow_the_papers_protocol():
    """Every v3 run loads; each SSN starts from the transfer its own run folder will hold and
    has a StyleGAN2 run of its dataset to come from; all share one recipe. The SSNs penalise
    eq. 2 as written, but for the radial-share runs (with u; study arms made zoo runs), each
    of which has an eq. 2 lambda_D 0 twin of its seed (``results.twin_name``)."""
    from ssnlib.train.config import load_config
    from ssnlib.zoo import results

    configs = {p.stem: load_config(p) for p in (ROOT / "configs/zoo/v3").glob("*.yaml")}
    assert {"faces32-stylegan2", "faces32-ssn-ld0", "faces32-ssn-ld100",
            "skylines32-stylegan2", "skylines32-ssn-ld0", "skylines32-ssn-ld100"} <= set(configs)
    for name, cfg in configs.items():
        assert cfg.run_dir == f"runs/zoo-v3/{name}" and cfg.batch == 16
        if cfg.model.arch == "ssn":
            assert cfg.model.init == f"data/runs/{name}/init.pt"
            assert f"{cfg.data.name}32-stylegan2" in configs
            if "radial" not in name:
                assert cfg.reg.distortion_mode == "outside"
                continue
            assert cfg.reg.distortion_mode == "radial_share" and cfg.reg.distortion_weight > 0
            assert cfg.model.overrides["global_dim"] > 0
            twin = configs[results.twin_name(name)]
            assert twin.reg.distortion_weight == 0 and twin.seed == cfg.seed
            assert twin.model.overrides == {"channel_max": 32}
        else:
            assert not cfg.model.init and cfg.reg.distortion_weight == 0


@pytest.mark.parametrize("run", sorted(p.name for p in (ROOT / "data/runs").glob("*/")))
def test_a_committed_run_resumes_from_what_its_ledger_says(run):
    """Each data/runs/NAME: its state loads without pickled code, is where the ledger's last
    installment ended, and belongs to the run's config (the keys a resume checks)."""
    from ssnlib.train.config import from_dict, load_config
    from ssnlib.train.trainer import RESUME_KEYS

    folder = ROOT / "data/runs" / run
    ledger = json.loads((folder / "manifest.json").read_text())
    if not (folder / "state.pt").is_file():          # transferred, not yet trained
        assert ledger["installments"] == [] and (folder / "init.pt").is_file()
        assert ledger["transfer"]["like"] in {p.name for p in (ROOT / "data/runs").glob("*/")}
        return
    state = load_checkpoint(folder / "state.pt")
    last = ledger["installments"][-1]
    assert (last["step"], last["images_after"]) == (state["step"], state["images_seen"])
    saved = from_dict(state["config"]).to_dict()
    resampling = {"distortion", "energy_inside"} if saved["model"]["arch"] == "ssn" else set()
    needed = {"fid", "kid", "precision", "recall"} | resampling
    # density, coverage, the radius ratio and the attribute shares came later; older entries
    # lack them
    later = {"density", "coverage", "radius_ratio", "attribute_tv", "spread_ratio",
             "seam_contrast", "data_seam_contrast"}
    assert needed <= set(last["scores"]) <= needed | later
    mine = load_config(folder / "config.yaml").to_dict()
    for d in (saved, mine):
        d["data"].pop("workers")                     # changes nothing a resume loads
    assert {k: saved[k] for k in RESUME_KEYS} == {k: mine[k] for k in RESUME_KEYS}


def test_floors_tool_writes_a_perfect_generators_scores_and_leaves_data_stats_alone(tmp_path):
    """tools/floors.py on 12 vs 12 faces: the report holds its command and the scores, and the
    second half is cached in the temporary folder, not in data/stats."""
    before = sorted(p.name for p in (ROOT / "data" / "stats").iterdir())
    out = tmp_path / "floors.json"
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "floors.py"), "--datasets",
                           "faces", "--count", "24", "--out", str(out)], capture_output=True,
                          text=True, env={**ENV, "TMPDIR": str(tmp_path)}, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(out.read_text())
    command = f"python tools/floors.py --datasets faces --count 24 --out {out}"
    assert report["command"] == command
    faces = report["floors"]["faces"]
    assert faces["per_half"] == 12 and faces["k"] == 3 and 0 < faces["coverage"] <= 1
    assert {"fid", "kid", "precision", "recall", "density", "radius_ratio"} <= set(faces)
    assert len(list((tmp_path / "ssn-floors").glob("faces-32px-n12-*.safetensors"))) == 2
    assert sorted(p.name for p in (ROOT / "data" / "stats").iterdir()) == before
