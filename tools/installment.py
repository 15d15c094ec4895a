"""Train a zoo run in installments: each session (CPU or GPU) continues it from a committed,
resumable state, and a ledger records what each installment added.

A zoo model needs several hundred thousand images; a session's CPU gives one to three hundred
thousand, a lent GPU window more. So a run lives in ``data/runs/NAME/``:

- ``config.yaml``: the run's training config, fixed at the first installment;
- ``state.pt``: the newest training checkpoint (weights, EMA, optimisers, step, random state;
  float32, so a resumed run continues exactly; read with ``weights_only=True``);
- ``manifest.json``: the ledger, one entry per installment (command, commit, device, threads,
  torch, images before and after, wall time, images/s) with the scores measured after it;
- ``samples.png`` (fixed seeds, EMA generator) and ``progress.png`` (scores against images).

    python tools/installment.py train NAME --minutes 100 [--threads 1] [--set device=cuda]
    python tools/installment.py train NAME --minutes 100 --set steps=35100  # ends at step 35100
    python tools/installment.py record NAME --launched-as "THE COMMAND"   # after a manual run
    python tools/installment.py transfer NAME --from faces32-stylegan2      # before an SSN's first
    python tools/installment.py transfer NAME --like faces32-ssn-ld100      # its twin's start
    python tools/installment.py score NAME --metrics distortion,locality --num 1000
    python tools/installment.py adopt NAME --ckpt runs/study/ARM/ckpt-00007400.pt \
        --launched-as "THE STUDY'S COMMAND" --commit SHA      # a branch becomes installment 1

``train`` restores ``state.pt`` into ``runs/zoo-v3/NAME`` (a GPU loads the CPU checkpoint and
re-seeds only the random stream), runs ``ssn train --resume auto time_limit=MINUTES``, then
records. ``record`` copies the run folder's newest checkpoint to ``state.pt``, scores the EMA
generator (``ssn eval``: domain FID, KID, precision and recall, 10k vs 10k) and appends to the
ledger. ``steps=N`` ends the installment at step N (if the time allows), e.g. at the images its
lambda_D twin has seen, so that the two compare at equal budgets. The first installment starts
from ``configs/zoo/v3/NAME.yaml``. The paper's protocol starts an SSN from a trained StyleGAN2
(section 3.4): ``transfer`` runs ``ssn transfer`` on another run's committed state into
``data/runs/NAME/init.pt``, the file the SSN's config names as ``model.init``, and the ledger
records which installment of which run it came from; ``--like TWIN`` instead copies the init
file that SSN run ``TWIN`` started from, so a new lambda_D starts where its twins did. An
SSN's record adds its resampling metrics (distortion and the share of a resample's change
inside the block) and its seam contrast, 1000 samples each; ``score`` adds metrics to the
newest entry afterwards. ``adopt`` makes a study's branch, trained from the run's own start
under the run's config, the run's first installment instead of training those images again.
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
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ssnlib.train.checkpoint import (  # noqa: E402
    checkpoint_name,
    latest_checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from ssnlib.train.config import from_dict, load_config  # noqa: E402
from ssnlib.train.monitor import loop_seconds  # noqa: E402
from ssnlib.train.trainer import RESUME_KEYS  # noqa: E402
from ssnlib.utils import environment_report, git_state  # noqa: E402
from ssnlib.zoo.runs import LEDGER, STATE  # noqa: E402  (the file names the chapters read)

SSN = [sys.executable, "-m", "ssnlib.cli"]
EVAL_METRICS = "fid,kid,pr,attributes"
# an SSN's resampling metrics (the targets' distortion and share inside the block), on fewer
# samples: each costs a resample per block; and whether its block grid shows (seams: the
# samples' steps across block borders over those beside them, the data's under the same grid)
SSN_METRICS, SSN_NUM = "distortion,locality,seams", 1000
# where each ledger score sits in ssn eval's report
READINGS = {"fid": ("fid", "fid"), "kid": ("kid", "kid"), "precision": ("pr", "precision"),
            "recall": ("pr", "recall"), "radius_ratio": ("pr", "radius_ratio"),
            "density": ("pr", "density"), "coverage": ("pr", "coverage"),
            "distortion": ("distortion", "distortion"),
            "energy_inside": ("locality", "energy_inside"),
            "attribute_tv": ("attributes", "mean_tv"),
            "spread_ratio": ("attributes", "min_spread_ratio"),
            "seam_contrast": ("seams", "seam_contrast"),
            "data_seam_contrast": ("seams", "data_seam_contrast")}
# the attribute shares behind attribute_tv, kept whole in the entry (what the samples miss)
ATTRIBUTE_DETAIL = ("discrete", "continuous", "under_drawn")
# where runs are kept (committed), trained (scratch), first configured and where reference
# statistics are cached; tests move them
PLACES = {"data": ROOT / "data" / "runs", "runs": ROOT / "runs" / "zoo-v3",
          "configs": ROOT / "configs" / "zoo" / "v3", "stats": ROOT / "data" / "stats"}


def folder(name: str) -> Path:
    return PLACES["data"] / name


def run_dir(name: str) -> Path:
    return PLACES["runs"] / name


def shown(path: Path) -> str:
    """``path`` as a command run from the repository root names it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def read_ledger(name: str) -> dict:
    path = folder(name) / LEDGER
    if path.is_file():
        return json.loads(path.read_text())
    return {"name": name, "what": "a zoo run trained in installments (tools/installment.py)",
            "config": f"data/runs/{name}/config.yaml", "state": f"data/runs/{name}/{STATE}",
            "installments": []}


