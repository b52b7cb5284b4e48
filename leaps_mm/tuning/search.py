"""A search: an Optuna study (TPE sampler) in ``<out>/study.db`` whose
trials each run ``tools/invert.py`` in ``<out>/trial_<n>/``.

- Resumable and parallel: the study lives in its storage (sqlite by
  default); rerunning the command, or starting more processes on the same
  ``--out``, adds trials to it until ``n_trials`` have finished. A study
  made with other settings (config, space, iterations, stimuli, net) is
  refused rather than mixed.
- A trial whose process died (killed, out of memory) is still RUNNING in
  the storage. Every trial holds a lock on ``trial_<n>/.trial.lock`` while
  it runs; the next process to start on the same machine finds the lock
  free, marks the trial failed (``interrupted``) and queues its values
  again. Ctrl-C does the same at once. (With a shared ``--storage`` on
  several machines, a trial is only recovered by its own machine.)
- After every finished trial: a progress line (best so far, ETA), and
  ``best_config.py`` / ``best.json`` rewritten when the best changed.
"""
import fcntl
import os
import os.path as osp
import shutil
import socket
import threading
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence

from .best_config import write_best_config
from .space import Space, cfg_options, config_values
from .trial import (TrialFailed, TrialScore, child_env, invert_command,
                    job_folders, run_invert, score_jobs)

STUDY_DB = 'study.db'
BEST_CONFIG = 'best_config.py'
STALE_AFTER_S = 60  # a RUNNING trial without a lock file this old is dead
MAX_FAILURES_IN_ROW = 3
HOST = socket.gethostname()


class SearchError(RuntimeError):
    """A search that cannot start or go on; the message says why."""


@dataclass
class SearchSettings:
    config: str
    space_file: str
    out_dir: str
    n_trials: int
    iters: Optional[int]
    stimuli: Optional[List[int]]  # job indices; None: all jobs
    num_jobs: int  # videos per trial
    objective_net: str = 'verifier'
    n_jobs: int = 1
    study_name: str = 'leaps'
    storage: Optional[str] = None
    tracking: bool = True
    tracking_uri: Optional[str] = None
    experiment: str = 'leaps_tuning'
    sampler_seed: Optional[int] = None
    gifs: int = 4
    fixed_options: Sequence[str] = ()
    config_trial: bool = True  # first trial: the config's own values
    command: str = ''


