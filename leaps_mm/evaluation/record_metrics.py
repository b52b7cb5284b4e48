"""Set-level scores from job records: top-1, target probability, motion
probes and partner rates, the same for the loop's metric, ``tools/evaluate.py``
and the tuner."""
from typing import Dict, Mapping, Optional, Sequence

from leaps_mm.structures import JobRecord, RecordLike, as_records
from .motion import MOTION_PROBES, partner_rate


def count_correct(records: Sequence[JobRecord], key: str) -> int:
    """How many of ``records`` scorer key ``key`` classifies as their
    target."""
    return sum(r.correct(key) for r in records)


def top1(records: Sequence[JobRecord], key: str,
         num_jobs: Optional[int] = None) -> float:
    """Top-1 (%) of scorer key ``key`` over ``num_jobs`` jobs (default: the
    records; jobs without a record count as wrong)."""
    total = len(records) if num_jobs is None else num_jobs
    return 100.0 * count_correct(records, key) / total if total else 0.0


def mean_prob_target(records: Sequence[JobRecord], key: str,
                     num_jobs: Optional[int] = None) -> float:
    """Mean probability of the target under scorer key ``key`` over
    ``num_jobs`` jobs (default: the records; missing jobs count as 0)."""
    total = len(records) if num_jobs is None else num_jobs
    return (sum(r.prob_targets[key] for r in records) / total
            if total else 0.0)


def scorer_keys(record: RecordLike) -> list:
    """The scorers of a record (:meth:`JobRecord.scorers`)."""
    return as_records([record])[0].scorers()


def record_metrics(records: Sequence[RecordLike],
                   partners: Optional[Mapping[int, int]] = None
                   ) -> Dict[str, float]:
    """Per scorer ``net`` present in every record: ``top1_{net}`` (%) and
    ``prob_target_{net}``; per motion probe ``p`` recorded for it:
    ``top1_{net}_{p}`` and ``prob_target_{net}_{p}``; with ``partners``
    (:func:`~.motion.partner_indices`) and reversed predictions:
    ``partner_rate_{net}`` (%, reversed videos classified as the partner
    of their target)."""
    records = as_records(records)
    metrics: Dict[str, float] = {}
    if not records:
        return metrics
    nets = [n for n in records[0].scorers()
            if all(n in r.preds for r in records)]
    for net in nets:
        for key in [net] + [f'{net}_{p}' for p in MOTION_PROBES]:
            if not all(key in r.preds for r in records):
                continue
            metrics[f'top1_{key}'] = top1(records, key)
            if all(key in r.prob_targets for r in records):
                metrics[f'prob_target_{key}'] = mean_prob_target(records, key)
        reversed_key = f'{net}_reversed'
        if partners and all(reversed_key in r.preds for r in records):
            rate = partner_rate([r.preds[reversed_key] for r in records],
                                [r.target for r in records], partners)
            if rate is not None:
                metrics[f'partner_rate_{net}'] = rate
    return metrics
