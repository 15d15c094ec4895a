"""Choose the zoo's recipe by measurement (issue 27): train variants of a recipe on the same
small budget, score every checkpoint, and plot FID against images seen and against CPU time.

    python tools/recipe_study.py data/studies/faces32-recipe --minutes 20 --parallel 2
    python tools/recipe_study.py OUT --variant base= --variant wide=model.overrides.channel_max=64

A variant is ``NAME=KEY=VALUE,KEY=VALUE`` (empty: the recipe itself); the default set asks the
issue's questions: width (channel_max 32 vs 64), learning rate, batch, R1 weight, EMA length
and bf16 autocast. Each variant trains with ``ssn train --config RECIPE`` for ``--minutes`` on
one thread (``--parallel`` at a time, one per core), keeping a checkpoint every ``--every``
images; each checkpoint's EMA generator is scored with ``ssn eval`` (domain FID, KID,
precision and recall, ``--num`` vs ``--num`` samples). OUT gets ``manifest.json`` (commands,
commit, device, every score with its images and training seconds) and ``curves.png`` (FID
against images and minutes, coverage against images). The checkpoints stay in
``runs/study/`` (not committed).

``--start STATE`` branches every variant from one training checkpoint instead of fresh
weights, e.g. a zoo run's committed installment, to ask which setting helps from where the run
is now (only settings a resume may change: lr, R1, EMA, lambda_D, not batch or width)::

    python tools/recipe_study.py data/studies/faces32-stylegan2-branches --minutes 20 \
        --start data/runs/faces32-stylegan2/state.pt \
        --recipe data/runs/faces32-stylegan2/config.yaml --num 10000 --every 48000 \
        --variant base=precision=bf16 --variant "R1 0.1=precision=bf16,reg.r1_gamma=0.1"

The start is scored once and opens every curve at 0 training seconds. ``--resampling N``
adds an SSN's distortion (eq. 2), the share of a resample's change inside its block and the
two factors of its leak (block variance, relative leak; chapter 5, "The price of
consistency") and the seam contrast (steps at the block borders over those beside them), on
N samples per checkpoint, and a panel of distortion against images: how a lambda_D raised
from a run's state trades FID for distortion::

    python tools/recipe_study.py data/studies/faces32-ssn-ld100-raise --minutes 40 \
        --start data/runs/faces32-ssn-ld100/state.pt \
        --recipe data/runs/faces32-ssn-ld100/config.yaml --resampling 1000 \
        --variant "lambda_D 100=precision=bf16" \
        --variant "lambda_D 300=precision=bf16,reg.distortion_weight=300"

``--refresh`` rewrites OUT's points from the eval reports left in ``--runs``; with
``--seams N`` it first scores the seam contrast of every checkpoint there that lacks it.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ssnlib.data import procedural_domain  # noqa: E402
from ssnlib.train.checkpoint import (  # noqa: E402
    checkpoint_name,
    list_checkpoints,
    load_checkpoint,
)
from ssnlib.train.config import load_config  # noqa: E402
from ssnlib.train.monitor import loop_seconds  # noqa: E402
from ssnlib.utils import environment_report, git_state  # noqa: E402

SSN = [sys.executable, "-m", "ssnlib.cli"]
RECIPE = "configs/zoo/v3/faces32-stylegan2.yaml"
VARIANTS = {
    "base": [],
    "wide (channel_max 64)": ["model.overrides.channel_max=64",
                              "model.d_overrides.channel_max=64"],
    "lr 0.001": ["optim.g_lr=0.001", "optim.d_lr=0.001"],
    "batch 32": ["batch=32"],
    "R1 0.1": ["reg.r1_gamma=0.1"],
    "EMA 10 kimg": ["ema.kimg=10"],
    # 1.4x the img/s on a CPU with AMX (bench/cpu_zoo.py); does it still train as well?
    "bf16 autocast": ["precision=bf16"],
}


def slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name).strip("-").lower()


def train(variant: str, overrides: list[str], args) -> str:
    """Train one variant into runs/study/... (from ``--start`` if given); the command as
    launched."""
    steps_every = max(1, args.every // load_config(args.recipe, overrides).batch)
    run = args.runs / slug(variant)
    command = ["train", "--config", args.recipe, *overrides, f"run_dir={run}",
               f"time_limit={args.minutes}", f"ckpt_every={steps_every}", "keep_ckpts=0",
               "progress=false", "tensorboard=false"]
    if args.start:
        if run.exists():        # a branch begins at the start, not at an old study's end
            shutil.rmtree(run)
        run.mkdir(parents=True)
        shutil.copyfile(args.start, run / checkpoint_name(args.start_step))
        command += ["--resume", "auto"]
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    subprocess.run([*SSN, *command], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return "OMP_NUM_THREADS=1 ssn " + shlex.join(command)


def evaluate(ckpt: Path, metrics: str, num: int, dataset: str, args, out: Path) -> dict:
    """``ssn eval`` on a checkpoint's EMA generator, on one thread; its metrics block."""
    subprocess.run([*SSN, "eval", "--ckpt", str(ckpt), "--metrics", metrics, "--ref", dataset,
                    "--num", str(num), "--ref-num", str(num), "--batch", "64",
                    "--cache", str(args.stats_dir), "--out", str(out)], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, env=os.environ | {"OMP_NUM_THREADS": "1"})
    return json.loads(out.read_text())["metrics"]


