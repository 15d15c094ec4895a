"""The domain feature network: a compact CNN trained by ``ssnlib`` on the procedural datasets'
labels, the offline stand-in for Inception (FID/KID/PPL) and the part reader of part-level
locality.

At 64x64 (other sizes are resized), four stride-2 stages (24, 48, 96, 192 channels) end in a
global average pool: the 192-d **embedding** (the penultimate layer, as Inception's pool3 is for
FID). On it sit one linear head per attribute of every dataset (classes or a regressed value in
[-1, 1]) and a domain head; a small **segmentation head** reads the 16x16 and 8x8 stages and
predicts every pixel's part class (:class:`~ssnlib.metrics.schema.Schema`). The weights ship in
``data/featurenet/`` (safetensors + ``manifest.json`` with how they were trained and how well
they do); ``ssn train-featurenet`` retrains them.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn

from ssnlib.metrics.features import FeatureExtractor, resize
from ssnlib.metrics.schema import Schema

INPUT_SIZE = 64
WIDTHS = (24, 48, 96, 192)
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "data" / "featurenet"


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class DomainNet(nn.Module):
    """The network; ``forward`` returns a dict: ``embedding`` [B, 192], ``discrete`` (list of
    logits, one per schema entry), ``continuous`` [B, n_cont] (in [-1, 1] units of each
    attribute's range), ``domain`` [B, n_domains], and ``parts`` [B, n_parts, 64, 64] logits when
    ``with_parts``."""

    def __init__(self, schema: Schema, widths: tuple[int, ...] = WIDTHS):
        super().__init__()
        self.schema = schema
        w = widths
        self.stage1 = _conv(3, w[0], 2)                                            # 32 px
        self.stage2 = nn.Sequential(_conv(w[0], w[1], 2), _conv(w[1], w[1]))      # 16 px
        self.stage3 = nn.Sequential(_conv(w[1], w[2], 2), _conv(w[2], w[2]))      # 8 px
        self.stage4 = _conv(w[2], w[3], 2)                                         # 4 px
        self.dim = w[3]
        self.discrete = nn.ModuleList(nn.Linear(w[3], n) for _, _, n in schema.discrete)
        self.continuous = nn.Linear(w[3], len(schema.continuous))
        self.domain = nn.Linear(w[3], len(schema.domains))
        self.seg = nn.Sequential(nn.Conv2d(w[1] + w[2], 64, 1), nn.ReLU(inplace=True),
                                 nn.Conv2d(64, len(schema.parts), 1))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.stage4(self.stage3(self.stage2(self.stage1(x)))).mean((2, 3))

    def heads(self, emb: torch.Tensor) -> dict:
        """The attribute and domain heads on embeddings ``emb`` [B, 192]."""
        return {"discrete": [head(emb) for head in self.discrete],
                "continuous": torch.tanh(self.continuous(emb)), "domain": self.domain(emb)}

    def forward(self, x: torch.Tensor, with_parts: bool = True) -> dict:
        h2 = self.stage2(self.stage1(x))
        h3 = self.stage3(h2)
        emb = self.stage4(h3).mean((2, 3))
        out = {"embedding": emb, **self.heads(emb)}
        if with_parts:
            up = F.interpolate(h3, size=h2.shape[-2:], mode="bilinear", align_corners=False)
            seg = self.seg(torch.cat([h2, up], 1))
            out["parts"] = F.interpolate(seg, size=x.shape[-2:], mode="bilinear",
                                         align_corners=False)
        return out


def load_domain_net(directory: str | Path | None = None,
                    device: torch.device | str = "cpu") -> tuple[DomainNet, dict]:
    """The shipped network (``data/featurenet/`` by default) in eval mode, and its manifest."""
    directory = Path(directory) if directory is not None else DEFAULT_DIR
    weights, manifest_path = directory / "featurenet.safetensors", directory / "manifest.json"
    for path in (weights, manifest_path):
        if not path.is_file():
            raise FileNotFoundError(
                f"{path} is missing; train the feature net with "
                f"`ssn train-featurenet --out {directory}`")
    manifest = json.loads(manifest_path.read_text())
    net = DomainNet(Schema.from_dict(manifest["schema"]), tuple(manifest["config"]["widths"]))
    net.load_state_dict(load_file(weights))
    return net.to(device).eval().requires_grad_(False), manifest


def weights_digest(net: nn.Module) -> str:
    """First 8 hex digits of a SHA-256 over the state dict: names a network's weights, so
    cached reference features of different weights never mix."""
    h = hashlib.sha256()
    for key, value in sorted(net.state_dict().items()):
        h.update(key.encode())
        h.update(value.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:8]


class DomainFeatures(FeatureExtractor):
    """The domain network's 192-d embedding as a :class:`FeatureExtractor`, named
    ``domain-<weights digest>``. ``net`` defaults to the shipped weights; ``predict`` exposes
    the heads."""

    input_size = INPUT_SIZE

    def __init__(self, net: DomainNet | None = None, directory: str | Path | None = None,
                 **kwargs):
        super().__init__(**kwargs)
        self.net = (net if net is not None else load_domain_net(directory)[0])
        self.net = self.net.to(self.device).eval().requires_grad_(False)
        self.dim = self.net.dim
        self.schema = self.net.schema
        self.name = f"domain-{weights_digest(self.net)}"

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net.embed(images)

    @torch.no_grad()
    def predict(self, images: torch.Tensor, with_parts: bool = True) -> dict:
        """All heads on a batch in [-1, 1] (resized to 64 px), as float32 CPU tensors."""
        x = resize(images.to(self.device, torch.float32), self.input_size)
        with torch.autocast("cuda", torch.bfloat16, enabled=self.bf16):
            out = self.net(x, with_parts)
        return {k: [t.float().cpu() for t in v] if isinstance(v, list) else v.float().cpu()
                for k, v in out.items()}
