"""Set-level metrics of a sweep, from the per-job predictions."""
from typing import Dict, List, Mapping, Optional, Sequence

from mmengine.evaluator import BaseMetric

from leaps_mm.registry import METRICS
from leaps_mm.structures import RecordLike, as_records
from .inception_score import inception_scores
from .motion import partner_indices
from .record_metrics import record_metrics


@METRICS.register_module()
class InversionMetric(BaseMetric):
    """Top-1 accuracy (%) and mean target probability of every scorer (the
    inverted model, the verifier, the judges) on the synthesized videos and
    on their motion probes (:mod:`.motion`).

    ``process`` takes the loop's :class:`~leaps_mm.structures.JobRecord` s
    (or their ``result.json`` dicts): ``target`` and,
    per scorer ``net`` (``model``, ``verifier``, ``judge``,
    ``judge_<name>``), ``{net}_pred``, ``{net}_prob_target``; per motion
    probe ``p`` (``reversed``, ``static``, ``shuffled``) ``{net}_{p}_pred``
    and ``{net}_{p}_prob_target``. Reports ``top1_{net}``,
    ``prob_target_{net}``, ``top1_{net}_{p}``, ``prob_target_{net}_{p}``;
    with ``partners`` ``partner_rate_{net}`` (% of reversed videos
    classified as the partner of their target); with the full probability
    vectors ``{net}_probs`` the Inception Score ``is_{net}`` and
    ``is_{net}_std`` (see :func:`inception_score`, ``is_splits`` parts).

    Args:
        is_splits: Inception Score splits.
        partners: ``{class name: partner class name}`` (either direction
            suffices), names of the dataset's ``classes``.
    """
    default_prefix = 'inversion'

    def __init__(self, is_splits: int = 10,
                 partners: Optional[Mapping[str, str]] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.is_splits = is_splits
        self.partners = dict(partners or {})

    def process(self, data_batch: dict,
                data_samples: Sequence[RecordLike]) -> None:
        self.results.extend(as_records(data_samples))

    @property
    def dataset_meta(self) -> Optional[dict]:
        return self._dataset_meta

    @dataset_meta.setter
    def dataset_meta(self, dataset_meta: Optional[dict]) -> None:
        """Set by the loop before the sweep: ``partners`` are checked
        against the classes now, not after the last job."""
        self._dataset_meta = dataset_meta
        if self.partners and (dataset_meta or {}).get('classes'):
            try:
                self.partner_map()
            except ValueError as error:
                raise ValueError(
                    f'{error} Give `leaps.evaluation.partners` for these '
                    'classes, or partners={} for none.') from error

    def partner_map(self) -> Dict[int, int]:
        """``partners`` as class indices of the dataset's classes."""
        if not self.partners:
            return {}
        classes = (self.dataset_meta or {}).get('classes')
        if not classes:
            raise ValueError('InversionMetric: `partners` needs the class '
                             "names (the dataset's metainfo['classes']).")
        return partner_indices(self.partners, classes)

    def compute_metrics(self, results: List[RecordLike]) -> Dict[str, float]:
        results = as_records(results)
        metrics = {'num_videos': float(len(results))}
        metrics.update(record_metrics(results, self.partner_map()))
        nets = results[0].scorers() if results else []
        metrics.update(inception_scores(results, nets, splits=self.is_splits))
        return metrics
