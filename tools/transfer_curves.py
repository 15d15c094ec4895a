"""Domain FID and distortion against images seen, for the runs of chapter 6 (transfer vs scratch).

    python tools/transfer_curves.py --run transfer=runs/transfer/transfer-ld100 \
        --run scratch=runs/transfer/scratch-ld100 --out data/transfer/curves.json

For every checkpoint of every run (and step 0: the run's starting generator, rebuilt from its
config exactly as the trainer builds it, ``model.init`` included) it scores the EMA generator
with :func:`ssnlib.metrics.evaluate.evaluate`: domain FID against the shipped 10k-image
reference, and distortion, on the best device (``SSN_DEVICE=cpu`` forces the CPU). Training
wall time per step comes from the run's ``log.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from ssnlib import zoo
from ssnlib.metrics.evaluate import evaluate
from ssnlib.train.checkpoint import list_checkpoints, load_checkpoint
from ssnlib.train.config import from_dict
from ssnlib.train.monitor import loop_seconds
from ssnlib.train.trainer import build_models, init_models
from ssnlib.utils import get_device, seed_everything


def starting_generator(run_dir: Path) -> torch.nn.Module:
    """The generator a run starts from (its first checkpoint's config, the trainer's seeding)."""
    cfg = from_dict(load_checkpoint(list_checkpoints(run_dir)[0])["config"])
    seed_everything(cfg.seed)
    G, D = build_models(cfg)
    if cfg.model.init:
        init_models(cfg.model.init, G, D)
    return G.eval()


def generators(run_dir: Path):
    """(step, images seen, G_ema) from step 0 to the last checkpoint."""
    yield 0, 0, starting_generator(run_dir)
    for path in list_checkpoints(run_dir):
        state = load_checkpoint(path)
        G, _ = build_models(from_dict(state["config"]))
        G.load_state_dict(state["G_ema"])
        yield state["step"], state["images_seen"], G.eval()


def score(G, num: int, dist_num: int) -> dict:
    """Domain FID (``num`` samples, 10k-image reference) and distortion (``dist_num``)."""
    fid = evaluate(G, ["fid"], num, ref="faces", ref_num=10000, batch=64)["fid"]
    dist = evaluate(G, ["distortion"], dist_num, batch=32)["distortion"]
    return {"fid": fid["fid"], "distortion": dist["distortion"],
            "distortion_se": dist["distortion_se"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", action="append", required=True, metavar="NAME=RUN_DIR")
    parser.add_argument("--num", type=int, default=5000, help="generated images per FID")
    parser.add_argument("--dist-num", type=int, default=200, help="samples per distortion")
    parser.add_argument("--every", type=int, default=100, help="score every N steps")
    parser.add_argument("--zoo", action="append", default=[], metavar="NAME",
                        help="also score a shipped model (one point at its images seen)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    torch.set_num_threads(1)
    device = get_device()                    # SSN_DEVICE=cpu forces the CPU
    result = {"num": args.num, "dist_num": args.dist_num, "ref": "faces", "ref_num": 10000,
              "features": "domain", "runs": {}, "zoo": {}}
    for spec in args.run:
        name, run_dir = spec.split("=", 1)
        walls = {step: round(t, 1) for step, t in loop_seconds(run_dir).items()}
        rows = []
        for step, seen, G in generators(Path(run_dir)):
            if step % args.every:
                continue
            t0 = time.perf_counter()
            rows.append({"step": step, "images_seen": seen, "train_wall_s": walls.get(step),
                         **score(G.to(device), args.num, args.dist_num)})
            print(name, rows[-1], f"({time.perf_counter() - t0:.0f} s)", flush=True)
        result["runs"][name] = {"run_dir": run_dir, "points": rows}
    for name in args.zoo:
        training = zoo.manifest(name)["training"]
        result["zoo"][name] = {"step": training["steps"], "images_seen": training["images_seen"],
                               "train_wall_s": training["wall_time_s"],
                               **score(zoo.load(name, device), args.num, args.dist_num)}
        print(name, result["zoo"][name], flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
