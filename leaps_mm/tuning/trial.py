"""One trial of a search: run ``tools/invert.py`` with the sampled values in
a subprocess (a fresh mmengine/MMAction2 state each time) and score the
synthesized videos.

The objective, maximised, for ``N`` requested videos of which ``c`` the
scoring net (verifier by default) classifies as their target, with ``p`` its
mean target probability over the ``N`` videos (a failed job counts as wrong
with probability 0)::

    objective = (c + p) / (N + 1)

It lies in [0, 1]. One more correct video always scores higher whatever
the probabilities (``1 + p1 - p2 > 0`` since ``p2 = 1`` would mean every
video correct), so trials are ordered by top-1 first, ties broken by the mean
target probability.
"""
import ctypes
import os
import os.path as osp
import signal
import subprocess
import sys
from dataclasses import asdict, dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence

from leaps_mm.evaluation.record_metrics import (count_correct,
                                                mean_prob_target, top1)
from leaps_mm.structures import as_records
from leaps_mm.fileio.job_outputs import finished_jobs, read_job_record
from .space import SpaceError

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
INVERT = osp.join(REPO, 'tools', 'invert.py')
NETS = ('model', 'verifier', 'judge')


class TrialFailed(RuntimeError):
    """tools/invert.py exited with an error; the message holds its tail."""


@dataclass
class TrialScore:
    """What a trial's videos scored (``net`` is the objective's net)."""
    objective: float
    net: str
    correct: int
    num_jobs: int
    failed_jobs: int
    mean_prob: float
    other: Dict[str, float]  # top1_/prob_target_ of the other nets

    @property
    def top1(self) -> float:
        return 100.0 * self.correct / self.num_jobs

    def summary(self) -> str:
        failed = f', {self.failed_jobs} failed' if self.failed_jobs else ''
        return (f'{self.net} top-1 {self.correct}/{self.num_jobs}, '
                f'p={self.mean_prob:.3f}{failed}')

    def to_dict(self) -> Dict[str, Any]:
        return dict(asdict(self), top1=self.top1)


def objective(correct: int, mean_prob: float, num_jobs: int) -> float:
    """``(correct + mean_prob) / (num_jobs + 1)``: see the module doc."""
    return (correct + mean_prob) / (num_jobs + 1)


def score_jobs(work_dir: str, net: str, num_jobs: int) -> TrialScore:
    """Score the job folders in ``work_dir``: ``num_jobs`` were requested;
    one without ``result.json`` (failed or missing) counts as wrong."""
    records = as_records([read_job_record(f) for f in finished_jobs(work_dir)])
    if records and net not in records[0].preds:
        raise TrialFailed(f'The results have no {net} predictions: the '
                          f'config has no {net}.')
    other = {}
    for name in NETS:
        if records and name in records[0].preds:
            other[f'top1_{name}'] = top1(records, name, num_jobs)
            other[f'prob_target_{name}'] = mean_prob_target(records, name,
                                                            num_jobs)
    mean_prob = mean_prob_target(records, net, num_jobs)
    correct = count_correct(records, net)
    return TrialScore(objective(correct, mean_prob, num_jobs), net, correct,
                      num_jobs, num_jobs - len(records), mean_prob, other)


def job_folders(work_dir: str) -> List[str]:
    """Job folders holding a synthesized gif, in job order."""
    return [osp.join(work_dir, n) for n in sorted(os.listdir(work_dir))
            if osp.isfile(osp.join(work_dir, n, 'synth.gif'))]


def invert_command(config: str, work_dir: str, options: Sequence[str],
                   iters: Optional[int]) -> List[str]:
    """The ``tools/invert.py`` command line of a trial (no MLflow: the
    search logs the trial itself)."""
    cmd = [sys.executable, INVERT, config, '--work-dir', work_dir,
           '--no-mlflow']
    if iters is not None:
        cmd += ['--iters', str(iters)]
    for option in options:
        cmd += ['--cfg-options', option]
    return cmd


def _die_with_parent() -> Optional[Callable[[], None]]:
    """A ``preexec_fn`` that makes the child get SIGTERM when the search
    process dies (Linux ``prctl(PR_SET_PDEATHSIG)``), so a killed search
    leaves no inversion running; None elsewhere."""
    if not sys.platform.startswith('linux'):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved before fork
    return lambda: prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG


def run_invert(cmd: List[str], log_path: str,
               env: Optional[Dict[str, str]] = None) -> None:
    """Run ``cmd`` with its output in ``log_path``; :class:`TrialFailed`
    with the log's tail if it fails."""
    with open(log_path, 'w') as log:
        code = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT,
                               env=env, preexec_fn=_die_with_parent())
    if code != 0:
        with open(log_path, errors='replace') as log:
            lines = [line.rstrip() for line in log.read().splitlines()
                     if line.strip() and 'Warning' not in line]
        tail = '\n'.join(lines[-6:])
        raise TrialFailed(f'tools/invert.py exited with {code} (log: '
                          f'{log_path}):\n{tail}')


def child_env(n_jobs: int) -> Dict[str, str]:
    """The environment of a trial: cores shared among ``n_jobs`` parallel
    trials (unless OMP_NUM_THREADS is set), no busy-waiting threads."""
    env = dict(os.environ)
    env.setdefault('OMP_NUM_THREADS',
                   str(max(1, (os.cpu_count() or 1) // n_jobs)))
    env.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
    return env


def pick_stimuli(total: int, spec: Any) -> Optional[List[int]]:
    """Indices of the jobs a trial inverts: ``None`` (all), a count (that
    many, evenly spaced over the job list: over the classes when it is
    sorted by class) or a list of indices."""
    if spec is None:
        return None
    if isinstance(spec, str):
        parts = [p for p in spec.replace(' ', '').split(',') if p]
        if not parts or not all(p.isdigit() for p in parts):
            raise SpaceError(f'stimuli {spec!r}: give a count (8) or job '
                             'indices (0,3,5).')
        spec = int(parts[0]) if len(parts) == 1 else [int(p) for p in parts]
    if isinstance(spec, int) and not isinstance(spec, bool):
        if not 1 <= spec <= total:
            raise SpaceError(f'stimuli={spec}: the config has {total} jobs; '
                             f'give 1..{total}.')
        if spec == 1:
            return [0]
        return sorted({round(i * (total - 1) / (spec - 1))
                       for i in range(spec)})
    if isinstance(spec, Sequence) and spec:
        bad = [i for i in spec if not isinstance(i, int) or not
               0 <= i < total]
        if bad:
            raise SpaceError(f'stimuli: index {bad[0]!r} is out of range; '
                             f'the config has {total} jobs (0..{total - 1}).')
        return list(spec)
    raise SpaceError(f'stimuli={spec!r}: give a count or a list of indices.')


def count_jobs(cfg: Any) -> int:
    """Jobs in the config's stimulus list (annotation file lines plus
    ``leaps.stimuli.stimuli``)."""
    stimuli = cfg.leaps.get('stimuli', {})
    total = len(stimuli.get('stimuli') or [])
    ann_file = stimuli.get('ann_file')
    if ann_file:
        if not osp.isfile(ann_file):
            raise SpaceError(f'Annotation file {ann_file!r} does not exist '
                             '(paths are relative to the current folder).')
        with open(ann_file) as file:
            total += sum(1 for line in file if line.strip())
    return total
