"""JobRecord: what one synthesized video scored, the one record type of the
loop, the metrics, ``tools/evaluate.py`` and the tuner.

On disk it is the job's ``result.json``, a flat dict (the contract other
tools and older work dirs rely on): per scorer key ``net`` (``model``,
``verifier``, ``judge``, ``judge_<name>`` and their motion probes
``<net>_reversed`` ...) ``{net}_pred``, ``{net}_prob_target``,
``{net}_probs`` (the softmax in the target's class order) and
``{net}_pred_name``.
"""
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

import torch

# the flat keys of result.json that are fields, not scores or extras
_FIELDS = ('job_id', 'sample_idx', 'target', 'target_name', 'stimulus',
           'iterations', 'seconds', 'seed', 'final_losses', 'history')
# the motion probes of a scorer's x*, in leaps_mm.evaluation.motion's order
PROBES = ('reversed', 'static', 'shuffled')
_LEADING = ('model', 'verifier', 'judge')


@dataclass
class JobRecord:
    """One job's result: its identity, its loss curve and, per scorer key,
    the prediction, the target's probability and the softmax vector.

    Args:
        job_id: the job's folder name (``<index>_<class>``).
        target: the target class index (in the target model's order).
        preds / prob_targets / probs / pred_names: per scorer key.
        extra: every other key of ``result.json`` (the config and checkpoint
            paths, ``settings_id``, ...), written back unchanged.
    """
    target: int
    job_id: str = ''
    target_name: str = ''
    sample_idx: int = 0
    stimulus: Optional[str] = None
    iterations: int = 0
    seconds: float = 0.0
    seed: Optional[int] = None
    final_losses: Dict[str, float] = field(default_factory=dict)
    history: List[dict] = field(default_factory=list)
    preds: Dict[str, int] = field(default_factory=dict)
    prob_targets: Dict[str, float] = field(default_factory=dict)
    probs: Dict[str, List[float]] = field(default_factory=dict)
    pred_names: Dict[str, str] = field(default_factory=dict)
    extra: Dict[str, Any] = field(default_factory=dict)

    # --- scores -------------------------------------------------------------
    def add_scores(self, scores: Mapping[str, Union[torch.Tensor, Sequence]],
                   class_names: Sequence[str] = ()) -> 'JobRecord':
        """Record every scorer key's softmax vector ``(K,)`` (target's
        class order): its argmax, the target's probability, the vector and,
        where ``class_names`` covers it, the predicted name."""
        for key, prob in scores.items():
            prob = torch.as_tensor(prob, dtype=torch.float32).flatten()
            pred = int(prob.argmax())
            self.preds[key] = pred
            self.prob_targets[key] = float(prob[self.target])
            self.probs[key] = [float(p) for p in prob.tolist()]
            if pred < len(class_names):
                self.pred_names[key] = class_names[pred]
        return self

    def correct(self, key: str) -> bool:
        """Whether scorer key ``key`` names the target."""
        return self.preds[key] == self.target

    def scorers(self) -> List[str]:
        """The scorers (not their probes): ``model``, ``verifier``,
        ``judge`` first, then the others in record order."""
        probe_of = {f'{k}_{p}' for k in self.preds for p in PROBES}
        keys = [k for k in self.preds if k not in probe_of]
        first = [k for k in _LEADING if k in keys]
        return first + [k for k in keys if k not in first]

    # --- result.json ----------------------------------------------------------
    def to_json(self) -> dict:
        """The flat ``result.json`` dict."""
        out = {name: getattr(self, name) for name in _FIELDS}
        out['target_index'] = self.target  # the name older readers use
        for key, pred in self.preds.items():
            out[f'{key}_pred'] = pred
            if key in self.prob_targets:
                out[f'{key}_prob_target'] = self.prob_targets[key]
            if key in self.probs:
                out[f'{key}_probs'] = self.probs[key]
            if key in self.pred_names:
                out[f'{key}_pred_name'] = self.pred_names[key]
        out.update(self.extra)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> 'JobRecord':
        """A record from its flat dict (``result.json``); ``target_index``
        stands for ``target`` where only it is given."""
        data = dict(data)
        if 'target' not in data and 'target_index' in data:
            data['target'] = data['target_index']
        data.pop('target_index', None)
        keys = [k[:-len('_pred')] for k in data if k.endswith('_pred')]
        record = cls(**{name: data.pop(name) for name in _FIELDS
                        if name in data})
        for key in keys:
            record.preds[key] = int(data.pop(f'{key}_pred'))
            for suffix, store in (('_prob_target', record.prob_targets),
                                  ('_probs', record.probs),
                                  ('_pred_name', record.pred_names)):
                if f'{key}{suffix}' in data:
                    store[key] = data.pop(f'{key}{suffix}')
        record.extra = data
        return record


RecordLike = Union[JobRecord, Mapping[str, Any]]


def as_records(records: Sequence[RecordLike]) -> List[JobRecord]:
    """``records`` as :class:`JobRecord` s (flat dicts are read with
    :meth:`JobRecord.from_json`)."""
    return [r if isinstance(r, JobRecord) else JobRecord.from_json(r)
            for r in records]
