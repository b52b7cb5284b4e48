"""Set-level metrics of a sweep, from the per-job predictions."""
from typing import Dict, List, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric

from leaps_mm.registry import METRICS
from .inception_score import inception_scores


@METRICS.register_module()
class InversionMetric(BaseMetric):
    """Top-1 accuracy (%) and mean target probability of the inverted model,
    the verifier and the judge (when configured) on the synthesized videos.

    ``process`` takes the loop's per-job outputs: dicts with ``target``,
    ``model_pred``, ``model_prob_target`` and, with a verifier,
    ``verifier_pred``, ``verifier_prob_target``; with the full probability
    vectors ``{net}_probs`` it also reports the Inception Score ``is_{net}``
    and ``is_{net}_std`` (see :func:`inception_score`, ``is_splits`` parts).
    """
    default_prefix = 'inversion'

    def __init__(self, is_splits: int = 10, **kwargs) -> None:
        super().__init__(**kwargs)
        self.is_splits = is_splits

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        self.results.extend(dict(sample) for sample in data_samples)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        metrics = {'num_videos': float(len(results))}
        targets = np.array([r['target'] for r in results])
        for net in ('model', 'verifier', 'judge'):
            if not results or f'{net}_pred' not in results[0]:
                continue
            preds = np.array([r[f'{net}_pred'] for r in results])
            probs = np.array([r[f'{net}_prob_target'] for r in results])
            metrics[f'top1_{net}'] = float((preds == targets).mean() * 100)
            metrics[f'prob_target_{net}'] = float(probs.mean())
        metrics.update(inception_scores(results, splits=self.is_splits))
        return metrics
