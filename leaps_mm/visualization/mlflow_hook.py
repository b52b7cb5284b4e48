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
cannot mix up runs.

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
import urllib.error
import urllib.request
from typing import (TYPE_CHECKING, Any, Callable, Dict, Iterable, Iterator,
                    List, Optional, Sequence, Tuple)

import cv2
import numpy as np
from mmengine.dist import (broadcast_object_list, get_world_size,
                           is_main_process)
from mmengine.hooks import Hook
from mmengine.logging import print_log
from tqdm import tqdm

from leaps_mm.registry import HOOKS
from leaps_mm.utils.fileio import write_json
from .job_outputs import finished_jobs, read_job_record
from .video_io import read_video, write_gif

if TYPE_CHECKING:
    from mlflow import MlflowClient

MAX_PARAM_VALUE = 6000  # mlflow.utils.validation.MAX_PARAM_VAL_LENGTH
MAX_KEY = 250  # MAX_ENTITY_KEY_LENGTH
MAX_TAG_VALUE = 8000  # MAX_TAG_VAL_LENGTH
PARAMS_PER_BATCH = 100  # MAX_PARAMS_TAGS_PER_BATCH
JOB_ARTIFACTS = ('synth.gif', 'synth.mp4', 'strip.png', 'stimulus.gif',
                 'result.json')
NO_CHECKPOINT = 'none (random init)'
# the parent run of the last sweep in a work dir, reopened by --resume
PARENT_RUN_FILE = 'mlflow_parent.json'
# in a job folder: the child run that tracks the job (written once logged)
TRACKED_FILE = 'tracked.json'
# the experiment's kind (MLflow's own values): 'custom_model_development'
# is classic training (a runs table), 'genai_development' GenAI. The UI
# opens the page the tag names where its global GenAI / Model-training
# switch is off; 3.17's UI has it on and opens what the switch says (the
# ``workflowType`` query parameter, else the browser's last choice, GenAI
# by default), hence the links of :func:`ui_url`
EXPERIMENT_KIND_TAG = 'mlflow.experimentKind'
EXPERIMENT_KIND = 'custom_model_development'
# the parent run's folder of the sweep gallery (gallery.png/.gif/.mp4)
GALLERY_ARTIFACT_PATH = 'gallery'


class MLflowUnavailableError(RuntimeError):
    """The tracking store cannot be reached or used; raised before the
    optimisation starts."""


def default_tracking_uri(work_dir: str) -> str:
    """The work dir's own store: ``sqlite:///<abs work_dir>/mlflow.db``."""
    return f'sqlite:///{osp.abspath(work_dir)}/mlflow.db'


def resolve_tracking_uri(tracking_uri: Optional[str], work_dir: str) -> str:
    """``tracking_uri`` if given, else ``$MLFLOW_TRACKING_URI``, else the work
    dir's embedded sqlite store."""
    return (tracking_uri or os.environ.get('MLFLOW_TRACKING_URI')
            or default_tracking_uri(work_dir))


def local_artifact_location(uri: str) -> Optional[str]:
    """Artifact root for a new experiment in a local sqlite store:
    ``mlartifacts`` beside the database (for the default store,
    ``<work_dir>/mlartifacts``); None (the server decides) otherwise."""
    if not uri.startswith('sqlite:///'):
        return None
    database = osp.abspath(uri[len('sqlite:///'):])
    return osp.join(osp.dirname(database), 'mlartifacts')


def check_tracking_store(uri: str, timeout: float = 5.0) -> None:
    """Raise :class:`MLflowUnavailableError` with one actionable message if
    the store at ``uri`` does not answer: ``GET <uri>/health`` within
    ``timeout`` seconds for http(s), a query for other stores."""
    advice = ('Start the server (e.g. `mlflow server --host 127.0.0.1 '
              '--port 5000`), point --tracking-uri / MLFLOW_TRACKING_URI at '
              'a running one, or pass --no-mlflow to run without tracking.')
    if uri.startswith(('http://', 'https://')):
        try:
            with urllib.request.urlopen(uri.rstrip('/') + '/health',
                                        timeout=timeout):
                return
        except urllib.error.HTTPError as error:
            reason = (f'GET /health answered HTTP {error.code}; is it an '
                      'MLflow tracking server?')
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = str(getattr(error, 'reason', error))
        raise MLflowUnavailableError(
            f'MLflow tracking server {uri} is not reachable ({reason}). '
            f'{advice}')
    from mlflow import MlflowClient
    try:
        MlflowClient(uri).search_experiments(max_results=1)
    except Exception as error:  # any store error: bad path, driver, auth
        raise MLflowUnavailableError(
            f'MLflow tracking store {uri} cannot be used '
            f'({type(error).__name__}: {error}). {advice}') from error