def write_ledger(name: str, ledger: dict) -> None:
    """The ledger, written to a temporary name and renamed: never half written."""
    tmp = folder(name) / (LEDGER + ".tmp")
    tmp.write_text(json.dumps(ledger, indent=1) + "\n")
    tmp.replace(folder(name) / LEDGER)


def restore(name: str) -> int:
    """Put the committed state where ``--resume auto`` finds it; its step (0: none yet)."""
    state_path = folder(name) / STATE
    if not state_path.is_file():
        return 0
    step = int(load_checkpoint(state_path)["step"])
    target = run_dir(name) / checkpoint_name(step)
    newest = latest_checkpoint(run_dir(name))
    if newest is None or int(load_checkpoint(newest)["step"]) < step:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(state_path, target)
    return step


def train(name: str, minutes: float, threads: int, overrides: list[str]) -> tuple[str, int]:
    """One installment of training: the command as launched and the step it started from."""
    start = restore(name)
    config = folder(name) / "config.yaml" if start else PLACES["configs"] / f"{name}.yaml"
    if not config.is_file():
        sys.exit(f"installment: error: no {shown(config)}: a first installment needs "
                 f"{shown(PLACES['configs'] / name)}.yaml")
    args = ["--config", shown(config), f"run_dir={shown(run_dir(name))}",
            f"time_limit={minutes}", *overrides] + (["--resume", "auto"] if start else [])
    env = os.environ | {"OMP_NUM_THREADS": str(threads)}
    launched = f"OMP_NUM_THREADS={threads} ssn train " + shlex.join(args)
    print(f"installment: {launched}", flush=True)
    subprocess.run([*SSN, "train", *args], env=env, cwd=ROOT, check=True)
    return launched, start


def check_new_ssn(name: str) -> Path:
    """``name``'s init file, after checking that its config names it and it has not trained."""
    init = folder(name) / "init.pt"
    config = PLACES["configs"] / f"{name}.yaml"
    if not config.is_file():
        sys.exit(f"installment: error: no {shown(config)}: the SSN run needs a config")
    wanted = Path(load_config(config).model.init or "")
    if (ROOT / wanted).resolve() != init.resolve():
        sys.exit(f"installment: error: {shown(config)} must set model.init: {shown(init)} "
                 f"(it names {str(wanted) or 'none'})")
    if read_ledger(name)["installments"]:
        sys.exit(f"installment: error: {name} has trained already; a new init would not apply")
    folder(name).mkdir(parents=True, exist_ok=True)
    return init