def score(ckpt: Path, dataset: str, args, out: Path | None = None) -> dict:
    """Domain FID, KID, precision, recall, coverage, the radius ratio and (procedural data)
    the attribute TV and smallest spread ratio of a checkpoint's EMA generator (the eval's
    report: ``out``, by default beside the checkpoint); with ``--resampling N`` also an SSN's
    distortion, the share of a resample's change inside its block and that change itself
    (``change_inside``, mean squared; the zoo ledgers' resampling scores) and the two
    factors of its leak, block variance and relative leak, with the blocks' mean squared
    correlation and the share of the leak that the noise moves (a global latent's u
    included; :mod:`ssnlib.metrics.consistency`), on N samples, and the seam contrast of N
    samples and N images of the data (:mod:`ssnlib.metrics.seams`)."""
    out = out or ckpt.with_suffix(".scores.json")
    procedural = procedural_domain(dataset) is not None
    evaluate(ckpt, "fid,kid,pr" + (",attributes" if procedural else ""), args.num,
             dataset, args, out)
    if args.resampling:
        evaluate(ckpt, "distortion,locality,consistency", args.resampling, dataset, args,
                 out.with_suffix(".resampling.json"))
        score_seams(ckpt, dataset, args.resampling, args, out)
    return read_scores(out)


def score_seams(ckpt: Path, dataset: str, num: int, args, out: Path) -> None:
    """The seam contrast report beside ``out`` (the scores report of ``ckpt``)."""
    evaluate(ckpt, "seams", num, dataset, args, out.with_suffix(".seams.json"))


def read_scores(out: Path) -> dict:
    """:func:`score`'s numbers from the reports it left: ``out`` and, where it exists, the
    resampling report beside it."""
    m = json.loads(out.read_text())["metrics"]
    scores = {"fid": m["fid"]["fid"], "kid": m["kid"]["kid"],
              **{k: m["pr"][k] for k in ("precision", "recall", "coverage", "radius_ratio")}}
    if "attributes" in m:
        scores |= {"attribute_tv": m["attributes"]["mean_tv"],
                   "spread_ratio": m["attributes"]["min_spread_ratio"],
                   "never_drawn": never_drawn(m["attributes"])}
    if (resampling := out.with_suffix(".resampling.json")).is_file():
        m = json.loads(resampling.read_text())["metrics"]
        c = m["consistency"]
        scores |= {"distortion": m["distortion"]["distortion"],
                   "energy_inside": m["locality"]["energy_inside"],
                   "change_inside": m["locality"]["inside"],     # what a resample still moves
                   "block_variance": c["mean_var"], "relative_leak": c["mean_leak"],
                   "block_rho2": c["mean_rho2"], "noise_share": c["noise_share"]}
    if (seams := out.with_suffix(".seams.json")).is_file():
        m = json.loads(seams.read_text())["metrics"]["seams"]
        scores |= {k: m[k] for k in ("seam_contrast", "data_seam_contrast")}
    return scores


