"""Training SSNs and their baselines: configs, the trainer, checkpoints, sampling, the CLI.

From a notebook::

    from ssnlib.train import train
    trainer = train("configs/faces32-cpu.yaml", ["run_dir=runs/ch5"], steps=200)
    trainer.G_ema, trainer.history

From a shell: ``ssn train --config configs/faces64.yaml batch=64`` (``torchrun --nproc_per_node
N -m ssnlib.cli train ...`` on N GPUs) and ``ssn sample --ckpt runs/x --seeds 0-15 --out g.png``.
"""

from ssnlib.train.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from ssnlib.train.config import ConfigError, TrainConfig, from_dict, load_config
from ssnlib.train.sample import load_generator, sample_images
from ssnlib.train.trainer import NonFiniteLossError, Trainer, build_models, train

__all__ = [
    "ConfigError", "NonFiniteLossError", "TrainConfig", "Trainer", "build_models", "from_dict",
    "latest_checkpoint", "load_checkpoint", "load_config", "load_generator", "sample_images",
    "save_checkpoint", "train",
]
