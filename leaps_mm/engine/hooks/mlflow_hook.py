"""MLflow tracking of an inversion sweep: one parent run per invocation, one
nested child run per synthesized video.

Why a hook and not mmengine's ``MLflowVisBackend``: the backend logs to one
flat run through the visualizer, has no ``add_video`` (MMAction2's
``ActionVisualizer.add_video`` calls it on every backend), no nested runs,
defaults to a ``file://`` store that MLflow >= 3.13 refuses and puts artifacts
in ``<cwd>/mlruns``. A sweep's unit is the job, not the iteration: the hook
sees each finished job in ``after_test_iter`` (its folder already written by
:class:`InversionLoop`) and logs it as a child run in one batch, so tracking
never enters the optimisation loop. It talks to MLflow through an explicit
``MlflowClient`` (no global active run), so several sweeps in one process
cannot mix up runs. The store, experiment and parent-run rules are those of
:mod:`leaps_mm.tracking`, shared with the tools.

Local files come first: every job folder is complete before anything is
sent. A store that cannot be reached fails the sweep in ``before_run``,
before any optimisation, with :class:`MLflowUnavailableError`; a failure
later only warns and switches tracking off for the rest of the sweep; a
later ``--resume`` back-fills the jobs it missed (a job folder's
``tracked.json`` names its child run once it is logged).
"""
from __future__ import annotations

import json
import logging
import os
import os.path as osp
import re
import subprocess
import tempfile
import time
from typing import (TYPE_CHECKING, Any, Callable, Dict, List, Optional,
                    Sequence, Tuple)

from mmengine.config import Config
from mmengine.dist import (broadcast_object_list, get_world_size,
                           is_main_process)
from mmengine.hooks import Hook
from mmengine.logging import print_log
from tqdm import tqdm

from leaps_mm.registry import HOOKS
from leaps_mm.tracking import (JOB_ARTIFACTS, MAX_PARAM_VALUE,
                               PARENT_RUN_FILE, TRACKED_FILE,
                               MLflowUnavailableError, check_tracking_store,
                               child_runs, find_parent_run,
                               get_or_create_experiment, log_gallery,
                               log_params, mlflow_key, resolve_tracking_uri,
                               short_tags, ui_hint, write_stimulus_gif)
from leaps_mm.fileio.atomic import write_json
from leaps_mm.visualization.gallery import GALLERY_FILES
from leaps_mm.fileio.job_outputs import finished_jobs, read_job_record

if TYPE_CHECKING:
    from mlflow import MlflowClient

NO_CHECKPOINT = 'none (random init)'


def _backbone(model: Optional[dict]) -> str:
    """A recognizer config's backbone type (its own type without one)."""
    if not model:
        return 'none'
    return str((model.get('backbone') or {}).get('type') or model.get('type'))