def never_drawn(report: dict) -> list[str]:
    """The classes of at least 5 % of the data that under 1 % of the samples show, as
    ``attribute=class`` (a mode the generator has lost, not one it under-draws)."""
    return [f"{key.split('/', 1)[1]}={c}" for key, a in report["discrete"].items()
            for c, p, q in zip(a["classes"], a["data"], a["samples"], strict=True)
            if p >= 0.05 and q < 0.01]


def study(variant: str, overrides: list[str], args) -> dict:
    """Train, then score each checkpoint: the variant's curve."""
    launched = train(variant, overrides, args)
    run = args.runs / slug(variant)
    seconds = loop_seconds(run, after_step=args.start_step)
    data = load_config(args.recipe, overrides).data
    dataset = data.path or data.name            # an archive is its own FID reference
    points = []
    for ckpt in list_checkpoints(run):
        state = load_checkpoint(ckpt)
        step = int(state["step"])
        if step == args.start_step and args.start:
            continue                                    # the start, scored once in main()
        known = max(s for s in seconds if s <= step)
        points.append({"step": step, "images": int(state["images_seen"]),
                       "train_s": round(seconds[known], 1),
                       **rounded(score(ckpt, dataset, args))})
        print(f"{variant}: {points[-1]}", flush=True)
    return {"overrides": overrides, "command": launched, "points": points}


def start_step(args) -> int:
    """The step ``--start`` was saved at (0 without one), after checking it loads."""
    if args.start is None:
        return 0
    if not args.start.is_file():
        sys.exit(f"recipe_study: error: --start {args.start}: no such checkpoint")
    return int(load_checkpoint(args.start)["step"])


def score_start(args) -> dict:
    """The shared first point of every branch: the start's scores at 0 training seconds."""
    state = load_checkpoint(args.start)
    args.runs.mkdir(parents=True, exist_ok=True)
    scores = score(args.start, load_config(args.recipe).data.name, args,
                   args.runs / "start.scores.json")
    return {"step": int(state["step"]), "images": int(state["images_seen"]), "train_s": 0.0,
            **rounded(scores)}


def rounded(scores: dict) -> dict:
    """Four decimals, or four significant digits below 1: a distortion of 0.00093 keeps its
    second digit, which four decimals would lose (0.0009), and a ratio of two with it; an
    FID of 1731.2 keeps its first decimal, which four significant digits would lose."""
    return {k: _rounded(v) if isinstance(v, float) else v for k, v in scores.items()}


def _rounded(v: float) -> float:
    return float(f"{v:.4g}") if abs(v) < 1 else round(v, 4)


