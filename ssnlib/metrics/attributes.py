"""Which kinds of picture a generator draws too rarely: attribute shares, read by the domain
network, in the samples against the data.

Recall (:mod:`ssnlib.metrics.precision_recall`) says *how much* of the data the samples miss;
this says *what*. The domain network (:mod:`ssnlib.metrics.featurenet`) has one linear head per
attribute of each procedural dataset (hair style, time of day...) on the same 192-d embedding
that FID, KID and precision/recall use, so the features already computed for those metrics
are enough: no image is generated or rendered twice.

Both sides are read by the same network, so its own errors cancel to first order: a head that
mistakes 5 % of the data's blondes for redheads makes the same mistake on samples. For each
discrete attribute with classes k:

    p_k = share of data images predicted as k,   q_k = share of samples predicted as k
    TV  = 1/2 sum_k |p_k - q_k|                 (total variation distance, in [0, 1])

TV is the share of samples that would have to change class to match the data. A class is
*under-drawn* when q_k < p_k / 2 (and p_k >= 2 %, so that a rare class's noise does not
count). For a continuous attribute (head turn, light direction...) the **spread ratio** is the
samples' standard deviation over the data's: below 1 the samples vary less than the data, the
per-attribute face of a radius ratio below 1.
"""

from __future__ import annotations

import torch

from ssnlib.data import DATASETS

UNDER = 0.5          # a class is under-drawn when its sample share is below UNDER x its data share
MIN_SHARE = 0.02     # ...and its data share is at least this


def _heads(net, features: torch.Tensor, domain: str) -> tuple[dict, dict]:
    """The net's discrete predictions ([N], number of classes) and continuous values [N] for
    ``domain``'s attributes, keyed ``"domain/attribute"``, from embeddings ``features`` [N, dim]."""
    out = net.heads(features.to(next(net.parameters()).device, torch.float32))
    logits = zip(net.schema.discrete, out["discrete"], strict=True)
    discrete = {f"{d}/{name}": (scores.argmax(1).cpu(), n)
                for (d, name, n), scores in logits if d == domain}
    values = out["continuous"].cpu()
    continuous = {f"{d}/{name}": values[:, i]
                  for i, (d, name, _, _) in enumerate(net.schema.continuous) if d == domain}
    return discrete, continuous


def _shares(labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    return torch.bincount(labels, minlength=n_classes).double() / max(len(labels), 1)


@torch.no_grad()
def attribute_shares(net, reference: torch.Tensor, fake: torch.Tensor, domain: str) -> dict:
    """Attribute shares of samples against data, from domain-network embeddings ``reference``
    [N, dim] (the data) and ``fake`` [M, dim] (the samples); ``domain`` names the dataset whose
    heads are read. Returns ``discrete`` {attribute: {classes, data, samples, tv,
    under_drawn}}, ``continuous`` {attribute: {data_mean, data_std, samples_mean,
    samples_std, spread_ratio}}, the mean TV over discrete attributes (``mean_tv``), the
    smallest spread ratio (``min_spread_ratio``) and ``under_drawn``, every under-drawn class
    as ``"attribute=class"``."""
    if domain not in net.schema.domains:
        raise ValueError(f"the domain network reads {list(net.schema.domains)}, not {domain!r}")
    names = DATASETS[domain].DISCRETE
    data_d, data_c = _heads(net, reference, domain)
    fake_d, fake_c = _heads(net, fake, domain)
    discrete, under = {}, []
    for key, (labels, n) in data_d.items():
        classes = names.get(key.split("/", 1)[1]) or [str(k) for k in range(n)]
        p, q = _shares(labels, n), _shares(fake_d[key][0], n)
        low = [c for c, pk, qk in zip(classes, p, q, strict=True)
               if pk >= MIN_SHARE and qk < UNDER * pk]
        under += [f"{key}={c}" for c in low]
        discrete[key] = {"classes": list(classes), "data": _rounded(p), "samples": _rounded(q),
                         "tv": round(0.5 * float((p - q).abs().sum()), 4), "under_drawn": low}
    continuous = {key: _spread(values, fake_c[key]) for key, values in data_c.items()}
    return {"domain": domain, "discrete": discrete, "continuous": continuous,
            "mean_tv": round(sum(a["tv"] for a in discrete.values()) / max(len(discrete), 1), 4),
            "min_spread_ratio": min((c["spread_ratio"] for c in continuous.values()),
                                    default=float("nan")),
            "under_drawn": under, "count": {"data": len(reference), "samples": len(fake)}}


def _spread(data: torch.Tensor, samples: torch.Tensor) -> dict:
    """Mean and standard deviation of one continuous attribute on both sides (units: the
    head's [-1, 1] over the attribute's range) and their spread ratio."""
    d_std, s_std = float(data.double().std()), float(samples.double().std())
    return {"data_mean": round(float(data.double().mean()), 4), "data_std": round(d_std, 4),
            "samples_mean": round(float(samples.double().mean()), 4),
            "samples_std": round(s_std, 4), "spread_ratio": round(s_std / d_std, 4)}


def _rounded(shares: torch.Tensor) -> list[float]:
    return [round(float(s), 4) for s in shares]

