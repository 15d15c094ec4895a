"""What a run reports: a tqdm progress bar, JSONL and TensorBoard logs, PNG sample grids.

Only the main process (rank 0) writes; the others get a silent monitor.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm.auto import tqdm

from ssnlib.utils import image_grid


class Monitor:
    """Progress, logs and samples of one run under ``run_dir``:

    * ``log.jsonl``: one JSON object per logging step (``step``, ``kimg``, ``img_per_s``,
      ``sec_per_step`` and every loss);
    * ``tb/``: the same scalars and the sample grids for TensorBoard;
    * ``samples/step-XXXXXXXX.png``: the EMA generator on fixed latents.
    """

    def __init__(self, run_dir: str | Path, history: list[dict], total: int, initial: int = 0,
                 active: bool = True, progress: bool = True, tensorboard: bool = True):
        self.run_dir, self.active = Path(run_dir), active
        self.history = history                           # logged records are appended here
        self.bar = tqdm(total=total, initial=initial, unit="step", dynamic_ncols=True,
                        disable=not (active and progress))
        self.writer = None
        if active:
            (self.run_dir / "samples").mkdir(parents=True, exist_ok=True)
            self._forget_after(initial)
            if tensorboard:
                from torch.utils.tensorboard import SummaryWriter

                self.writer = SummaryWriter(str(self.run_dir / "tb"))

    def advance(self, steps: int = 1) -> None:
        self.bar.update(steps)

    def _forget_after(self, step: int) -> None:
        """Drop the log records after ``step``: a run resumed from an older checkpoint logs
        those steps again, and each step must appear once."""
        log = self.run_dir / "log.jsonl"
        if not log.is_file():
            return
        lines = log.read_text().splitlines(keepends=True)
        kept = [line for line in lines if json.loads(line).get("step", 0) <= step]
        if len(kept) < len(lines):
            log.write_text("".join(kept))

    def log(self, step: int, stats: dict[str, float]) -> None:
        record = {"step": step, **{k: round(v, 6) for k, v in stats.items()}}
        self.history.append(record)
        if not self.active:
            return
        self.bar.set_postfix({k: f"{v:.3g}" for k, v in stats.items()
                              if k.startswith("loss") or k == "img_per_s"}, refresh=False)
        with open(self.run_dir / "log.jsonl", "a") as f:
            f.write(json.dumps(record) + "\n")
        if self.writer is not None:
            for key, value in stats.items():
                self.writer.add_scalar(key, value, step)

    def samples(self, step: int, images: torch.Tensor, nrow: int) -> Path | None:
        if not self.active:
            return None
        grid = image_grid(images, nrow=nrow)
        path = self.run_dir / "samples" / f"step-{step:08d}.png"
        Image.fromarray(grid).save(path)
        if self.writer is not None:
            self.writer.add_image("samples", np.ascontiguousarray(grid), step,
                                  dataformats="HWC")
        return path

    def close(self) -> None:
        self.bar.close()
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def loop_seconds(run_dir: str | Path, after_step: int = 0) -> dict[int, float]:
    """Seconds the training loop ran from ``after_step`` up to each step that ``log.jsonl``
    logged (``sec_per_step`` times the steps of each logging interval): ``{after_step: 0.0,
    100: 16.2, ...}``. ``after_step`` is where a resumed run began, so a log that starts
    there counts only its own steps. Empty without a log."""
    log = Path(run_dir) / "log.jsonl"
    if not log.is_file():
        return {}
    total, last, out = 0.0, after_step, {after_step: 0.0}
    for line in log.read_text().splitlines():
        record = json.loads(line)
        if "sec_per_step" in record and record["step"] > after_step:
            total += record["sec_per_step"] * (record["step"] - last)
            last = record["step"]
            out[last] = total
    return out