def _git_commit() -> Optional[str]:
    """HEAD of the repository leaps_mm runs from, if it is a git checkout."""
    root = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
        osp.abspath(__file__)))))
    try:
        out = subprocess.run(['git', '-C', root, 'rev-parse', 'HEAD'],
                             capture_output=True, text=True, timeout=5,
                             check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _file_state(path: str) -> Optional[Tuple[int, int]]:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_ino, stat.st_mtime_ns


@HOOKS.register_module()
class MLflowTrackingHook(Hook):
    """Logs a sweep to MLflow (``build_runner_config`` adds it to
    ``custom_hooks`` when ``leaps.tracking.enabled``, with the sweep's
    ``identity``, ``seed``, ``fps`` and ``resume``).

    - ``before_run`` (rank 0): checks the store, gets or creates the
      experiment (artifacts of a local sqlite store in ``mlartifacts`` beside
      it; tag ``mlflow.experimentKind`` so the UI opens the runs table),
      starts the parent run with tags (model, verifier, checkpoints, config,
      seed, version, git commit, work dir), the config (see
      :meth:`add_config`) flattened as params and dumped as artifact
      ``config/``. With ``resume`` it reopens the work dir's newest parent
      run instead. Other ranks get its id by broadcast and log their jobs
      under it.
    - ``before_test_epoch`` (``resume``, rank 0): back-fills finished jobs
      that have no child run in this store.
    - ``after_test_iter``: per job record, writes ``stimulus.gif`` into the
      job folder, then a child run (tag ``mlflow.parentRunId``) with params
      (target name/index, stimulus, seed), the job's loss history (every
      term, ``loss``, ``lr``, at every step) and final scores as
      metrics in one batch, and the job's files as artifacts.
    - ``after_test_epoch``: the set metrics (top-1 ...) and the sweep
      gallery the loop wrote into the work dir during this sweep
      (``gallery/gallery.png`` ...) on the parent run.
    - ``after_run``: ends the parent run (FINISHED).

    Args:
        tracking_uri: MLflow URI; None: ``$MLFLOW_TRACKING_URI``, else
            ``sqlite:///<abs work_dir>/mlflow.db``.
        experiment: experiment name (created if missing).
        timeout: seconds the store check in ``before_run`` may take.
        identity: what the sweep ran: ``config`` (path),
            ``target_checkpoint``, ``verifier_checkpoint`` ... tagged on the
            parent run.
        seed: the sweep's base seed (a parent-run tag).
        fps: frame rate of the stimulus gifs.
        resume: the sweep continues an earlier one in its work dir
            (``--resume``): reopen its parent run, back-fill jobs without a
            child run.
    """
    priority = 'VERY_LOW'  # after the loop's own per-job work

    def __init__(self, tracking_uri: Optional[str] = None,
                 experiment: str = 'leaps', timeout: float = 5.0,
                 identity: Optional[dict] = None, seed: Optional[int] = None,
                 fps: float = 8, resume: bool = False) -> None:
        self.tracking_uri = tracking_uri
        self.experiment = experiment
        self.timeout = timeout
        self.identity = dict(identity or {})
        self.seed = seed
        self.fps = fps
        self.resume = resume
        self.config: Optional[Config] = None
        self.uri: Optional[str] = None
        self.client: Optional['MlflowClient'] = None
        self.parent_run_id: Optional[str] = None
        self.experiment_id: Optional[str] = None
        self.resumed_parent = False  # reopened an earlier sweep's parent
        # the gallery files as the sweep found them: logged if rewritten
        self._gallery_before: Dict[str, Optional[Tuple[int, int]]] = {}

    def add_config(self, cfg: Config) -> None:
        """The config logged on a new parent run (params, ``config/``
        artifact, run name, model and verifier tags). ``before_run`` adds
        the Runner's own config when none was added."""
        self.config = cfg

    # --- run lifecycle ---------------------------------------------------
    def before_run(self, runner) -> None:
        if self.config is None:
            self.add_config(runner.cfg)
        self.uri = resolve_tracking_uri(self.tracking_uri, runner.work_dir)
        self._gallery_before = {
            path: _file_state(path) for path in self._gallery_paths(runner)}
        # a server that dies mid-sweep: warn after ~15 s, not after MLflow's
        # default 7 retries with backoff (minutes); user settings win
        os.environ.setdefault('MLFLOW_HTTP_REQUEST_MAX_RETRIES', '3')
        os.environ.setdefault('MLFLOW_HTTP_REQUEST_TIMEOUT', '30')
        # experiment id, parent run id, error message, parent reopened
        shared: List[Any] = [None, None, None, False]
        if is_main_process():
            try:
                shared[0], shared[1], shared[3] = self._start_parent(runner)
            except MLflowUnavailableError as error:
                shared[2] = str(error)
            except Exception as error:  # e.g. experiment creation refused
                shared[2] = (f'MLflow tracking at {self.uri} failed: '
                             f'{type(error).__name__}: {error}. Pass '
                             '--no-mlflow to run without tracking.')
        if get_world_size() > 1:
            broadcast_object_list(shared)
        if shared[2] is not None:
            raise MLflowUnavailableError(shared[2])
        self.experiment_id, self.parent_run_id = shared[:2]
        self.resumed_parent = bool(shared[3])
        if self.client is None:
            from mlflow import MlflowClient
            self.client = MlflowClient(self.uri)
        print_log(f'MLflow: run {self.parent_run_id} in experiment '
                  f'{self.experiment!r} at {self.uri}', logger='current',
                  level=logging.INFO)
        if is_main_process():  # to the console (the log level hides INFO)
            tqdm.write(ui_hint(self.uri, self.experiment_id))

    def _start_parent(self, runner) -> Tuple[str, str, bool]:
        """Check the store, get or create the experiment, start the parent
        run (or, with ``resume``, reopen the work dir's earlier one); return
        (experiment id, parent run id, whether it was reopened)."""
        from mlflow import MlflowClient

        import leaps_mm
        check_tracking_store(self.uri, self.timeout)
        client = MlflowClient(self.uri)
        experiment_id = get_or_create_experiment(client, self.experiment)
        self.client = client
        previous = self._previous_parent(runner.work_dir, experiment_id)
        if previous is not None:
            return experiment_id, previous, True
        cfg = self.config
        model = cfg.get('model', {})
        identity = self.identity
        tags = {
            'model': _backbone(model.get('target')),
            'verifier': _backbone(model.get('verifier')),
            'target_checkpoint': identity.get('target_checkpoint')
            or NO_CHECKPOINT,
            'verifier_checkpoint': identity.get('verifier_checkpoint')
            or NO_CHECKPOINT,
            'config': identity.get('config') or '',
            'seed': self.seed,
            'leaps_mm_version': leaps_mm.__version__,
            'work_dir': runner.work_dir,
        }
        commit = _git_commit()
        if commit:
            tags.update({'git_commit': commit,
                         'mlflow.source.git.commit': commit})
        stem = osp.splitext(osp.basename(cfg.filename or 'leaps'))[0]
        run = client.create_run(experiment_id,
                                run_name=f'{stem}_{runner.timestamp}',
                                tags=short_tags(tags))
        run_id = run.info.run_id
        write_json(osp.join(runner.work_dir, PARENT_RUN_FILE),
                   dict(tracking_uri=self.uri, experiment_id=experiment_id,
                        run_id=run_id))
        log_params(client, run_id, cfg.to_dict())
        with tempfile.TemporaryDirectory() as tmp:
            path = osp.join(tmp, f'{stem}.py')
            cfg.dump(path)
            client.log_artifact(run_id, path, 'config')
        return experiment_id, run_id, False

    def _previous_parent(self, work_dir: str,
                         experiment_id: str) -> Optional[str]:
        """The work dir's newest parent run in this experiment
        (:func:`~leaps_mm.tracking.find_parent_run`), handled as follows.
        Children left RUNNING by a killed sweep are marked KILLED. With
        ``resume`` the parent is reopened and its id returned, so the child
        runs of the resumed jobs join the earlier ones under one parent (tag
        ``resumes`` counts the resumes). Without, a parent still RUNNING
        (its sweep was killed: the work-dir lock rules out a live one) is
        marked KILLED and None is returned."""
        run = find_parent_run(self.client, work_dir, experiment_id)
        if run is None:
            return None  # no earlier sweep here, or its run is gone
        run_id = run.info.run_id
        for child in child_runs(self.client, experiment_id, run_id):
            if child.info.status == 'RUNNING':
                self.client.set_terminated(child.info.run_id, 'KILLED')
        if not self.resume:
            if run.info.status == 'RUNNING':
                self.client.set_terminated(run_id, 'KILLED')
                print_log(f'MLflow: the earlier sweep\'s parent run {run_id} '
                          'was still RUNNING (killed); marked KILLED.',
                          logger='current', level=logging.WARNING)
            return None
        if run.info.status != 'RUNNING':
            self.client.update_run(run_id, status='RUNNING')
        self.client.set_tag(run_id, 'resumes',
                            str(int(run.data.tags.get('resumes', 0)) + 1))
        print_log(f'MLflow: resuming parent run {run_id} (was '
                  f'{run.info.status})', logger='current', level=logging.INFO)
        return run_id

    def before_test_epoch(self, runner) -> None:
        """With ``resume`` (rank 0): back-fill the tracking of finished
        jobs that have no child run in this store (no ``tracked.json`` naming
        it: the store failed, or tracking was off, when they ran)."""
        if self.client is None or not is_main_process() or not self.resume:
            return
        logged = []
        for folder in finished_jobs(runner.work_dir):
            name = osp.basename(folder)
            if not re.fullmatch(r'\d{5,}_\w+', name) or self._tracked(folder):
                continue
            record = read_job_record(folder)
            gif = osp.join(folder, 'stimulus.gif')
            if record.get('stimulus') and not osp.isfile(gif):
                try:
                    write_stimulus_gif(record['stimulus'], gif, self.fps)
                except Exception:  # optional, as in after_test_iter
                    pass
            self._safely(f'back-filling job {name}',
                         lambda client: self._log_job(client, record, folder))
            if self.client is None:
                return
            logged.append(name)
        if logged:
            print_log(f'MLflow: back-filled {len(logged)} finished job(s) '
                      f'without a child run: {", ".join(logged)}',
                      logger='current', level=logging.WARNING)

    def _tracked(self, folder: str) -> bool:
        """Whether ``folder``'s job has a child run in this store."""
        try:
            with open(osp.join(folder, TRACKED_FILE)) as file:
                return json.load(file).get('tracking_uri') == self.uri
        except (OSError, ValueError, AttributeError):
            return False

    def after_test_iter(self, runner, batch_idx: int,
                        data_batch: Optional[dict] = None,
                        outputs: Optional[Sequence[dict]] = None) -> None:
        for record in outputs or []:
            folder = osp.join(runner.work_dir, record['job_id'])
            if record.get('stimulus'):
                try:
                    write_stimulus_gif(record['stimulus'],
                                       osp.join(folder, 'stimulus.gif'),
                                       self.fps)
                except Exception as error:  # a stimulus gif is optional
                    print_log(f'MLflow: no stimulus.gif for '
                              f'{record["job_id"]}: {error}',
                              logger='current', level=logging.WARNING)
            self._safely(f'logging job {record["job_id"]}',
                         lambda client: self._log_job(client, record, folder))

    def after_test_epoch(self, runner, metrics: Optional[dict] = None) -> None:
        """Rank 0: the set metrics and the sweep gallery (the files of
        ``GALLERY_FILES`` the loop wrote into the work dir during this
        sweep, just before) on the parent run."""
        from mlflow.entities import Metric
        if not is_main_process():
            return
        now = int(time.time() * 1000)
        entries = [Metric(mlflow_key(k), float(v), now, 0)
                   for k, v in (metrics or {}).items()
                   if isinstance(v, (int, float))]
        if entries:
            self._safely('logging set metrics',
                         lambda client: client.log_batch(
                             self.parent_run_id, metrics=entries))
        gallery = [path for path in self._gallery_paths(runner)
                   if _file_state(path) not in (
                       None, self._gallery_before.get(path))]
        self._safely('logging the sweep gallery',
                     lambda client: log_gallery(client, self.parent_run_id,
                                                gallery))

    @staticmethod
    def _gallery_paths(runner) -> List[str]:
        return [osp.join(runner.work_dir, name)
                for name in GALLERY_FILES.values()]

    def on_interrupt(self, runner) -> None:
        """The sweep was stopped by a signal (called by InversionLoop):
        the parent run ends KILLED; ``--resume`` continues the sweep."""
        if is_main_process():
            self._safely('marking the parent run KILLED',
                         lambda client: client.set_terminated(
                             self.parent_run_id, 'KILLED'))

    def after_run(self, runner) -> None:
        if not is_main_process():
            return
        self._safely('ending the parent run',
                     lambda client: client.set_terminated(
                         self.parent_run_id, 'FINISHED'))
        if self.client is not None:  # the parent run: metrics, gallery
            tqdm.write(ui_hint(self.uri, self.experiment_id,
                               self.parent_run_id))

    # --- helpers -----------------------------------------------------------
    def _safely(self, what: str, fn: Callable[['MlflowClient'], Any]) -> None:
        """Call ``fn(client)`` unless tracking is off; on failure warn once
        and turn tracking off (a dead server would stall every later call in
        retries). Local results are never touched."""
        if self.client is None:
            return
        try:
            fn(self.client)
        except Exception as error:
            self.client = None
            print_log(f'MLflow: {what} failed at {self.uri} '
                      f'({type(error).__name__}: {error}); tracking is off '
                      'for the rest of this sweep, results are in the work '
                      'dir.', logger='current', level=logging.WARNING)

    def _log_job(self, client: 'MlflowClient', record: dict,
                 folder: str) -> None:
        """One child run: params, history + final metrics, job files."""
        from mlflow.entities import Metric, Param
        if self.resumed_parent:  # an earlier, interrupted attempt at this job
            for stale in child_runs(client, self.experiment_id,
                                    self.parent_run_id, record['job_id']):
                client.delete_run(stale.info.run_id)
        run = client.create_run(
            self.experiment_id, run_name=record['job_id'],
            tags={'mlflow.parentRunId': self.parent_run_id,
                  'job_id': record['job_id']})
        run_id = run.info.run_id
        params = {k: record.get(k) for k in
                  ('target_name', 'target_index', 'stimulus', 'seed',
                   'iterations')}
        now = int(time.time() * 1000)
        metrics = [Metric(mlflow_key(k), float(v), now, int(point['step']))
                   for point in record.get('history', [])
                   for k, v in point.items() if k != 'step']
        last = int(record.get('iterations', 0))
        for net in ('model', 'verifier', 'judge'):
            if f'{net}_pred' not in record:
                continue
            pred = record[f'{net}_pred']
            metrics += [
                Metric(f'{net}_prob_target', record[f'{net}_prob_target'],
                       now, last),
                Metric(f'{net}_pred', float(pred), now, last),
                Metric(f'{net}_correct',
                       float(pred == record['target_index']), now, last)]
            params[f'{net}_pred_name'] = record.get(f'{net}_pred_name')
        # every step's losses (~7 metrics a step) in one call: the client
        # sends them in requests of MLflow's at most 1000 metrics
        client.log_batch(run_id, metrics=metrics,
                         params=[Param(k, str(v)[:MAX_PARAM_VALUE])
                                 for k, v in params.items()])
        for name in JOB_ARTIFACTS:
            path = osp.join(folder, name)
            if osp.isfile(path):
                client.log_artifact(run_id, path)
        client.set_terminated(run_id, 'FINISHED')
        write_json(osp.join(folder, TRACKED_FILE),
                   dict(tracking_uri=self.uri, run_id=run_id,
                        parent_run_id=self.parent_run_id))