def draw(curves: dict, path: Path, num: int) -> None:
    """FID against images and minutes, coverage against images and, where the points have
    it (``--resampling``), distortion against images; one line per variant."""
    from matplotlib.ticker import FuncFormatter

    from ssnlib import plotting

    plotting.use_book_style()
    resampling = all("distortion" in p for c in curves.values() for p in c["points"])
    rows, cols = (2, 2) if resampling else (1, 3)     # four panels stay legible at 2 x 2
    fig, axes = plotting.subplots(rows, cols, height=3.2 * rows)
    by_images, by_time, cover, *_ = axes.flat
    for variant, curve in curves.items():
        points = curve["points"]
        thousands = [p["images"] / 1000 for p in points]
        by_images.plot(thousands, [p["fid"] for p in points], "o-", ms=3, label=variant)
        by_time.plot([p["train_s"] / 60 for p in points], [p["fid"] for p in points], "o-", ms=3)
        cover.plot(thousands, [p["coverage"] for p in points], "o-", ms=3)
        if resampling:
            axes.flat[3].plot(thousands, [p["distortion"] for p in points], "o-", ms=3)
    fids = [p["fid"] for c in curves.values() for p in c["points"]]
    # a log axis within one decade can leave its top unlabelled (11 to 14 get no tick)
    fid_scale = "log" if max(fids) > 3 * min(fids) else "linear"
    by_images.set(xlabel="images (thousands)", ylabel=f"domain FID ({num} vs {num})",
                  yscale=fid_scale)
    by_time.set(xlabel="minutes on one core", yscale=fid_scale)
    cover.set(xlabel="images (thousands)", ylabel="coverage (k = 3)")
    logs = [by_images, by_time] if fid_scale == "log" else []
    if resampling:                    # the arms' leaks can lie decades apart
        leaks = [p["distortion"] for c in curves.values() for p in c["points"]]
        axes.flat[3].set(xlabel="images (thousands)", ylabel="distortion (eq. 2)",
                         yscale="log" if max(leaks) > 10 * min(leaks) else "linear")
    plain = FuncFormatter(lambda y, _: f"{y:g}")      # 30, not 3 x 10^1, on the log axes
    for ax in logs:
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(plain)
    long_names = max(map(len, curves)) > 30          # one per row, or the legend sets the width
    fig.legend(*by_images.get_legend_handles_labels(), loc="outside lower center",
               ncols=1 if long_names else 3)
    path.write_bytes(plotting.render(fig)[0])


def parse_variants(specs: list[str]) -> dict[str, list[str]]:
    out = {}
    for spec in specs:
        name, _, overrides = spec.partition("=")
        out[name] = [o for o in overrides.split(",") if o]
    return out


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--recipe", default=RECIPE)
    parser.add_argument("--variant", action="append", help="NAME=KEY=VALUE,... (repeatable)")
    parser.add_argument("--minutes", type=float, default=20, help="training time per variant")
    parser.add_argument("--every", type=int, default=16000, help="images between checkpoints")
    parser.add_argument("--num", type=int, default=2000, help="samples per score")
    parser.add_argument("--resampling", type=int, default=0, metavar="N",
                        help="also score distortion and locality on N samples (SSN recipes)")
    parser.add_argument("--parallel", type=int, default=2, help="variants at a time")
    parser.add_argument("--start", type=Path, help="a training checkpoint every variant "
                        "resumes from (default: fresh weights)")
    parser.add_argument("--extend", action="store_true", help="add the variants to OUT's "
                        "study, which must share recipe, start, minutes, checkpoints and scores")
    parser.add_argument("--refresh", action="store_true", help="rewrite OUT's manifest and "
                        "curves from the eval reports in --runs (no training, no scoring)")
    parser.add_argument("--seams", type=int, metavar="N", help="with --refresh: first score "
                        "the seam contrast (N samples) of every checkpoint that lacks it")
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "study")
    parser.add_argument("--stats-dir", type=Path, default=ROOT / "data" / "stats",
                        help="reference statistics cache (ssn eval --cache)")
    return parser


# what makes two studies' curves comparable
SAME = ("recipe", "start", "minutes", "every", "num", "resampling")


def previous_study(args, variants: dict) -> dict:
    """OUT's manifest, to be extended, after checking its command matches ``SAME`` and its
    variants' names do not clash with the new ones."""
    path = args.out / "manifest.json"
    if not path.is_file():
        sys.exit(f"recipe_study: error: --extend: {path} does not exist")
    manifest = json.loads(path.read_text())
    before = parser().parse_args(shlex.split(manifest["command"])[2:])
    for key in SAME:
        if getattr(before, key) != getattr(args, key):
            sys.exit(f"recipe_study: error: --extend: {path} has --{key} "
                     f"{getattr(before, key)}, not {getattr(args, key)}")
    if clash := sorted(set(variants) & set(manifest["variants"])):
        sys.exit(f"recipe_study: error: --extend: {path} already has variant {clash[0]!r}")
    return manifest


