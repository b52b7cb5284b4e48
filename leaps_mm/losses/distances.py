"""Distances between batches of vectors ``(N, C)`` -> ``(N,)``, for priming."""
from typing import Callable, Dict

import torch
import torch.nn.functional as F

EPS = 1e-8


def jaccard_similarity(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """JVS(a, b) = a.b / (a.a + b.b - a.b), the Jaccard (Tanimoto) similarity
    for real vectors (Fernando & Herath, CVPR 2021): 1 when a = b."""
    dot = (a * b).sum(-1)
    return dot / ((a * a).sum(-1) + (b * b).sum(-1) - dot + EPS)


def jvs_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return 1.0 - jaccard_similarity(a, b)


def l2_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a - b).norm(p=2, dim=-1)


def l1_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a - b).abs().sum(-1)


def cosine_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return 1.0 - F.cosine_similarity(a, b, dim=-1, eps=EPS)


DISTANCES: Dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    'jvs': jvs_distance,
    'l2': l2_distance,
    'l1': l1_distance,
    'cos': cosine_distance,
}
