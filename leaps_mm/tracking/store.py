"""Where tracking goes and what is already there: the tracking-URI rule,
the store check, experiments and the parent run of a work dir.

Every tool and the MLflow hook go through these functions, so a sweep,
its evaluation, a search, a table and a benchmark agree on the store
(``--tracking-uri``, else ``$MLFLOW_TRACKING_URI``, else the work dir's
sqlite store) and find each other's runs the same way.
"""
from __future__ import annotations

import os
import os.path as osp
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Dict, List, Optional

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities import Run

# the experiment's kind (MLflow's own values): 'custom_model_development'
# is classic training (a runs table), 'genai_development' GenAI. The UI
# opens the page the tag names where its global GenAI / Model-training
# switch is off; 3.17's UI has it on and opens what the switch says (the
# ``workflowType`` query parameter, else the browser's last choice, GenAI
# by default), hence the links of :func:`~leaps_mm.tracking.ui.ui_url`
EXPERIMENT_KIND_TAG = 'mlflow.experimentKind'
EXPERIMENT_KIND = 'custom_model_development'
# the tag of a parent run that names the work dir it tracks
WORK_DIR_TAG = 'work_dir'
PARENT_TAG = 'mlflow.parentRunId'


class MLflowUnavailableError(RuntimeError):
    """The tracking store cannot be reached or used; raised before the
    optimisation starts."""


def default_tracking_uri(work_dir: str) -> str:
    """The work dir's own store: ``sqlite:///<abs work_dir>/mlflow.db``."""
    return f'sqlite:///{osp.abspath(work_dir)}/mlflow.db'


def resolve_tracking_uri(tracking_uri: Optional[str],
                         work_dir: Optional[str]) -> Optional[str]:
    """The one rule: ``tracking_uri`` if given, else
    ``$MLFLOW_TRACKING_URI``, else the work dir's embedded sqlite store
    (None without a ``work_dir``: a caller that has no store of its own)."""
    uri = tracking_uri or os.environ.get('MLFLOW_TRACKING_URI')
    if uri:
        return uri
    return default_tracking_uri(work_dir) if work_dir is not None else None


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


def get_or_create_experiment(client: 'MlflowClient', name: str,
                             artifact_location: Optional[str] = None,
                             tags: Optional[Dict[str, str]] = None) -> str:
    """The id of experiment ``name``, created if missing and restored if
    deleted. A new one stores its artifacts at ``artifact_location`` (None:
    :func:`local_artifact_location` of the client's store) and gets
    ``tags``; every experiment gets the ``mlflow.experimentKind`` of a runs
    table unless it has one (a user's choice wins), and the missing keys
    of ``tags``."""
    tags = {EXPERIMENT_KIND_TAG: EXPERIMENT_KIND, **(tags or {})}
    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        if artifact_location is None:
            artifact_location = local_artifact_location(client.tracking_uri)
        return client.create_experiment(
            name, artifact_location=artifact_location, tags=tags)
    experiment_id = experiment.experiment_id
    if experiment.lifecycle_stage == 'deleted':
        client.restore_experiment(experiment_id)
    for key, value in tags.items():
        if key not in experiment.tags:
            client.set_experiment_tag(experiment_id, key, value)
    return experiment_id


def _quoted(value: str) -> str:
    return value.replace("'", "\\'")


def find_parent_run(client: 'MlflowClient', work_dir: str,
                    experiment_id: Optional[str] = None) -> Optional['Run']:
    """The newest live parent run (no ``mlflow.parentRunId``) tagged
    ``work_dir`` with this work dir (its absolute or its real path), in
    ``experiment_id`` or, without one, in every live experiment; None if
    there is none."""
    if experiment_id is not None:
        experiment_ids = [experiment_id]
    else:
        experiment_ids = [e.experiment_id for e in client.search_experiments()]
    if not experiment_ids:
        return None
    runs: List['Run'] = []
    for path in sorted({osp.abspath(work_dir), osp.realpath(work_dir)}):
        runs += client.search_runs(
            experiment_ids,
            filter_string=f"tags.{WORK_DIR_TAG} = '{_quoted(path)}'",
            order_by=['attributes.start_time DESC'], max_results=100)
    runs = [r for r in runs if PARENT_TAG not in r.data.tags]
    return max(runs, key=lambda r: r.info.start_time) if runs else None


def child_runs(client: 'MlflowClient', experiment_id: str, parent_id: str,
               job_id: Optional[str] = None) -> List['Run']:
    """The live child runs of ``parent_id`` (of one job if given), every
    page of them."""
    query = f"tags.`{PARENT_TAG}` = '{_quoted(parent_id)}'"
    if job_id is not None:
        query += f" and tags.job_id = '{_quoted(job_id)}'"
    runs: List['Run'] = []
    token = None
    while True:
        page = client.search_runs([experiment_id], query, max_results=1000,
                                  page_token=token)
        runs += list(page)
        token = page.token
        if not token:
            return runs
