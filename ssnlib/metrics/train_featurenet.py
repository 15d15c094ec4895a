"""Train, score and ship the domain feature network (:mod:`ssnlib.metrics.featurenet`).

    ssn train-featurenet --out data/featurenet --train 8000 --steps 3000

(:mod:`ssnlib.commands.train_featurenet`; the shipped net was trained with the same arguments
as ``python -m ssnlib.metrics.train_featurenet``, the command's earlier home).

Images ``0 .. train-1`` of every procedural dataset at seed 0 are the training set, images
``0 .. heldout-1`` at seed 1 the held-out set. Augmentation: left-right mirroring (part maps
mirrored, ``MIRROR_ODD`` attributes negated). Loss: the mean cross-entropy of the discrete
heads (each on its own domain's images) + the mean squared error of the continuous heads +
domain cross-entropy + per-pixel part cross-entropy. AdamW with a one-cycle schedule. Writes
``featurenet.safetensors`` and ``manifest.json`` (command, config, git commit, steps, wall
time, device, torch version, held-out scores per attribute).
"""

from __future__ import annotations

import json
import time
from argparse import Namespace
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from tqdm.auto import tqdm

from ssnlib.data import DATASETS
from ssnlib.metrics.featurenet import INPUT_SIZE, WIDTHS, DomainNet
from ssnlib.metrics.labelled import Labelled, render_labelled
from ssnlib.metrics.schema import Schema
from ssnlib.utils import git_state

TRAIN_SEED, HELDOUT_SEED = 0, 1
CONTINUOUS_TOLERANCE = 0.1   # a continuous prediction "hits" within 10% of the attribute range


def _mirror(batch: Labelled, schema: Schema, flip: torch.Tensor) -> Labelled:
    odd = torch.tensor([a in DATASETS[d].MIRROR_ODD for d, a, _, _ in schema.continuous])
    images = torch.where(flip[:, None, None, None], batch.images.flip(-1), batch.images)
    parts = torch.where(flip[:, None, None], batch.parts.flip(-1), batch.parts)
    sign = torch.where(flip[:, None] & odd[None], -1.0, 1.0)
    return Labelled(images, parts, batch.domain, batch.discrete, batch.continuous * sign)


def losses(net: DomainNet, batch: Labelled) -> dict[str, torch.Tensor]:
    out = net(batch.float_images())
    ce = [F.cross_entropy(logits, batch.discrete[:, j], ignore_index=-1)
          for j, logits in enumerate(out["discrete"]) if (batch.discrete[:, j] >= 0).any()]
    known = ~batch.continuous.isnan()
    cont = (out["continuous"] - batch.continuous.nan_to_num())[known].square().mean()
    return {"discrete": torch.stack(ce).mean(), "continuous": cont,
            "domain": F.cross_entropy(out["domain"], batch.domain),
            "parts": F.cross_entropy(out["parts"], batch.parts.long())}


@torch.no_grad()
def evaluate(net: DomainNet, data: Labelled, batch_size: int = 256) -> dict:
    """Held-out scores: accuracy of every discrete attribute; for continuous ones the mean
    absolute error (attribute units) and the hit rate within 10% of the range; domain accuracy;
    per-domain part pixel accuracy. Keys are ``"domain/attribute"``."""
    net.eval()
    outs = [net(data.float_images(slice(s, s + batch_size)))
            for s in range(0, len(data), batch_size)]
    schema = net.schema
    scores: dict[str, dict] = {}
    for j, (d, name, _) in enumerate(schema.discrete):
        pred = torch.cat([o["discrete"][j].argmax(1) for o in outs])
        rows = data.discrete[:, j] >= 0
        scores[f"{d}/{name}"] = {"accuracy": (pred[rows] == data.discrete[rows, j])
                                 .float().mean().item(), "n": int(rows.sum())}
    cont = torch.cat([o["continuous"] for o in outs])
    for j, (d, name, lo, hi) in enumerate(schema.continuous):
        rows = ~data.continuous[:, j].isnan()
        err = (cont[rows, j] - data.continuous[rows, j]).abs() / 2       # fraction of range
        scores[f"{d}/{name}"] = {"mae": (err.mean() * (hi - lo)).item(),
                                 "accuracy": (err <= CONTINUOUS_TOLERANCE).float().mean().item(),
                                 "n": int(rows.sum())}
    dom = torch.cat([o["domain"].argmax(1) for o in outs])
    scores["domain"] = {"accuracy": (dom == data.domain).float().mean().item(), "n": len(data)}
    parts = torch.cat([o["parts"].argmax(1) for o in outs])
    for k, d in enumerate(schema.domains):
        rows = data.domain == k
        scores[f"{d}/parts"] = {"pixel_accuracy": (parts[rows] == data.parts[rows].long())
                                .float().mean().item(), "n": int(rows.sum())}
    return scores


def train(args: Namespace, command: str) -> dict:
    """Train with the parsed arguments of ``ssn train-featurenet``
    (:mod:`ssnlib.commands.train_featurenet`); ``command`` is recorded in the manifest as the
    command that reproduces the run."""
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    schema = Schema.build()
    t0 = time.perf_counter()
    train_set = render_labelled(schema, args.train, TRAIN_SEED, INPUT_SIZE, args.workers)
    heldout = render_labelled(schema, args.heldout, HELDOUT_SEED, INPUT_SIZE, args.workers)
    render_s = time.perf_counter() - t0
    net = DomainNet(schema, WIDTHS).to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, args.lr, total_steps=args.steps,
                                                pct_start=0.1)
    t0 = time.perf_counter()
    net.train()
    for step in (bar := tqdm(range(args.steps), desc="featurenet", leave=False)):
        idx = torch.randint(len(train_set), (args.batch,), generator=gen)
        flip = torch.rand(args.batch, generator=gen) < 0.5
        parts = losses(net, _mirror(train_set.select(idx), schema, flip))
        loss = sum(parts.values())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if step % 50 == 0:
            bar.set_postfix({k: f"{v.item():.3f}" for k, v in parts.items()})
    train_s = time.perf_counter() - t0
    scores = evaluate(net, heldout)
    config = {"widths": list(WIDTHS), "input_size": INPUT_SIZE, "train_per_domain": args.train,
              "heldout_per_domain": args.heldout, "train_seed": TRAIN_SEED,
              "heldout_seed": HELDOUT_SEED, "batch": args.batch, "lr": args.lr,
              "weight_decay": args.weight_decay, "seed": args.seed,
              "continuous_tolerance": CONTINUOUS_TOLERANCE}
    git = git_state(Path(__file__).parent)
    manifest = {
        "name": "ssnlib domain feature network",
        "command": command,
        "config": config, "schema": schema.to_dict(),
        # the commit, and uncommitted changes to this package at training time, if any
        "git_commit": git["commit"], "git_dirty": git["dirty"],
        "steps": args.steps, "images_seen": args.steps * args.batch,
        "wall_time_s": {"render": round(render_s, 1), "train": round(train_s, 1)},
        "device": "cpu", "threads": torch.get_num_threads(),
        "torch": torch.__version__.split("+")[0],
        "parameters": sum(p.numel() for p in net.parameters()),
        "heldout": scores,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.contiguous() for k, v in net.state_dict().items()}
    save_file(state, str(out / "featurenet.safetensors"))
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest
