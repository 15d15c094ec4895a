"""Exponential moving average of the generator's weights (Karras et al.; stylegan2-ada's form).

The half-life is given in images: after ``kimg * 1000`` more training images an old weight
counts half. Early in training the half-life is capped at ``rampup`` times the images seen so
far, so the average does not hold on to the random initialisation.
"""

from __future__ import annotations

import torch


def ema_beta(batch: int, kimg: float, rampup: float | None, images_seen: int) -> float:
    """Per-step decay ``0.5 ** (batch / half_life)``, half-life ``min(kimg * 1000, rampup *
    images_seen)`` images (no cap when ``rampup`` is None)."""
    half_life = kimg * 1000
    if rampup is not None:
        half_life = min(half_life, images_seen * rampup)
    return 0.5 ** (batch / max(half_life, 1e-8))


@torch.no_grad()
def update_ema(ema: torch.nn.Module, model: torch.nn.Module, beta: float) -> None:
    """``ema <- beta * ema + (1 - beta) * model`` for parameters; buffers are copied."""
    for p_ema, p in zip(ema.parameters(), model.parameters(), strict=True):
        p_ema.copy_(p.detach().lerp(p_ema, beta))
    for b_ema, b in zip(ema.buffers(), model.buffers(), strict=True):
        b_ema.copy_(b)
