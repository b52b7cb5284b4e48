"""Every step's losses of a batch of jobs, read to the host only at log steps.

The optimisation loop hands each step's loss terms (``{name: (N,) tensor}``,
one value per job of the batch) to :meth:`StepLosses.record`; they stay on
the device, stacked, until :meth:`StepLosses.flush` copies all the steps
recorded since the last flush in one transfer (the only host sync) and
appends one entry per step to each job's history.
"""
from typing import Container, Dict, List, Optional, Tuple

import torch


class StepLosses:
    """The loss curves of a batch of ``N`` jobs.

    Args:
        history: one list per job, extended in place: per step
            ``{term: value, 'loss': sum of the terms, 'lr': ..., 'step': s}``
            (1-based ``s``) plus the ``extra`` of its flush for the last
            step flushed.
    """

    def __init__(self, history: List[List[dict]]) -> None:
        self.history = history
        self._names: Optional[Tuple[str, ...]] = None
        self._values: List[torch.Tensor] = []  # per step: (K, N) on device
        self._steps: List[Tuple[int, float]] = []  # per step: (step, lr)

    def record(self, step: int, terms: Dict[str, torch.Tensor],
               lr: float) -> None:
        """Keep step ``step``'s terms (each ``(N,)``) on their device."""
        names = tuple(terms)
        if self._names is not None and names != self._names:
            raise ValueError(f'loss terms changed from {self._names} to '
                             f'{names} at step {step}')
        self._names = names
        self._values.append(torch.stack([v.detach().float().reshape(-1)
                                         for v in terms.values()]))
        self._steps.append((step, float(lr)))

    def flush(self, **extra: float
              ) -> Tuple[List[int], Dict[str, torch.Tensor]]:
        """Copy the recorded steps to the host (one sync), append them to
        the histories (``extra``, e.g. ``loss_scale``, on the last step) and
        return the ``S`` steps flushed and ``{term: (S, N) cpu tensor,
        'loss': (S, N)}`` (``S`` may be 0)."""
        if not self._values:
            return [], {}
        values = torch.stack(self._values).cpu()  # S, K, N
        total = values[:, 0].clone()  # S, N: term by term, in float32, as
        for k in range(1, values.shape[1]):  # a per-step sum of the terms
            total += values[:, k]
        rows = values.tolist()
        totals = total.tolist()
        last = len(self._steps) - 1
        for s, (step, lr) in enumerate(self._steps):
            for j, curve in enumerate(self.history):
                point = {name: rows[s][k][j]
                         for k, name in enumerate(self._names)}
                point.update(loss=totals[s][j], lr=lr)
                if s == last:
                    point.update(extra)
                point['step'] = step
                curve.append(point)
        out = {name: values[:, k] for k, name in enumerate(self._names)}
        out['loss'] = total
        steps = [step for step, _ in self._steps]
        self._values, self._steps = [], []
        return steps, out


def first_non_finite(steps: List[int], window: Dict[str, torch.Tensor],
                     skip: Container[int] = ()) -> Dict[int, dict]:
    """Per job ``j`` (not in ``skip``) whose summed loss is NaN or Inf at
    some step of a :meth:`StepLosses.flush` window: ``{'iteration': the
    first such step, 'term': the first non-finite term there, 'value':
    its value}``."""
    if not steps:
        return {}
    bad = ~torch.isfinite(window['loss'])  # S, N
    out = {}
    for j in torch.nonzero(bad.any(0)).flatten().tolist():
        if j in skip:
            continue
        s = int(torch.nonzero(bad[:, j])[0])
        term = next(k for k, v in window.items()
                    if not torch.isfinite(v[s, j]))
        out[j] = dict(iteration=steps[s], term=term,
                      value=float(window[term][s, j]))
    return out
