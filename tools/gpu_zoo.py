"""Model zoo v2 in one GPU window (issue 20): 64 px faces and skylines by the paper's protocol.

    python tools/gpu_zoo.py OUT --commit SHA     # one H100/H200, about 9 minutes
    python tools/gpu_zoo.py OUT --profile tiny   # the same logic on a CPU in about two minutes

1. render the procedural training sets into packed archives (``ssn prepare-data --workers``);
2. phase A, all at once on the one GPU: StyleGAN2 on faces and on skylines, and SPADE on faces
   from scratch (it has no StyleGAN2 to start from and trains through both phases);
3. ``ssn transfer`` of each StyleGAN2 into an SSN (paper, section 3.4);
4. phase B, all at once: the SSNs fine-tuned from the transfers with lambda_D in {0, 100, 1000}
   (faces) and {0, 100} (skylines);
5. ``ssn export`` and ``ssn eval --record`` of every model (domain FID/KID on ``eval_num``
   samples, Inception FID where the detector is installed, PPL, distortion and locality),
   several models at a time, then ``ssn results``;
6. pack the exported models, ``RESULTS.md`` with its figures, a summary (commands, images per
   second of every run, wall times, environment) and the logs into at most 8 files in OUT
   (none over 15 MiB: a bigger archive is split into parts; ``cat`` them back together).

Small models leave an H200 mostly idle, so the runs of a phase share it; ``--probe`` first
measures total images per second with 1, 2, 4 and 8 concurrent runs. Every training run stops
by its own ``time_limit``, so a slow GPU gives shorter runs, not a missed window.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tarfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))              # ssnlib from this checkout (no install on the device)
MAX_FILE = 15 * 2**20                  # the device tool brings back files of at most 16 MiB


@dataclass
class Profile:
    resolution: int
    count: int                         # training images rendered per dataset
    phase_a_min: float                 # minutes of StyleGAN2 (and SPADE) training
    phase_b_min: float                 # minutes of SSN fine-tuning
    eval_num: int                      # samples for FID/KID (and reference images)
    ppl_num: int
    distortion_num: int
    render_workers: int
    train: list[str] = field(default_factory=list)     # overrides for every training run
    steps: int = 0                     # > 0: a fixed number of steps instead of time limits
    inception: bool = True             # Inception FID too, where the detector is installed


PROFILES = {
    "gpu": Profile(64, 50_000, 2.5, 3.0, 10_000, 2_000, 1_000, 7,
                   ["data.workers=1", "log_every=50", "sample_every=1000", "ckpt_every=100000",
                    "keep_ckpts=1", "progress=false", "tensorboard=false", "kimg=100000"]),
    "tiny": Profile(32, 96, 0, 0, 32, 8, 4, 2,
                    ["model.config=tiny", "data.resolution=32", "model.overrides.channel_max=8",
                     "model.overrides.z_dim=8", "model.overrides.w_dim=8",
                     "model.overrides.n_mlp=2", "model.d_overrides.channel_max=8", "batch=4",
                     "data.workers=0", "log_every=1", "sample_every=2", "ckpt_every=2",
                     "progress=false", "tensorboard=false", "reg.pl_interval=2",
                     "reg.distortion_interval=2"], steps=2, inception=False),
}

# name -> (config, dataset, extra overrides); SSNs start from their dataset's StyleGAN2
PHASE_A = {
    "faces64-stylegan2": ("faces64-stylegan2", "faces", []),
    "skylines64-stylegan2": ("skylines64", "skylines", ["model.arch=stylegan2",
                                                        "reg.distortion_weight=0"]),
    "faces64-spade-ld0": ("faces64-spade", "faces", ["reg.distortion_weight=0"]),
}
PHASE_B = {f"{d}64-ssn-ld{lam}": (cfg, d, [f"reg.distortion_weight={lam}"])
           for d, cfg, lams in (("faces", "faces64", (0, 100, 1000)),
                                ("skylines", "skylines64", (0, 100))) for lam in lams}


class Runner:
    """Starts commands, all logged under ``work/logs``, and waits for groups of them."""

    def __init__(self, work: Path, env: dict):
        self.work, self.env = work, env
        self.logs = work / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.records: list[dict] = []

    def start(self, name: str, argv: list[str]) -> tuple[str, subprocess.Popen, float]:
        log = open(self.logs / f"{name}.log", "w")          # noqa: SIM115 - closed by wait
        proc = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=log,
                                stderr=subprocess.STDOUT)
        return name, proc, time.perf_counter()

    def wait(self, started: list) -> dict[str, bool]:
        ok = {}
        for name, proc, t0 in started:
            code = proc.wait()
            proc.stdout and proc.stdout.close()
            ok[name] = code == 0
            self.records.append({"name": name, "argv": " ".join(proc.args), "exit": code,
                                 "seconds": round(time.perf_counter() - t0, 1)})
            print(f"  {name}: {'ok' if code == 0 else f'FAILED (exit {code})'} in "
                  f"{self.records[-1]['seconds']} s", flush=True)
        return ok

    def run_all(self, jobs: dict[str, list[str]]) -> dict[str, bool]:
        return self.wait([self.start(name, argv) for name, argv in jobs.items()])


def ssn(*args: str) -> list[str]:
    return [sys.executable, "-m", "ssnlib.cli", *args]


def prepare(runner: Runner, p: Profile, data: Path) -> dict[str, bool]:
    jobs = {f"data-{d}": ssn("prepare-data", str(data / d), "--dataset", d, "--count",
                             str(p.count), "--resolution", str(p.resolution), "--workers",
                             str(p.render_workers), "--overwrite")
            for d in ("faces", "skylines")}
    return runner.run_all(jobs)


def train_argv(name: str, spec: tuple, p: Profile, data: Path, runs: Path, minutes: float,
               init: Path | None = None) -> list[str]:
    config, dataset, extra = spec
    length = [f"steps={p.steps}"] if p.steps else [f"time_limit={minutes}"]
    init_key = [f"model.init={init}"] if init is not None else []
    return ssn("train", "--config", config, *p.train, *extra, *length, *init_key,
               f"data.path={data / dataset}", f"run_dir={runs / name}")


def phase(runner: Runner, specs: dict, p: Profile, data: Path, runs: Path, minutes: float,
          inits: dict[str, Path] | None = None) -> dict[str, bool]:
    jobs = {}
    for name, spec in specs.items():
        init = None if inits is None else inits.get(spec[1])
        if inits is not None and init is None:
            print(f"  {name}: skipped (no transferred StyleGAN2 for {spec[1]})")
            continue
        jobs[name] = train_argv(name, spec, p, data, runs, minutes, init)
    return runner.run_all(jobs)


def transfer(runner: Runner, ok: dict[str, bool], runs: Path) -> dict[str, Path]:
    jobs, inits = {}, {}
    for dataset in ("faces", "skylines"):
        source = f"{dataset}64-stylegan2"
        if ok.get(source):
            inits[dataset] = runs / f"{dataset}64-ssn.init.pt"
            jobs[f"transfer-{dataset}"] = ssn("transfer", str(runs / source),
                                              str(inits[dataset]))
    done = runner.run_all(jobs)
    return {d: path for d, path in inits.items() if done.get(f"transfer-{d}")}


def score(runner: Runner, names: list[str], p: Profile, runs: Path, zoo: Path,
          commands: dict[str, str], inception: bool) -> dict[str, bool]:
    """Export every run, then score the models several at a time (each its own shell)."""
    jobs = {}
    cache = ["--cache", str(runner.work / "stats")]          # reference statistics
    for name in names:
        dataset = name.split("64")[0]
        steps = [ssn("export", "--ckpt", str(runs / name), "--name", name, "--out", str(zoo),
                     "--launched-as", commands[name], "--description", f"{name} (gpu_zoo)"),
                 ssn("eval", "--pretrained", name, "--record", "--metrics", "fid,kid", "--ref",
                     dataset, "--num", str(p.eval_num), "--batch", "64", *cache),
                 ssn("eval", "--pretrained", name, "--record", "--metrics", "ppl", "--num",
                     str(p.ppl_num), "--batch", "32")]
        if inception:
            steps.append(ssn("eval", "--pretrained", name, "--record", "--features",
                             "inception", "--metrics", "fid", "--ref", dataset, "--num",
                             str(p.eval_num), "--batch", "64", *cache))
        if "stylegan2" not in name:
            steps.append(ssn("eval", "--pretrained", name, "--record", "--metrics",
                             "distortion,locality", "--num", str(p.distortion_num),
                             "--batch", "32"))
        chain = " && ".join(shlex.join(s) for s in steps)
        jobs[f"score-{name}"] = ["bash", "-c", chain]
    return runner.run_all(jobs)



def throughput(runs: Path, names: list[str]) -> dict[str, dict]:
    """Images per second and images seen of each run, from its ``log.jsonl``."""
    out = {}
    for name in names:
        log = runs / name / "log.jsonl"
        if not log.is_file():
            continue
        records = [json.loads(line) for line in log.read_text().splitlines()]
        speeds = [r["img_per_s"] for r in records[1:] or records if "img_per_s" in r]
        out[name] = {"steps": records[-1]["step"], "kimg": records[-1].get("kimg"),
                     "img_per_s": round(sum(speeds) / len(speeds), 1) if speeds else None}
    return out


def probe(runner: Runner, p: Profile, data: Path, runs: Path) -> dict[int, float]:
    """Total images per second with 1, 2, 4 and 8 StyleGAN2 runs sharing the GPU (30 s each:
    the first log interval, with its warm-up, is left out of the rate)."""
    totals = {}
    spec = PHASE_A["faces64-stylegan2"]
    for k in (1, 2, 4, 8):
        names = [f"probe{k}-{i}" for i in range(k)]
        runner.run_all({n: train_argv(n, spec, p, data, runs, 0.5) for n in names})
        rates = throughput(runs, names)
        totals[k] = round(sum(r["img_per_s"] or 0 for r in rates.values()), 1)
        print(f"  {k} concurrent runs: {totals[k]} img/s in all", flush=True)
    return totals


def pack(out: Path, zoo: Path, work: Path) -> list[str]:
    """The zoo as one .tar.gz (split into parts of at most 15 MiB), plus the logs' tails."""
    archive = work / "zoo64.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(zoo, arcname="zoo64")
    blob, names = archive.read_bytes(), []
    parts = [blob[i:i + MAX_FILE] for i in range(0, len(blob), MAX_FILE)] or [b""]
    for k, part in enumerate(parts):
        name = "zoo64.tar.gz" if len(parts) == 1 else f"zoo64.tar.gz.part{k:02d}"
        (out / name).write_bytes(part)
        names.append(name)
    tails = [f"== {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-40:])
             for log in sorted((work / "logs").glob("*.log"))]
    (out / "logs.txt").write_text("\n\n".join(tails) + "\n")
    return [*names, "logs.txt"]


