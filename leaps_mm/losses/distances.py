"""Distances between vectors along the last axis, ``(..., C) -> (...)``,
for priming. ``reduce`` sums the last axis (default); priming passes the
per-layer sum of concatenated layers (:mod:`.layers`), so one call measures
every layer."""
from typing import Callable, Dict

import torch

from .layers import Reduce, safe_sqrt

EPS = 1e-8


def _sum_last(x: torch.Tensor) -> torch.Tensor:
    return x.sum(-1)


def jaccard_similarity(a: torch.Tensor, b: torch.Tensor,
                       reduce: Reduce = _sum_last) -> torch.Tensor:
    """JVS(a, b) = a.b / (a.a + b.b - a.b), the Jaccard (Tanimoto) similarity
    for real vectors (Fernando & Herath, CVPR 2021): 1 when a = b."""
    dot = reduce(a * b)
    return dot / (reduce(a * a) + reduce(b * b) - dot + EPS)


def jvs_distance(a: torch.Tensor, b: torch.Tensor,
                 reduce: Reduce = _sum_last) -> torch.Tensor:
    return 1.0 - jaccard_similarity(a, b, reduce)


def l2_distance(a: torch.Tensor, b: torch.Tensor,
                reduce: Reduce = _sum_last) -> torch.Tensor:
    return safe_sqrt(reduce((a - b).square()))


def l1_distance(a: torch.Tensor, b: torch.Tensor,
                reduce: Reduce = _sum_last) -> torch.Tensor:
    return reduce((a - b).abs())


def cosine_distance(a: torch.Tensor, b: torch.Tensor,
                    reduce: Reduce = _sum_last) -> torch.Tensor:
    """1 - a.b / (max(|a|, eps) max(|b|, eps)), as ``F.cosine_similarity``."""
    norms = (safe_sqrt(reduce(a * a)).clamp_min(EPS)
             * safe_sqrt(reduce(b * b)).clamp_min(EPS))
    return 1.0 - reduce(a * b) / norms


DISTANCES: Dict[str, Callable[..., torch.Tensor]] = {
    'jvs': jvs_distance,
    'l2': l2_distance,
    'l1': l1_distance,
    'cos': cosine_distance,
}