def refresh_points(manifest: dict, args) -> tuple[int, int]:
    """Re-read every point's scores from the ``ssn eval`` reports its checkpoint left in
    ``--runs`` (where they still exist): the same measurements, at :func:`rounded`'s precision,
    with every field the reports hold (``never_drawn`` for a study older than it). Returns
    (points refreshed, points without reports, which keep what they had). With ``--seams N``
    the seam contrast is scored first, on N samples, for every point whose checkpoint is
    still there and has no seams report yet."""
    found = missing = 0
    data = load_config(manifest["recipe"]).data
    for variant, curve in manifest["variants"].items():
        for point in curve["points"]:
            ckpt = args.runs / slug(variant) / checkpoint_name(point["step"])
            report = ckpt.with_suffix(".scores.json")
            if point["train_s"] == 0 and manifest["start"]:
                ckpt, report = Path(manifest["start"]), args.runs / "start.scores.json"
            if (args.seams and report.is_file() and ckpt.is_file()
                    and not report.with_suffix(".seams.json").is_file()):
                score_seams(ckpt, data.path or data.name, args.seams, args, report)
            if report.is_file():
                point |= rounded(read_scores(report))
                found += 1
            else:
                missing += 1
    return found, missing


def refresh(args) -> int:
    """``--refresh``: OUT's manifest and curves rewritten from the reports in ``--runs``."""
    path = args.out / "manifest.json"
    if not path.is_file():
        sys.exit(f"recipe_study: error: --refresh: {path} does not exist")
    manifest = json.loads(path.read_text())
    found, missing = refresh_points(manifest, args)
    manifest.setdefault("refreshed", []).append(
        {"command": "python tools/recipe_study.py " + shlex.join(sys.argv[1:]),
         "date": date.today().isoformat(), "points": found, "without_reports": missing})
    path.write_text(json.dumps(manifest, indent=1) + "\n")
    draw(manifest["variants"], args.out / "curves.png", manifest["score_num"])
    print(f"recipe_study: refreshed {found} points of {path} ({missing} without reports in "
          f"{args.runs} kept as they were)")
    return 0


def run_variants(variants: dict, args, start_point: dict | None) -> dict:
    """Train and score every variant, ``--parallel`` at a time; their curves, each opened by
    the start's point when there is a start (scored once, unless ``start_point`` is known)."""
    with ThreadPoolExecutor(args.parallel) as pool:
        futures = {v: pool.submit(study, v, o, args) for v, o in variants.items()}
        start = pool.submit(score_start, args) if args.start and not start_point else None
        curves = {v: f.result() for v, f in futures.items()}
    if args.start:
        start_point = start_point or start.result()
        for curve in curves.values():
            curve["points"].insert(0, start_point)
    return curves


def main() -> int:
    args = parser().parse_args()
    if args.refresh:
        return refresh(args)
    variants = parse_variants(args.variant) if args.variant else VARIANTS
    args.start_step = start_step(args)
    previous = previous_study(args, variants) if args.extend else None
    launched = {"date": date.today().isoformat(), **git_state("ssnlib")}  # the code that trains
    command = "python tools/recipe_study.py " + shlex.join(sys.argv[1:])
    started = time.monotonic()
    known_start = previous and args.start and next(iter(previous["variants"].values()))
    curves = run_variants(variants, args, known_start and known_start["points"][0])
    wall = round(time.monotonic() - started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    if previous:
        refresh_points(previous, args)
        for curve in curves.values():
            curve |= {"date": launched["date"], "commit": launched["commit"]}
        previous["variants"] |= curves
        previous.setdefault("extensions", []).append(
            {"command": command, **launched, "wall_time_s": wall})
        manifest = previous
    else:
        env = environment_report()
        manifest = {"what": "recipe study: FID against images and CPU time "
                    "(tools/recipe_study.py)", "command": command,
                    "recipe": str(args.recipe), "start": args.start and str(args.start),
                    **launched, "device": env["device"], "torch": env["torch"],
                    "threads_per_run": 1, "parallel": args.parallel,
                    "minutes_per_variant": args.minutes, "score_num": args.num,
                    "wall_time_s": wall, "variants": curves}
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    draw(manifest["variants"], args.out / "curves.png", args.num)
    print(f"recipe_study: wrote {args.out / 'manifest.json'} and curves.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