def transfer(name: str, source: str) -> dict:
    """``ssn transfer`` of run ``source``'s state into ``name``'s init file; the ledger entry."""
    state = folder(source) / STATE
    if not state.is_file():
        sys.exit(f"installment: error: no {shown(state)}: train {source} first")
    init = check_new_ssn(name)
    args = ["transfer", shown(state), shown(init)]
    subprocess.run([*SSN, *args], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    last = read_ledger(source)["installments"][-1]
    ledger = read_ledger(name)
    ledger["transfer"] = {"from": source, "installment": last["installment"],
                          "images": last["images_after"], "scores": last["scores"],
                          "command": "ssn " + shlex.join(args), "date": date.today().isoformat(),
                          **git_state("ssnlib")}
    write_ledger(name, ledger)
    return ledger["transfer"]


def share_transfer(name: str, twin: str) -> dict:
    """Start SSN run ``name`` from the very init file that run ``twin`` started from, so that
    runs differing only in their config (lambda_D, say) compare from one start even after
    the StyleGAN2 they came from has trained on; the ledger entry."""
    source, started = folder(twin) / "init.pt", read_ledger(twin).get("transfer")
    if started is None or not source.is_file():
        sys.exit(f"installment: error: {twin} did not start from a transfer "
                 f"(no {shown(source)} or no transfer in its ledger)")
    shutil.copyfile(source, check_new_ssn(name))
    ledger = read_ledger(name)
    ledger["transfer"] = {**started, "like": twin}
    write_ledger(name, ledger)
    return ledger["transfer"]


def adopt(name: str, ckpt: Path) -> Path:
    """Put checkpoint ``ckpt`` (a branch trained elsewhere, e.g. a study's arm) in run
    ``name``'s folder as the state its first installment ends at, with its log for the wall
    time. It must have started from the same bytes as this run's init file and agree with the
    run's config in every key a resume checks; only ``model.init`` is renamed to this run's
    copy of that file, so the adopted state is the one this run's config would have trained."""
    init = check_new_ssn(name)
    if not init.is_file():
        sys.exit(f"installment: error: no {shown(init)}: run transfer first")
    if not ckpt.is_file():
        sys.exit(f"installment: error: {ckpt}: no such checkpoint")
    state = load_checkpoint(ckpt)
    theirs = from_dict(state["config"]).to_dict()
    mine = load_config(PLACES["configs"] / f"{name}.yaml").to_dict()
    started = ROOT / theirs["model"]["init"]
    if not started.is_file() or started.read_bytes() != init.read_bytes():
        sys.exit(f"installment: error: {ckpt} started from {theirs['model']['init']}, "
                 f"not from the bytes of {shown(init)}")
    theirs["model"]["init"] = state["config"]["model"]["init"] = mine["model"]["init"]
    for d in (theirs, mine):
        d["data"].pop("workers")                      # changes nothing a resume loads
    differ = [key for key in RESUME_KEYS if theirs[key] != mine[key]]
    if differ:
        sys.exit(f"installment: error: {ckpt}'s {', '.join(differ)} settings differ from "
                 f"{shown(PLACES['configs'] / name)}.yaml's")
    if latest_checkpoint(run_dir(name)) is not None:
        sys.exit(f"installment: error: {shown(run_dir(name))} holds checkpoints already")
    run_dir(name).mkdir(parents=True, exist_ok=True)
    if (ckpt.parent / "log.jsonl").is_file():
        shutil.copyfile(ckpt.parent / "log.jsonl", run_dir(name) / "log.jsonl")
    return save_checkpoint(state, run_dir(name) / checkpoint_name(int(state["step"])))


def score(name: str, dataset: str, num: int, metrics: str = EVAL_METRICS,
          ckpt: Path | None = None) -> tuple[dict, str, dict]:
    """``metrics`` (``ssn eval``'s names) of the EMA generator in ``ckpt`` (default: the run
    folder's newest checkpoint), as the ledger's flat scores (:data:`READINGS`), the command,
    and the entry's ``attributes`` detail where they were measured. Scores keep four
    significant figures: a radial-share run's distortion is about 0.0002."""
    out = run_dir(name) / "scores.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    args = ["eval", "--ckpt", shown(ckpt or run_dir(name)), "--metrics", metrics,
            "--ref", dataset, "--num", str(num), "--ref-num", str(num), "--batch", "64",
            "--cache", shown(PLACES["stats"]), "--out", shown(out)]
    subprocess.run([*SSN, *args], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    report = json.loads(out.read_text())["metrics"]
    flat = {key: report[group][field] for key, (group, field) in READINGS.items()
            if group in report}
    detail = ({"attributes": {k: report["attributes"][k] for k in ATTRIBUTE_DETAIL}}
              if "attributes" in report else {})
    return ({k: float(f"{float(v):.4g}") for k, v in flat.items()}, "ssn " + shlex.join(args),
            detail)


def rescore(name: str, metrics: str, num: int) -> dict:
    """Add ``metrics`` of the committed state to the newest ledger entry (the state must be
    the one that entry recorded)."""
    ledger = read_ledger(name)
    if not ledger["installments"]:
        sys.exit(f"installment: error: {name} has no installment to score")
    entry = ledger["installments"][-1]
    state = load_checkpoint(folder(name) / STATE)
    if int(state["step"]) != entry["step"]:
        sys.exit(f"installment: error: {folder(name) / STATE} is at step {state['step']}, "
                 f"the newest entry at {entry['step']}")
    cfg = load_config(folder(name) / "config.yaml")
    scores, command, detail = score(name, cfg.data.name, num, metrics, folder(name) / STATE)
    entry["scores"].update(scores)
    entry.update(detail)
    entry.setdefault("more_scores", []).append({"command": command, "num": num})
    write_ledger(name, ledger)
    draw(name, ledger, samples=False)
    return entry


def record(name: str, launched: str, start: int, code: dict, threads: int, num: int) -> dict:
    """Ship the newest checkpoint as the run's state, score it, append to the ledger."""
    newest = latest_checkpoint(run_dir(name))
    if newest is None:
        sys.exit(f"installment: error: no checkpoint in {run_dir(name)}; nothing to record")
    state = load_checkpoint(newest)
    folder(name).mkdir(parents=True, exist_ok=True)
    if not (folder(name) / "config.yaml").is_file():        # the first installment's
        shutil.copyfile(PLACES["configs"] / f"{name}.yaml", folder(name) / "config.yaml")
    tmp = folder(name) / (STATE + ".tmp")
    shutil.copyfile(newest, tmp)
    tmp.replace(folder(name) / STATE)                 # atomic: never a half-written state
    cfg = load_config(folder(name) / "config.yaml")
    metrics, eval_command, detail = score(name, cfg.data.name, num)
    more = []
    if cfg.model.arch == "ssn":
        scores, command, _ = score(name, cfg.data.name, min(num, SSN_NUM), SSN_METRICS)
        metrics.update(scores)
        more.append({"command": command, "num": min(num, SSN_NUM)})
    logged = loop_seconds(run_dir(name), start)       # up to the state's step, not past it
    seconds = max((t for k, t in logged.items() if k <= state["step"]), default=0.0)
    batch, env = cfg.batch, environment_report()
    entry = {"installment": len(read_ledger(name)["installments"]) + 1,
             "date": date.today().isoformat(), "command": launched, **code,
             "device": env.get("gpu", env["device"]), "threads": threads, "torch": env["torch"],
             "images_before": start * batch, "images_after": int(state["images_seen"]),
             "step": int(state["step"]), "wall_time_s": round(seconds, 1),
             "img_per_s": round((int(state["step"]) - start) * batch / max(seconds, 1e-9), 1),
             "scores": metrics, "scores_command": eval_command, "scores_num": num, **detail,
             **({"more_scores": more} if more else {})}
    ledger = read_ledger(name)
    ledger["installments"].append(entry)
    write_ledger(name, ledger)
    draw(name, ledger)
    return entry


def draw(name: str, ledger: dict, samples: bool = True) -> None:
    """samples.png from the state's EMA generator (``samples``); progress.png: scores against
    images."""
    if samples:
        subprocess.run([*SSN, "sample", "--ckpt", shown(folder(name) / STATE), "--seeds",
                        "0-31", "--out", shown(folder(name) / "samples.png")],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    from ssnlib import plotting

    plotting.use_book_style()
    rows = ledger["installments"]
    images = [r["images_after"] / 1000 for r in rows]
    fig, (left, right) = plotting.subplots(1, 2, height=2.8)
    left.plot(images, [r["scores"]["fid"] for r in rows], "o-")
    num = rows[-1]["scores_num"]
    left.set(xlabel="training images (thousands)", ylabel=f"domain FID ({num} vs {num})")
    for key in ("precision", "recall", "coverage"):     # coverage: newer entries only
        have = [(x, r["scores"][key]) for x, r in zip(images, rows, strict=True)
                if key in r["scores"]]
        if have:
            right.plot(*zip(*have, strict=True), "o-", label=key)
    right.set(xlabel="training images (thousands)", ylim=(0, 1), title="k = 3")
    right.legend()
    fig.suptitle(f"{name}, after each installment")
    png, _ = plotting.render(fig)
    (folder(name) / "progress.png").write_bytes(png)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("train", "record", "transfer", "score", "adopt"))
    parser.add_argument("name", help="the run, e.g. faces32-stylegan2 (configs/zoo/v3/NAME.yaml)")
    parser.add_argument("--minutes", type=float, default=60, help="training time (train)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="train: a config override for this installment (device=cuda, "
                             "steps=..., data.workers=8); recorded in the ledger's command")
    parser.add_argument("--threads", type=int, default=1, help="OMP_NUM_THREADS for training")
    parser.add_argument("--launched-as", help="record: the command that trained this part")
    parser.add_argument("--since-step", type=int, help="record: the step this part began at")
    parser.add_argument("--commit", help="record: the commit that trained it (default: HEAD; "
                        "SSN_COMMIT names it for a copy of a checkout, e.g. the device tool's)")
    parser.add_argument("--num", type=int, help="samples for the scores (default: 10000; "
                        f"score: {SSN_NUM})")
    parser.add_argument("--metrics", default=SSN_METRICS,
                        help="score: ssn eval metrics to add to the newest entry")
    parser.add_argument("--from", dest="source", help="transfer: the StyleGAN2 run to start from")
    parser.add_argument("--ckpt", type=Path, help="adopt: the branch's checkpoint")
    parser.add_argument("--like", help="transfer: start from this SSN run's own start (its "
                        "init file), e.g. a new lambda_D beside its twins")
    for place in PLACES:
        parser.add_argument(f"--{place}-dir", type=Path, default=PLACES[place],
                            help=f"where runs' {place} are (default: {shown(PLACES[place])})")
    args = parser.parse_args()
    PLACES.update({place: getattr(args, f"{place}_dir").resolve() for place in PLACES})
    started = time.monotonic()
    if args.action == "transfer":
        if (args.source is None) == (args.like is None):
            parser.error("transfer needs --from RUN or --like RUN")
        made = (transfer(args.name, args.source) if args.like is None
                else share_transfer(args.name, args.like))
        print(json.dumps(made, indent=1))
        return 0
    if args.action == "score":
        print(json.dumps(rescore(args.name, args.metrics, args.num or SSN_NUM), indent=1))
        return 0
    code = git_state("ssnlib", "configs") if args.commit is None else {
        "commit": args.commit, "dirty": "not recorded (trained outside installment.py)"}
    if args.action == "train":
        launched, start = train(args.name, args.minutes, args.threads, args.set)
    elif args.action == "adopt":
        if args.launched_as is None or args.ckpt is None:
            parser.error("adopt needs --ckpt and --launched-as (the branch's own command)")
        launched, start = args.launched_as, 0
        code["adopted"] = shown(adopt(args.name, args.ckpt.resolve())) + " from " + str(args.ckpt)
    else:
        if args.launched_as is None or args.since_step is None:
            parser.error("record needs --launched-as and --since-step")
        launched, start = args.launched_as, args.since_step
    entry = record(args.name, launched, start, code, args.threads, args.num or 10000)
    print(json.dumps(entry, indent=1))
    print(f"installment: done in {time.monotonic() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
