"""Inception Score (Salimans et al., 2016) of class-probability vectors.

``IS = exp(E_x KL(p(y|x) || p(y)))``, computed on each of ``splits`` parts of
the set (``p(y)`` is the mean prediction of that part) and reported as mean
and standard deviation over the parts, as in the reference implementation and
the paper's Tables 1, 3 and 4. It is 1 when every prediction is the same and
K when the predictions are confident and spread evenly over K classes.
"""
from typing import Dict, List, Sequence, Tuple

import numpy as np
from mmengine.evaluator import BaseMetric

from leaps_mm.registry import METRICS
from leaps_mm.structures import RecordLike, as_records


def inception_score(probs: np.ndarray, splits: int = 10) -> Tuple[float, float]:
    """Mean and standard deviation of the Inception Score over splits.

    Args:
        probs: ``(N, K)`` class probabilities (softmax outputs), one row per
            video. Rows are renormalised to sum to 1.
        splits: number of parts; ``min(splits, N)`` are used. The parts are
            ``np.array_split`` of the rows in order (sizes differ by at most
            one; no row is dropped). Note: a part of one row always scores 1,
            so with few videos prefer ``splits=1``.

    Returns:
        ``(mean, std)`` over the parts (``std`` is 0 for a single part).
    """
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[0] == 0 or probs.shape[1] == 0:
        raise ValueError('inception_score expects probabilities of shape '
                         f'(N, K) with N, K >= 1; got {probs.shape}.')
    if not np.isfinite(probs).all() or (probs < 0).any():
        raise ValueError('inception_score: probabilities must be finite and '
                         'non-negative.')
    totals = probs.sum(axis=1, keepdims=True)
    if (totals <= 0).any():
        raise ValueError('inception_score: a row of probabilities sums to 0.')
    probs = probs / totals
    splits = max(1, min(int(splits), probs.shape[0]))
    scores = []
    for part in np.array_split(probs, splits):
        marginal = part.mean(axis=0, keepdims=True)
        # p log(p / p_y), with 0 log 0 = 0 (p_y > 0 wherever p > 0)
        with np.errstate(divide='ignore', invalid='ignore'):
            kl = np.where(part > 0, part * (np.log(part) - np.log(marginal)),
                          0.0).sum(axis=1)
        scores.append(float(np.exp(kl.mean())))
    return float(np.mean(scores)), float(np.std(scores))


@METRICS.register_module()
class InceptionScoreMetric(BaseMetric):
    """Inception Score of a sweep's synthesized videos, from the per-job
    probability vectors ``{net}_probs`` that :class:`InversionLoop` records
    (``net`` in ``nets``); reports ``is_{net}`` and ``is_{net}_std`` for each
    net whose vectors every job has.

    Args:
        splits: see :func:`inception_score`.
        nets: which networks' predictions to score.
    """
    default_prefix = 'inversion'

    def __init__(self, splits: int = 10,
                 nets: Sequence[str] = ('model', 'verifier', 'judge'),
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.splits = splits
        self.nets = tuple(nets)

    def process(self, data_batch: dict,
                data_samples: Sequence[RecordLike]) -> None:
        self.results.extend(as_records(data_samples))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        return inception_scores(results, self.nets, self.splits)


def inception_scores(records: Sequence[RecordLike],
                     nets: Sequence[str] = ('model', 'verifier', 'judge'),
                     splits: int = 10) -> Dict[str, float]:
    """``{'is_{net}': mean, 'is_{net}_std': std}`` for every net in ``nets``
    whose softmax vector (``{net}_probs``) is in every record (none for an
    empty set)."""
    records = as_records(records)
    metrics: Dict[str, float] = {}
    for net in nets:
        if not records or not all(net in r.probs for r in records):
            continue
        mean, std = inception_score(
            np.array([r.probs[net] for r in records]), splits)
        metrics[f'is_{net}'] = mean
        metrics[f'is_{net}_std'] = std
    return metrics