def ui_url(tracking_uri: str, experiment_id: str,
           run_id: Optional[str] = None,
           artifact: Optional[str] = None) -> str:
    """The MLflow UI page of an experiment's runs table (or of one run, or
    one of its artifacts), in the classic "Model training" layout: the UI (>= 3.17) chooses between
    it and the GenAI one by the ``workflowType`` query parameter, else the
    browser's last choice, GenAI by default. A store that is not a server
    (sqlite) is shown by ``mlflow ui --backend-store-uri <uri>`` at
    ``http://127.0.0.1:5000``."""
    base = (tracking_uri.rstrip('/') if tracking_uri.startswith(
        ('http://', 'https://')) else 'http://127.0.0.1:5000')
    page = f'runs/{run_id}' if run_id else 'runs'
    if run_id and artifact:
        page += f'/artifacts/{artifact}'
    return (f'{base}/#/experiments/{experiment_id}/{page}'
            '?workflowType=machine_learning')


def ui_hint(tracking_uri: str, experiment_id: str,
            run_id: Optional[str] = None) -> str:
    """One line telling where to see the sweep in the MLflow UI."""
    url = ui_url(tracking_uri, experiment_id, run_id)
    if tracking_uri.startswith(('http://', 'https://')):
        return f'MLflow UI: {url}'
    return (f'MLflow UI: `mlflow ui --backend-store-uri {tracking_uri}`, '
            f'then {url}')


def _key(name: str) -> str:
    """An MLflow-valid param/metric/tag key (characters, length)."""
    return re.sub(r'[^\w\-. :/]', '_', name)[:MAX_KEY]


def flatten_params(cfg: Any, prefix: str = '') -> Dict[str, str]:
    """Nested dicts (and lists holding dicts) -> ``{'a.b.0.c': str(value)}``
    with valid keys and values cut to MLflow's 6000 characters."""
    items = (cfg.items() if isinstance(cfg, dict) else enumerate(cfg))
    out: Dict[str, str] = {}
    for key, value in items:
        name = f'{prefix}{key}'
        if (isinstance(value, dict) and value) or (
                isinstance(value, (list, tuple))
                and any(isinstance(v, dict) for v in value)):
            out.update(flatten_params(value, name + '.'))
        else:
            out[_key(name)] = str(value)[:MAX_PARAM_VALUE]
    return out


def _chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _backbone(model: Optional[dict]) -> str:
    """A recognizer config's backbone type (its own type without one)."""
    if not model:
        return 'none'
    return str((model.get('backbone') or {}).get('type') or model.get('type'))


