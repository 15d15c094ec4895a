"""The price of consistency (ssnlib.metrics.consistency): bound (1) and the Efron-Stein checks
on block statistics with known ANOVA decompositions, the link to the paper's distortion, and
the data's side."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from test_metrics import FakeSpatial

from ssnlib.blocks import BlockGrid
from ssnlib.metrics.block_pass import block_means
from ssnlib.metrics.consistency import (
    block_correlations,
    conditional_consistency,
    consistency,
    data_consistency,
    leak_floor,
    summarise,
)
from ssnlib.metrics.distortion import distortion_and_locality
from ssnlib.metrics.evaluate import evaluate
from ssnlib.models import build_generator


def redraws(statistic, n: int, count: int, seed: int = 0):
    """Block statistics of ``statistic(x)`` (x [N, n] iid normal -> [N, n]) and their squared
    changes when each input is redrawn, shaped as :func:`summarise` reads them (one channel,
    no noise: its row is zero)."""
    gen = torch.Generator().manual_seed(seed)
    x, fresh = torch.randn(count, n, generator=gen), torch.randn(count, n, generator=gen)
    base = statistic(x)
    changes = []
    for a in range(n):
        moved = x.clone()
        moved[:, a] = fresh[:, a]
        changes.append((statistic(moved) - base).square())
    changes.append(torch.zeros_like(base))
    return base[:, None], torch.stack(changes, 1)[:, None]


def test_a_shared_input_gives_the_leak_and_correlation_of_the_hand_computation():
    # s_b = x_b + c x_{b+1}: V = 1 + c^2, L_b = c^2 (only block b+1 moves it from outside),
    # corr(s_b, s_{b+1}) = c / (1 + c^2); additive, so Efron-Stein holds with equality.
    n, c = 4, 0.5
    out = summarise(*redraws(lambda x: x + c * x.roll(-1, 1), n, 200_000))
    assert out["mean_leak"] == pytest.approx(c ** 2 / (1 + c ** 2), rel=0.02)
    rho = torch.tensor(out["rho"])
    assert rho[0, 1].item() == pytest.approx(c / (1 + c ** 2), abs=0.01)
    assert rho[0, 2].item() == pytest.approx(0, abs=0.01)
    assert out["efron_stein"] == pytest.approx(1, rel=0.01)
    assert out["holds"] == 1 and out["mean_rho2"] <= out["bound_rho2"]


def test_a_pure_interaction_counts_twice_in_efron_stein():
    # s_b = x_b x_{b+1}: both inputs carry all of the variance, so (L + own) / V = 2
    out = summarise(*redraws(lambda x: x * x.roll(-1, 1), 4, 200_000))
    assert out["efron_stein"] == pytest.approx(2, rel=0.02)
    assert out["own_share"] == pytest.approx(1, rel=0.02)
    assert out["mean_leak"] == pytest.approx(1, rel=0.02)


def test_blocks_that_do_not_leak_are_uncorrelated():
    # s_b = tanh(x_b) + x_b^2: nonlinear, but each block is moved by its own input alone,
    # so lambda = 0 exactly and (1) allows no correlation: the samples show none
    out = summarise(*redraws(lambda x: torch.tanh(x) + x.square(), 4, 50_000))
    assert out["mean_leak"] == 0 and out["mean_abs_leak"] == 0
    assert out["mean_rho2"] < 1e-3


def test_a_global_generator_has_perfectly_correlated_blocks_and_pays_for_them():
    # every pixel is the sum of the blocks' first coordinates: rho = 1, and each block is
    # moved by the n - 1 others as much as n - 1 times by its own: lambda = (n - 1) / n * n
    G = FakeSpatial("global")
    out = consistency(G, count=400, seed=0, batch=50)
    n = G.grid.n_blocks
    assert out["mean_rho2"] == pytest.approx(1, abs=1e-6)
    assert out["mean_leak"] == pytest.approx((n - 1) / n, rel=0.1)
    assert out["holds"] == 1 and out["noise_share"] == 0
    # (3) with C = V: (n - 1) / (4 n) V against L = (n - 1) / n V, a quarter of it
    assert out["leak_floor"] == pytest.approx(out["mean_abs_leak"] / 4, rel=0.1)


def test_a_local_generator_does_not_leak():
    # each block paints its own pixels from its own z: nothing leaks, and (1) allows no
    # correlation; "holds" then counts only the pairs whose sampled rho is exactly 0
    out = consistency(FakeSpatial("local"), count=64, seed=0, batch=16)
    assert out["mean_leak"] == 0 and out["mean_abs_leak"] == 0 and out["mean_rho2"] < 0.1


def test_the_bound_and_the_distortion_link_hold_on_an_ssn():
    G = build_generator("ssn", "tiny", channel_max=8, z_dim=8, w_dim=8).eval()
    with torch.no_grad():                    # noise strengths start at 0: give them a say
        for name, p in G.named_parameters():
            if name.endswith("noise.weight"):
                p.fill_(0.3)
    out = consistency(G, count=24, seed=3, batch=8)
    assert out["holds"] == 1 and out["efron_stein"] >= 0.9
    assert 0 < out["noise_share"] < 1 and out["grid"] == [G.grid.n_h, G.grid.n_w]
    # Jensen, per sample: the block means' leak from other blocks (no noise) is at most
    # (n - 1) / 2 x the distortion of the same draws
    d = distortion_and_locality(G, count=24, seed=3, batch=8)["distortion"]
    leak_z = out["mean_abs_leak"] * (1 - out["noise_share"])
    assert 0 < leak_z <= (G.grid.n_blocks - 1) / 2 * d * (1 + 1e-5)


def test_one_resampling_pass_serves_distortion_locality_and_consistency():
    """``evaluate`` with all three runs the generator n + 2 times per sample (g(z), each
    g(z^a), the noise redraw), not 2n + 3, and reports what each metric reports alone."""
    G = build_generator("ssn", "tiny", channel_max=8, z_dim=8, w_dim=8).eval()
    calls = []
    G.register_forward_hook(lambda module, args, out: calls.append(len(out)))
    out = evaluate(G, ["distortion", "locality", "consistency"], num=6, seed=2, batch=6)
    n = G.grid.n_blocks
    assert sum(calls) == 6 * (n + 2)
    alone = consistency(G, count=6, seed=2, batch=3)
    assert {k: out["consistency"][k] for k in alone} == alone
    d = distortion_and_locality(G, count=6, seed=2, batch=3)
    assert out["distortion"]["distortion"] == d["distortion"]
    assert out["locality"]["energy_inside"] == d["energy_inside"]
    calls.clear()
    evaluate(G, ["distortion"], num=6, seed=2, batch=6)
    assert sum(calls) == 6 * (n + 1)                      # no noise redraw when not needed


def test_consistency_is_deterministic_and_batch_free():
    G = FakeSpatial("linear")
    a = consistency(G, count=6, seed=1, batch=2)
    assert consistency(G, count=6, seed=1, batch=2) == a
    b = consistency(G, count=6, seed=1, batch=6)
    assert b["mean_leak"] == pytest.approx(a["mean_leak"], rel=1e-5)


def test_block_means_and_correlations():
    grid = BlockGrid(2, 2, 4, 4)
    images = torch.arange(4.0).reshape(1, 1, 2, 2).repeat_interleave(2, 2).repeat_interleave(
        2, 3).expand(1, 3, 4, 4)
    torch.testing.assert_close(block_means(images, grid)[0, 0], torch.arange(4.0))
    with pytest.raises(ValueError, match="images are 8x8, the block grid is 4x4"):
        block_means(torch.zeros(1, 3, 8, 8), grid)
    x = torch.randn(100, 1, 1, generator=torch.Generator().manual_seed(0))
    rho = block_correlations(torch.cat([x, 2 * x, -x], 2))      # blocks of one variable
    torch.testing.assert_close(rho.abs(), torch.ones(1, 3, 3, dtype=torch.float64))


def test_data_whose_blocks_move_together_need_a_quarter_of_their_variance_leaked():
    grid = BlockGrid(2, 2, 4, 4)
    gen = torch.Generator().manual_seed(0)
    same = torch.randn(64, 3, 1, 1, generator=gen).expand(64, 3, 4, 4)
    out = data_consistency([same[:32], same[32:]], grid)
    assert out["mean_rho2"] == pytest.approx(1) and out["needed_leak"] == pytest.approx(0.25)
    assert out["count"] == 64
    apart = data_consistency([torch.randn(4000, 3, 4, 4, generator=gen)], grid)
    assert apart["mean_rho2"] < 0.01


def shared_sign(x: torch.Tensor, c: float) -> torch.Tensor:
    """Four blocks s_b = x_b + c sign(x_4): input 4 is global, moving every block by +-c."""
    return x[:, :4] + c * x[:, 4:].sign()


def test_the_leak_floor_holds_and_a_label_carrying_the_global_input_removes_it():
    # V = 1 + c^2, C_bc = c^2, and redrawing x_4 flips the sign half the time: L_b = c^2.
    # (3): mean L >= (n - 1) / (4 n) c^4 / (1 + c^2) with n = 4. Given sign(x_4), the blocks
    # are independent: nothing correlates, no leak is needed, and 1 / (1 + c^2) of V is left.
    c = 0.8
    stats, changes = redraws(lambda x: shared_sign(x, c), 5, 100_000)
    out = summarise(stats, changes)
    floor = leak_floor(stats)
    assert floor == pytest.approx(3 / 16 * c ** 4 / (1 + c ** 2), rel=0.03)
    assert out["mean_abs_leak"] == pytest.approx(c ** 2, rel=0.03) and floor < c ** 2
    assert out["leak_floor"] == floor
    x = torch.randn(100_000, 5, generator=torch.Generator().manual_seed(0))
    given = conditional_consistency(shared_sign(x, c)[:, None], (x[:, 4] > 0).long())
    assert given["values"] == 2 and given["count"] == 100_000
    assert given["mean_rho2"] < 1e-3 and given["leak_floor"] < 1e-3 * floor
    assert given["var_share"] == pytest.approx(1 / (1 + c ** 2), rel=0.02)


def test_the_data_side_given_labels_checks_them():
    grid = BlockGrid(2, 2, 4, 4)
    gen = torch.Generator().manual_seed(0)
    tint = torch.randint(2, (400,), generator=gen)                  # a global choice
    images = torch.randn(400, 3, 4, 4, generator=gen) * 0.1 + tint[:, None, None, None]
    out = data_consistency([images], grid, given={"tint": tint})
    assert out["mean_rho2"] > 0.9 and out["given"]["tint"]["mean_rho2"] < 0.05
    assert out["given"]["tint"]["leak_floor"] < 0.01 * out["leak_floor"]
    with pytest.raises(ValueError, match=r"labels 'tint' have shape \(399,\), expected one "
                                         r"per image \(400,\)"):
        data_consistency([images], grid, given={"tint": tint[:399]})
    with pytest.raises(ValueError, match="every label value has a single image"):
        conditional_consistency(torch.zeros(3, 1, 4), torch.arange(3))


def test_a_generator_without_blocks_is_refused():
    G = build_generator("stylegan2", "tiny", channel_max=8, z_dim=8, w_dim=8).eval()
    with pytest.raises(ValueError, match="the consistency bound needs a spatial generator"):
        consistency(G, count=2)


ROOT = Path(__file__).resolve().parents[1]


def test_the_tool_writes_both_sides_with_its_command(tmp_path):
    out = tmp_path / "c.json"
    args = ["--runs", "faces32-ssn-ld0", "--num", "4", "--data-num", "40", "--parallel", "1",
            "--out", str(out)]
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "consistency.py"), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=600,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["command"] == "python tools/consistency.py " + " ".join(args)
    run = report["runs"]["faces32-ssn-ld0"]
    assert run["count"] == 4 and run["dataset"] == "faces" and run["lambda_D"] == 0
    assert report["data"]["faces"]["count"] == 40
    assert report["data"]["faces"]["needed_leak"] == pytest.approx(
        report["data"]["faces"]["mean_rho2"] / 4, rel=1e-3)
    given = report["data"]["faces"]["given"]           # every attribute, continuous binned
    assert {"skin_tone", "background", "yaw (4 bins)"} <= set(given)
    assert all(g["count"] <= 40 and 0 <= g["var_share"] for g in given.values())


def test_the_committed_study_measures_committed_runs_and_the_bound_holds():
    study = ROOT / "data" / "studies" / "consistency" / "manifest.json"
    report = json.loads(study.read_text())
    assert report["command"].startswith("python tools/consistency.py")
    for name, run in report["runs"].items():
        assert (ROOT / "data" / "runs" / name / "state.pt").is_file(), name
        assert run["count"] == report["num"] and run["dataset"] in report["data"]
        assert run["holds"] >= 0.95 and run["mean_rho2"] <= run["bound_rho2"], name
        assert run["efron_stein"] >= 0.95, name
        assert run["mean_abs_leak"] >= run["leak_floor"], name                  # (3)


def test_eval_command_reports_both_sides_and_the_datas(tmp_path):
    from ssnlib.cli import main as cli_main

    out = tmp_path / "result.json"
    assert cli_main(["eval", "--arch", "ssn", "--config", "tiny", "--metrics", "consistency",
                     "--num", "4", "--batch", "4", "--ref", "faces", "--ref-num", "30",
                     "--device", "cpu", "--out", str(out)]) == 0
    result = json.loads(out.read_text())["metrics"]["consistency"]
    assert result["count"] == 4 and result["grid"] == [4, 4] and len(result["leak"]) == 16
    assert result["data"]["count"] == 30 and 0 < result["data"]["mean_rho2"] < 1