def environment() -> dict:
    import torch

    env = {"torch": torch.__version__, "python": sys.version.split()[0],
           "cuda": torch.cuda.is_available(), "cpus": os.cpu_count()}
    if torch.cuda.is_available():
        env["device"] = torch.cuda.get_device_name(0)
    from ssnlib.utils import git_state

    env["commit"] = git_state()["commit"]            # SSN_COMMIT (--commit) where it is set
    return env


def has_inception() -> bool:
    try:
        from ssnlib.metrics.inception import find_detector
        find_detector()
        return True
    except (FileNotFoundError, ImportError):
        return False


def build(out: Path, p: Profile, runner: Runner, do_probe: bool, only: set[str] | None
          ) -> dict:
    """Every stage in order (``only``: these models and what they need); returns the summary
    (what ran, how long, how fast)."""
    needed = {f"{PHASE_B[n][1]}64-stylegan2" for n in (only or ()) if n in PHASE_B}
    phase_a = {n: s for n, s in PHASE_A.items() if only is None or n in only | needed}
    phase_b = {n: s for n, s in PHASE_B.items() if only is None or n in only}
    work, t0 = runner.work, time.perf_counter()
    data, runs, zoo = work / "data", work / "runs", work / "zoo"
    stages = {}

    def stage(name, fn, *args):
        start = time.perf_counter()
        print(f"[{time.perf_counter() - t0:6.0f} s] {name}", flush=True)
        result = fn(*args)
        stages[name] = round(time.perf_counter() - start, 1)
        return result

    stage("data", prepare, runner, p, data)
    probed = stage("probe", probe, runner, p, data, runs) if do_probe else None
    ok_a = stage("phase A", phase, runner, phase_a, p, data, runs, p.phase_a_min)
    inits = stage("transfer", transfer, runner, ok_a, runs)
    ok_b = stage("phase B", phase, runner, phase_b, p, data, runs, p.phase_b_min, inits)
    trained = [n for n, ok in {**ok_a, **ok_b}.items() if ok]
    commands = {r["name"]: r["argv"].split(" -m ssnlib.cli ", 1)[-1] for r in runner.records}
    commands = {n: f"ssn {c}" for n, c in commands.items()}
    inception = p.inception and has_inception()
    scored = stage("score", score, runner, trained, p, runs, zoo, commands, inception)
    stage("results", runner.run_all, {"results": ssn("results", "--zoo", str(zoo))})
    files = stage("pack", pack, out, zoo, work)
    return {"profile": asdict(p), "environment": environment(), "stages_s": stages,
            "total_s": round(time.perf_counter() - t0, 1), "probe_img_per_s": probed,
            "runs": throughput(runs, [*phase_a, *phase_b]), "trained": trained,
            "scored": [n.removeprefix("score-") for n, ok in scored.items() if ok],
            "commands": runner.records, "files": files}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="?", default=os.environ.get("SSN_GPU_ZOO_OUT"),
                        help="output folder (or SSN_GPU_ZOO_OUT); at most 8 files land there")
    parser.add_argument("--profile", choices=sorted(PROFILES), default="gpu")
    parser.add_argument("--work", help="scratch folder (default: OUT/../gpu_zoo_work)")
    parser.add_argument("--probe", action="store_true", help="first measure images per second "
                        "with 1, 2, 4 and 8 concurrent runs (about 2.5 minutes)")
    parser.add_argument("--phase-a", type=float, help="minutes of phase A (default: profile)")
    parser.add_argument("--phase-b", type=float, help="minutes of phase B (default: profile)")
    parser.add_argument("--only", help="comma-separated model names (and the StyleGAN2s they "
                        f"start from): {', '.join([*PHASE_A, *PHASE_B])}")
    parser.add_argument("--commit", help="the commit the device's copy of the checkout was "
                        "made from (required for the gpu profile: that copy's own git state is "
                        "not the tree that runs); every manifest records it")
    args = parser.parse_args()
    if not args.out:
        parser.error("give OUT (or set SSN_GPU_ZOO_OUT)")
    if args.profile == "gpu" and not args.commit:
        parser.error("--commit SHA is required for the gpu profile (commit first, pass git "
                     "rev-parse HEAD)")
    if args.commit:
        os.environ["SSN_COMMIT"] = args.commit       # for this process and every child
    p = PROFILES[args.profile]
    p.phase_a_min = args.phase_a if args.phase_a is not None else p.phase_a_min
    p.phase_b_min = args.phase_b if args.phase_b is not None else p.phase_b_min
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    work = Path(args.work).resolve() if args.work else out.parent / f"{out.name}_work"
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
           "SSN_ZOO": str(work / "zoo"), "OMP_NUM_THREADS": "1"}
    only = set(args.only.split(",")) if args.only else None
    unknown = sorted((only or set()) - {*PHASE_A, *PHASE_B})
    if unknown:
        parser.error(f"unknown model {unknown[0]}; choose from {', '.join([*PHASE_A, *PHASE_B])}")
    summary = build(out, p, Runner(work, env), args.probe, only)
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    for name in ("RESULTS.md", "pareto.png", "samples.png"):
        if (work / "zoo" / name).is_file():
            (out / name).write_bytes((work / "zoo" / name).read_bytes())
    files = sorted(f.name for f in out.iterdir())
    print(f"done in {summary['total_s']} s: {len(summary['scored'])} models scored; {out} holds "
          f"{', '.join(files)}")
    return 0 if summary["scored"] and len(files) <= 8 else 1


if __name__ == "__main__":
    sys.exit(main())
