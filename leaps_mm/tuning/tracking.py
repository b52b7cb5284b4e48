"""MLflow records of a search: one parent run, one child run per trial
(``mlflow.parentRunId``) with the sampled values as params, the score as
metrics and a few synthesized gifs as artifacts.

The parent's id is kept in the Optuna study, so a resumed search or a
second process adds its trials to the same parent. Local results come
first: after the store check at the start, an MLflow failure warns once and
turns tracking off for the rest of the process.
"""
import os.path as osp
import time
from typing import Any, Callable, Dict, Optional, Sequence

from leaps_mm.tracking import (MAX_PARAM_VALUE, check_tracking_store,
                               get_or_create_experiment, log_params,
                               resolve_tracking_uri)


class SearchTracker:
    """MLflow client for one search process.

    Args:
        tracking_uri: MLflow URI; None: ``$MLFLOW_TRACKING_URI``, else
            ``sqlite:///<out_dir>/mlflow.db``.
        out_dir: the search's folder.
        experiment: experiment name (created if missing).
        warn: prints a warning.
    """

    def __init__(self, tracking_uri: Optional[str], out_dir: str,
                 experiment: str, warn: Callable[[str], None]) -> None:
        from mlflow import MlflowClient
        self.uri = resolve_tracking_uri(tracking_uri, out_dir)
        check_tracking_store(self.uri)
        self.client: Optional[MlflowClient] = MlflowClient(self.uri)
        self.warn = warn
        self.experiment_id = get_or_create_experiment(self.client,
                                                      experiment)
        self.parent_id: Optional[str] = None

    def _safely(self, what: str, fn: Callable[[Any], Any]) -> Any:
        if self.client is None:
            return None
        try:
            return fn(self.client)
        except Exception as error:  # a store failure never stops the search
            self.client = None
            name = type(error).__name__
            self.warn(f'MLflow: {what} failed at {self.uri} ({name}: '
                      f'{error}); tracking is off for the rest of this '
                      'process.')
            return None

    def open_parent(self, run_id: Optional[str], name: str,
                    params: Dict[str, Any], tags: Dict[str, str],
                    artifacts: Sequence[str]) -> str:
        """Reopen run ``run_id`` (a resumed search) or start a new parent
        run with ``params``, ``tags`` and ``artifacts``; return its id."""
        client = self.client
        if run_id is not None:
            try:
                client.update_run(run_id, status='RUNNING')
                self.parent_id = run_id
                return run_id
            except Exception:  # gone from this store: start a new one
                pass
        run = client.create_run(self.experiment_id, run_name=name, tags=tags)
        self.parent_id = run.info.run_id
        log_params(client, self.parent_id, params)
        for path in artifacts:
            client.log_artifact(self.parent_id, path)
        return self.parent_id

    def start_trial(self, number: int, values: Dict[str, Any],
                    keys: Dict[str, Sequence[str]], work_dir: str
                    ) -> Optional[str]:
        """A running child run for trial ``number``; its id."""
        from mlflow.entities import Param

        def start(client) -> str:
            run = client.create_run(
                self.experiment_id, run_name=f'trial_{number}',
                tags={'mlflow.parentRunId': self.parent_id,
                      'trial': str(number), 'work_dir': work_dir})
            params = [Param(k, str(v)[:MAX_PARAM_VALUE])
                      for k, v in values.items()]
            params += [Param(f'keys.{k}', ', '.join(v))
                       for k, v in keys.items()]
            client.log_batch(run.info.run_id, params=params)
            return run.info.run_id
        return self._safely(f'starting trial {number}', start)

    def end_trial(self, run_id: Optional[str], metrics: Dict[str, float],
                  files: Sequence[str]) -> None:
        """Log ``metrics`` and ``files`` (gifs, under ``videos/``) on the
        child run and mark it FINISHED."""
        from mlflow.entities import Metric
        if run_id is None:
            return

        def end(client) -> None:
            now = int(time.time() * 1000)
            client.log_batch(run_id, metrics=[
                Metric(k, float(v), now, 0) for k, v in metrics.items()])
            for path in files:
                folder = osp.basename(osp.dirname(path))
                client.log_artifact(run_id, path, f'videos/{folder}')
            client.set_terminated(run_id, 'FINISHED')
        self._safely('logging a trial', end)

    def stop_trial(self, run_id: Optional[str], status: str,
                   note: str) -> None:
        """Mark a child run FAILED or KILLED, with ``note`` as a tag."""
        if run_id is None:
            return

        def stop(client) -> None:
            client.set_tag(run_id, 'outcome', note[:5000])
            client.set_terminated(run_id, status)
        self._safely('closing a trial run', stop)

    def log_best(self, step: int, metrics: Dict[str, float]) -> None:
        """The best-so-far metrics on the parent, at step ``step``."""
        from mlflow.entities import Metric
        now = int(time.time() * 1000)
        self._safely('logging the best trial', lambda client: client.log_batch(
            self.parent_id, metrics=[Metric(k, float(v), now, step)
                                     for k, v in metrics.items()]))

    def log_parent_file(self, path: str) -> None:
        self._safely('logging ' + osp.basename(path),
                     lambda client: client.log_artifact(self.parent_id, path))

    def finish(self, status: str = 'FINISHED') -> None:
        self._safely('ending the search run', lambda client: client
                     .set_terminated(self.parent_id, status))