def _git_commit() -> Optional[str]:
    """HEAD of the repository leaps_mm runs from, if it is a git checkout."""
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    try:
        out = subprocess.run(['git', '-C', root, 'rev-parse', 'HEAD'],
                             capture_output=True, text=True, timeout=5,
                             check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def write_stimulus_gif(src: str, dst: str, fps: float = 8,
                       max_frames: int = 64, max_side: int = 256) -> None:
    """Write the stimulus video ``src`` as a gif at ``dst``: at most
    ``max_frames`` evenly spaced frames, the longer side at most
    ``max_side`` pixels (a gif of a full-size clip would be huge), a small
    clip enlarged by nearest neighbour by the largest whole factor that
    keeps it so."""
    frames = read_video(src)
    frames = frames[np.unique(np.linspace(0, len(frames) - 1,
                                          min(len(frames), max_frames))
                              .round().astype(int))]
    scale = max_side / max(frames.shape[1:3])
    if scale < 1:
        size = (max(round(frames.shape[2] * scale), 1),
                max(round(frames.shape[1] * scale), 1))
        frames = np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA)
                           for f in frames])
    else:  # e.g. 64 px -> 256 px, as large as synth.gif beside it
        k = int(max_side // max(frames.shape[1:3]))
        if k > 1:
            frames = frames.repeat(k, axis=1).repeat(k, axis=2)
    write_gif(dst, frames, fps=fps)


def log_gallery(client: 'MlflowClient', run_id: str,
                paths: Iterable[str]) -> List[str]:
    """Log the existing files of ``paths`` (a sweep gallery) to ``run_id``
    under ``gallery/``; return the artifact paths logged."""
    logged = []
    for path in paths:
        if osp.isfile(path):
            client.log_artifact(run_id, path, GALLERY_ARTIFACT_PATH)
            logged.append(f'{GALLERY_ARTIFACT_PATH}/{osp.basename(path)}')
    return logged


@HOOKS.register_module()
class MLflowTrackingHook(Hook):
    """Logs a sweep to MLflow (``build_runner_config`` adds it to
    ``custom_hooks`` when ``leaps.tracking.enabled``).

    - ``before_run`` (rank 0): checks the store, gets or creates the
      experiment (artifacts of a local sqlite store in ``mlartifacts`` beside
      it; tag ``mlflow.experimentKind`` so the UI opens the runs table),
      starts the parent run with tags (model, verifier, checkpoints,
      seed, version, git commit), the config flattened as params and the
      dumped config as artifact ``config/``. Other ranks get its id by
      broadcast and log their jobs under it.
    - ``after_test_iter``: per job record, writes ``stimulus.gif`` into the
      job folder, then a child run (tag ``mlflow.parentRunId``) with params
      (target name/index, stimulus, seed), the job's loss history (every
      term, ``loss``, ``lr``, at every step) and final scores as
      metrics in one batch, and the job's files as artifacts.
    - ``after_test_epoch``: the set metrics (top-1 ...) and the sweep
      gallery (``gallery/gallery.png`` ...) on the parent run.
    - ``after_run``: ends the parent run (FINISHED).

    Args:
        tracking_uri: MLflow URI; None: ``$MLFLOW_TRACKING_URI``, else
            ``sqlite:///<abs work_dir>/mlflow.db``.
        experiment: experiment name (created if missing).
        timeout: seconds the store check in ``before_run`` may take.
    """
    priority = 'VERY_LOW'  # after the loop's own per-job work

    def __init__(self, tracking_uri: Optional[str] = None,
                 experiment: str = 'leaps', timeout: float = 5.0) -> None:
        self.tracking_uri = tracking_uri
        self.experiment = experiment
        self.timeout = timeout
        self.uri: Optional[str] = None
        self.client: Optional['MlflowClient'] = None
        self.parent_run_id: Optional[str] = None
        self.experiment_id: Optional[str] = None
        self.resumed_parent = False  # reopened an earlier sweep's parent

    # --- run lifecycle ---------------------------------------------------
    def before_run(self, runner) -> None:
        self.uri = resolve_tracking_uri(self.tracking_uri, runner.work_dir)
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
        run (or, with ``--resume``, reopen the work dir's earlier one); return
        (experiment id, parent run id, whether it was reopened)."""
        from mlflow import MlflowClient
        from mlflow.entities import Param

        import leaps_mm
        check_tracking_store(self.uri, self.timeout)
        client = MlflowClient(self.uri)
        experiment = client.get_experiment_by_name(self.experiment)
        if experiment is None:
            experiment_id = client.create_experiment(
                self.experiment,
                artifact_location=local_artifact_location(self.uri),
                tags={EXPERIMENT_KIND_TAG: EXPERIMENT_KIND})
        else:
            experiment_id = experiment.experiment_id
            if experiment.lifecycle_stage == 'deleted':
                client.restore_experiment(experiment_id)
            if EXPERIMENT_KIND_TAG not in experiment.tags:  # a user's wins
                client.set_experiment_tag(experiment_id, EXPERIMENT_KIND_TAG,
                                          EXPERIMENT_KIND)
        self.client = client
        previous = self._previous_parent(runner, experiment_id)
        if previous is not None:
            return experiment_id, previous, True
        cfg = runner.cfg
        identity = cfg.get('leaps_identity', {})
        model = cfg.get('model', {})
        tags = {
            'model': _backbone(model.get('target')),
            'verifier': _backbone(model.get('verifier')),
            'target_checkpoint': identity.get('target_checkpoint')
            or NO_CHECKPOINT,
            'verifier_checkpoint': identity.get('verifier_checkpoint')
            or NO_CHECKPOINT,
            'config': identity.get('config') or '',
            'seed': cfg.get('leaps', {}).get('seed'),
            'leaps_mm_version': leaps_mm.__version__,
            'work_dir': runner.work_dir,
        }
        commit = _git_commit()
        if commit:
            tags.update({'git_commit': commit,
                         'mlflow.source.git.commit': commit})
        stem = osp.splitext(osp.basename(cfg.filename or 'leaps'))[0]
        run = client.create_run(
            experiment_id, run_name=f'{stem}_{runner.timestamp}',
            tags={k: str(v)[:MAX_TAG_VALUE] for k, v in tags.items()})
        run_id = run.info.run_id
        write_json(osp.join(runner.work_dir, PARENT_RUN_FILE),
                   dict(tracking_uri=self.uri, experiment_id=experiment_id,
                        run_id=run_id))
        params = [Param(k, v) for k, v in
                  flatten_params(cfg.to_dict()).items()]
        for chunk in _chunks(params, PARAMS_PER_BATCH):
            client.log_batch(run_id, params=chunk)
        with tempfile.TemporaryDirectory() as tmp:
            path = osp.join(tmp, f'{stem}.py')
            cfg.dump(path)
            client.log_artifact(run_id, path, 'config')
        return experiment_id, run_id, False

    def _previous_parent(self, runner, experiment_id: str) -> Optional[str]:
        """The parent run that ``PARENT_RUN_FILE`` records for this work dir
        and store, handled as follows. Children left RUNNING by a killed
        sweep are marked KILLED. With ``--resume`` the parent is reopened and
        its id returned, so the child runs of the resumed jobs join the
        earlier ones under one parent (tag ``resumes`` counts the resumes).
        Without, a parent still RUNNING (its sweep was killed: the work-dir
        lock rules out a live one) is marked KILLED and None is returned."""
        from mlflow.exceptions import MlflowException
        try:
            with open(osp.join(runner.work_dir, PARENT_RUN_FILE)) as file:
                saved = json.load(file)
            if saved.get('tracking_uri') != self.uri:
                return None
            run = self.client.get_run(saved['run_id'])
        except (OSError, ValueError, KeyError, MlflowException):
            return None  # no earlier sweep here, or its run is gone
        if (run.info.lifecycle_stage == 'deleted'
                or run.info.experiment_id != experiment_id):
            return None
        run_id = run.info.run_id
        for child in self._children(experiment_id, run_id):
            if child.info.status == 'RUNNING':
                self.client.set_terminated(child.info.run_id, 'KILLED')
        if not getattr(getattr(runner, 'test_loop', None), 'resume', False):
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

    def _children(self, experiment_id: str, parent_id: str,
                  job_id: Optional[str] = None) -> list:
        """The live child runs of ``parent_id`` (of one job if given)."""
        query = f"tags.`mlflow.parentRunId` = '{parent_id}'"
        if job_id is not None:
            query += f" and tags.job_id = '{job_id}'"
        runs, token = [], None
        while True:
            page = self.client.search_runs([experiment_id], query,
                                           max_results=1000, page_token=token)
            runs += list(page)
            token = page.token
            if not token:
                return runs

    def before_test_epoch(self, runner) -> None:
        """With ``--resume`` (rank 0): back-fill the tracking of finished
        jobs that have no child run in this store (no ``tracked.json`` naming
        it: the store failed, or tracking was off, when they ran)."""
        if (self.client is None or not is_main_process()
                or not getattr(runner.test_loop, 'resume', False)):
            return
        fps = getattr(runner.test_loop, 'fps', 8)
        logged = []
        for folder in finished_jobs(runner.work_dir):
            name = osp.basename(folder)
            if not re.fullmatch(r'\d{5,}_\w+', name) or self._tracked(folder):
                continue
            record = read_job_record(folder)
            gif = osp.join(folder, 'stimulus.gif')
            if record.get('stimulus') and not osp.isfile(gif):
                try:
                    write_stimulus_gif(record['stimulus'], gif, fps)
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
        fps = getattr(runner.test_loop, 'fps', 8)
        for record in outputs or []:
            folder = osp.join(runner.work_dir, record['job_id'])
            if record.get('stimulus'):
                try:
                    write_stimulus_gif(record['stimulus'],
                                       osp.join(folder, 'stimulus.gif'), fps)
                except Exception as error:  # a stimulus gif is optional
                    print_log(f'MLflow: no stimulus.gif for '
                              f'{record["job_id"]}: {error}',
                              logger='current', level=logging.WARNING)
            self._safely(f'logging job {record["job_id"]}',
                         lambda client: self._log_job(client, record, folder))

    def after_test_epoch(self, runner, metrics: Optional[dict] = None) -> None:
        """Rank 0: the set metrics and the sweep gallery (the loop's
        ``gallery_files``, written just before) on the parent run."""
        from mlflow.entities import Metric
        if not is_main_process():
            return
        now = int(time.time() * 1000)
        entries = [Metric(_key(k), float(v), now, 0)
                   for k, v in (metrics or {}).items()
                   if isinstance(v, (int, float))]
        if entries:
            self._safely('logging set metrics',
                         lambda client: client.log_batch(
                             self.parent_run_id, metrics=entries))
        gallery = getattr(getattr(runner, 'test_loop', None),
                          'gallery_files', None) or {}
        self._safely('logging the sweep gallery',
                     lambda client: log_gallery(client, self.parent_run_id,
                                                gallery.values()))

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
            for stale in self._children(self.experiment_id,
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
        metrics = [Metric(_key(k), float(v), now, int(point['step']))
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