@contextmanager
def file_lock(path: str) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (blocking)."""
    with open(path, 'a') as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def lock_is_free(path: str) -> bool:
    """Whether nobody holds ``path``'s flock (its holder's process died)."""
    with open(path, 'a') as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


def counts_as_done(trial) -> bool:
    """A trial that counts towards ``n_trials``: complete, or failed by
    itself (not interrupted, which is run again)."""
    from optuna.trial import TrialState
    return trial.state == TrialState.COMPLETE or (
        trial.state == TrialState.FAIL
        and not trial.user_attrs.get('interrupted'))


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return (f'{seconds // 60} min {seconds % 60:02d} s' if seconds >= 60
            else f'{seconds} s')


def _values(values: Dict[str, Any]) -> str:
    return ' '.join(f'{k}={v:.4g}' if isinstance(v, float) else f'{k}={v}'
                    for k, v in values.items())


class Search:
    """Runs the trials of ``space`` over config ``cfg`` (already loaded
    with the fixed options) as ``settings`` say."""

    def __init__(self, settings: SearchSettings, cfg: Any, space: Space,
                 echo: Callable[[str], None] = print) -> None:
        self.settings = settings
        self.cfg = cfg
        self.space = space
        self.echo = echo
        self.out = osp.abspath(settings.out_dir)
        self.storage_url = (settings.storage or
                            f'sqlite:///{osp.join(self.out, STUDY_DB)}')
        self.tracker = None
        self.storage = None
        self.lock = threading.Lock()
        self.durations: List[float] = []
        self.failures_in_row = 0
        self.abort: Optional[str] = None

    # --- setup ---------------------------------------------------------------
    def fingerprint(self) -> Dict[str, Any]:
        """What makes trials comparable; a resumed study must match it."""
        s = self.settings
        return dict(config=osp.abspath(s.config),
                    space=self.space.canonical(), iters=s.iters,
                    stimuli=s.stimuli, objective_net=s.objective_net,
                    fixed_options=list(s.fixed_options))

    def open(self):
        """Create or load the study, recover dead trials, open the MLflow
        parent run and queue the config's own values (new study)."""
        import optuna
        warnings.filterwarnings('ignore',
                                category=optuna.exceptions.ExperimentalWarning)
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        os.makedirs(self.out, exist_ok=True)
        s = self.settings
        with file_lock(osp.join(self.out, '.tune.lock')):
            kwargs = (dict(connect_args=dict(timeout=60))
                      if self.storage_url.startswith('sqlite') else None)
            self.storage = optuna.storages.RDBStorage(self.storage_url,
                                                      engine_kwargs=kwargs)
            sampler = optuna.samplers.TPESampler(
                seed=s.sampler_seed,
                n_startup_trials=max(2, min(10, s.n_trials // 3)))
            study = optuna.create_study(
                storage=self.storage, study_name=s.study_name,
                direction='maximize', sampler=sampler, load_if_exists=True)
            known = study.user_attrs.get('fingerprint')
            fingerprint = self.fingerprint()
            if known is None:
                study.set_user_attr('fingerprint', fingerprint)
            elif known != fingerprint:
                changed = [k for k in fingerprint
                           if known.get(k) != fingerprint[k]]
                raise SearchError(
                    f'Study {s.study_name!r} in {self.storage_url} was made '
                    f'with other settings ({", ".join(changed)}); its trials '
                    'are not comparable. Pass another --out or --study-name.')
            if s.tracking:
                self._open_tracking(study)
            self._recover(study)
            if known is None and s.config_trial:
                values = config_values(self.space, self.cfg)
                if values:
                    study.enqueue_trial(values,
                                        user_attrs=dict(config_values=True))
        return study

    def _open_tracking(self, study) -> None:
        from leaps_mm.tracking import MLflowUnavailableError

        from .tracking import SearchTracker
        s = self.settings
        try:
            self.tracker = SearchTracker(
                s.tracking_uri, self.out, s.experiment,
                lambda message: self.echo('WARNING: ' + message))
            params = dict(config=s.config, space_file=s.space_file,
                          iters=s.iters, stimuli=s.stimuli,
                          num_jobs=s.num_jobs, objective_net=s.objective_net,
                          fixed_options=list(s.fixed_options),
                          space={p['name']: p for p in
                                 self.space.canonical()})
            stem = osp.splitext(osp.basename(s.config))[0]
            run_id = self.tracker.open_parent(
                study.user_attrs.get('mlflow_parent_run_id'),
                f'tune_{stem}', params,
                tags=dict(study=s.study_name, storage=self.storage_url,
                          out_dir=self.out, command=s.command[:5000]),
                artifacts=[s.space_file])
        except MLflowUnavailableError as error:
            raise SearchError(str(error)) from error
        study.set_user_attr('mlflow_parent_run_id', run_id)

    def _recover(self, study) -> None:
        """Fail and re-queue RUNNING trials whose process is gone."""
        from optuna.trial import TrialState
        study_id = self.storage.get_study_id_from_name(study.study_name)
        now = time.time()
        for trial in study.get_trials(deepcopy=False,
                                      states=(TrialState.RUNNING, )):
            if trial.user_attrs.get('host', HOST) != HOST:
                continue  # another machine's: its lock is not here
            lock = osp.join(self.out, f'trial_{trial.number}', '.trial.lock')
            if osp.isfile(lock):
                if not lock_is_free(lock):
                    continue  # another process is running it
            elif now - trial.datetime_start.timestamp() < STALE_AFTER_S:
                continue  # just created by another process
            trial_id = self.storage.get_trial_id_from_study_id_trial_number(
                study_id, trial.number)
            self.storage.set_trial_user_attr(trial_id, 'interrupted', True)
            self.storage.set_trial_state_values(trial_id, TrialState.FAIL)
            study.enqueue_trial(trial.params,
                                user_attrs=dict(retry_of=trial.number))
            if self.tracker is not None:
                self.tracker.stop_trial(trial.user_attrs.get('mlflow_run_id'),
                                        'KILLED', 'interrupted')
            self.echo(f'Trial {trial.number} was interrupted (its process is '
                      'gone): marked failed, its values queued again.')

    # --- trials --------------------------------------------------------------
    def objective(self, trial) -> float:
        import optuna
        from optuna.trial import TrialState
        s = self.settings
        study = trial.study
        others = study.get_trials(deepcopy=False)
        done = sum(counts_as_done(t) for t in others)
        running = sum(t.state == TrialState.RUNNING and
                      t.number != trial.number for t in others)
        if done + running >= s.n_trials:  # other processes got there first
            trial.set_user_attr('surplus', True)
            study.stop()
            raise optuna.TrialPruned('the study has its trials')
        trial.set_user_attr('host', HOST)
        values = self.space.suggest(trial)
        folder = osp.join(self.out, f'trial_{trial.number}')
        if osp.isdir(folder):  # left by an old study in this folder
            shutil.rmtree(folder)
        os.makedirs(folder)
        with open(osp.join(folder, '.trial.lock'), 'w') as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            return self._run(trial, values, folder)

    def _run(self, trial, values: Dict[str, Any], folder: str) -> float:
        s = self.settings
        run_id = None
        if self.tracker is not None:
            run_id = self.tracker.start_trial(
                trial.number, values, {p.name: p.keys
                                       for p in self.space.params}, folder)
            trial.set_user_attr('mlflow_run_id', run_id)
        options = list(s.fixed_options) + cfg_options(self.space, values)
        if s.stimuli is not None:
            options.append('leaps.stimuli.indices=[' +
                           ','.join(map(str, s.stimuli)) + ']')
        cmd = invert_command(s.config, folder, options, s.iters)
        start = time.time()
        try:
            run_invert(cmd, osp.join(folder, 'invert.log'),
                       child_env(s.n_jobs))
            score = score_jobs(folder, s.objective_net, s.num_jobs)
        except KeyboardInterrupt:
            trial.set_user_attr('interrupted', True)
            trial.study.enqueue_trial(values,
                                      user_attrs=dict(retry_of=trial.number))
            if self.tracker is not None:
                self.tracker.stop_trial(run_id, 'KILLED', 'interrupted')
            raise
        except TrialFailed as error:
            trial.set_user_attr('error', str(error)[:2000])
            if self.tracker is not None:
                self.tracker.stop_trial(run_id, 'FAILED', str(error))
            raise
        seconds = time.time() - start
        trial.set_user_attr('seconds', seconds)
        for key, value in score.to_dict().items():
            trial.set_user_attr(key, value)
        if self.tracker is not None:
            metrics = dict(objective=score.objective, top1=score.top1,
                           correct=score.correct,
                           mean_prob_target=score.mean_prob,
                           failed_jobs=score.failed_jobs, seconds=seconds,
                           **score.other)
            gifs = [osp.join(f, 'synth.gif')
                    for f in job_folders(folder)[:s.gifs]]
            self.tracker.end_trial(run_id, metrics, gifs)
        return score.objective

    # --- after each trial ----------------------------------------------------
    def after_trial(self, study, frozen) -> None:
        """Optuna callback: progress line, best config, stop when done."""
        from optuna.trial import TrialState
        s = self.settings
        if frozen.user_attrs.get('surplus'):
            return
        trials = study.get_trials(deepcopy=False)
        done = sum(counts_as_done(t) for t in trials)
        complete = [t for t in trials if t.state == TrialState.COMPLETE]
        with self.lock:
            seconds = frozen.user_attrs.get('seconds') or (
                (frozen.datetime_complete - frozen.datetime_start)
                .total_seconds() if frozen.datetime_complete else 0.0)
            if frozen.state == TrialState.COMPLETE:
                self.durations.append(seconds)
                self.failures_in_row = 0
            elif not frozen.user_attrs.get('interrupted'):
                self.failures_in_row += 1
            head = f'[{done}/{s.n_trials}] trial {frozen.number}'
            if frozen.state == TrialState.COMPLETE:
                score = TrialScore(**{k: frozen.user_attrs[k] for k in (
                    'objective', 'net', 'correct', 'num_jobs', 'failed_jobs',
                    'mean_prob', 'other')})
                head += (f': {frozen.value:.4f} ({score.summary()}) '
                         f'{_values(frozen.params)} in {_duration(seconds)}')
            else:
                error = frozen.user_attrs.get('error', 'interrupted')
                head += f' FAILED after {_duration(seconds)}: {error}'
            best = max(complete, key=lambda t: t.value) if complete else None
            if best is not None:
                head += f' | best {best.value:.4f} (trial {best.number})'
                if best.number == frozen.number:
                    self.write_best(study, best, done)
            remaining = max(0, s.n_trials - done)
            if self.durations and remaining:
                mean = sum(self.durations) / len(self.durations)
                head += (' | ETA ' +
                         _duration(mean * remaining / s.n_jobs))
            self.echo(head)
            if self.failures_in_row >= MAX_FAILURES_IN_ROW:
                self.abort = (f'{self.failures_in_row} trials in a row '
                              'failed; stopping. Last error: ' +
                              frozen.user_attrs.get('error', '?'))
                study.stop()
        if done >= s.n_trials:
            study.stop()

    def write_best(self, study, best, done: int) -> None:
        """``best_config.py`` and ``best.json`` for trial ``best``."""
        s = self.settings
        score = {k: best.user_attrs.get(k) for k in (
            'objective', 'net', 'correct', 'num_jobs', 'mean_prob', 'top1',
            'other')}
        header = [
            f'Best trial of study {s.study_name!r} after {done} trials '
            f'(tools/tune.py, {self.storage_url}):',
            f'trial {best.number}: objective {best.value:.4f} = '
            f'{s.objective_net} top-1 {score["correct"]}/{score["num_jobs"]},'
            f' mean target probability {score["mean_prob"]:.3f}',
            f'measured at {s.iters or "the config"} iterations on jobs '
            f'{s.stimuli if s.stimuli is not None else "all"}.',
            f'Values: {_values(best.params)}']
        path = osp.join(self.out, BEST_CONFIG)
        write_best_config(self.cfg, s.config, path,
                          self.space.assignments(best.params), header)
        from leaps_mm.fileio.atomic import write_json
        write_json(osp.join(self.out, 'best.json'), dict(
            trial=best.number, values=best.params,
            keys=self.space.assignments(best.params), score=score,
            config=s.config, best_config=path))
        if self.tracker is not None:
            self.tracker.log_best(best.number, dict(
                best_objective=best.value, best_trial=best.number,
                best_top1=score['top1'] or 0.0))

    # --- driver --------------------------------------------------------------
    def run(self):
        """Open the study and run trials until ``n_trials`` are done;
        return the study."""
        s = self.settings
        study = self.open()
        done = sum(counts_as_done(t) for t in study.get_trials(deepcopy=False))
        if done >= s.n_trials:
            self.echo(f'Study {s.study_name!r} already has {done} finished '
                      f'trials (asked: {s.n_trials}); nothing to run.')
        else:
            self.echo(f'Study {s.study_name!r}: {done} trials done, running '
                      f'{s.n_trials - done} more ({s.n_jobs} at a time), '
                      f'{s.num_jobs} video(s) x {s.iters or "config"} '
                      f'iterations each; trial folders in {self.out}.')
            study.optimize(self.objective, n_trials=s.n_trials - done,
                           n_jobs=s.n_jobs, catch=(TrialFailed, ),
                           callbacks=[self.after_trial])
        if self.tracker is not None:
            best_path = osp.join(self.out, BEST_CONFIG)
            if osp.isfile(best_path):
                self.tracker.log_parent_file(best_path)
            done = sum(counts_as_done(t)
                       for t in study.get_trials(deepcopy=False))
            if done >= s.n_trials:
                self.tracker.finish('FINISHED')
        if self.abort:
            raise SearchError(self.abort)
        return study
