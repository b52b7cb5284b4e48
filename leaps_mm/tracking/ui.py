"""Links into the MLflow UI."""
from typing import Optional


def _is_server(tracking_uri: str) -> bool:
    return tracking_uri.startswith(('http://', 'https://'))


def ui_url(tracking_uri: str, experiment_id: str,
           run_id: Optional[str] = None,
           artifact: Optional[str] = None) -> str:
    """The MLflow UI page of an experiment's runs table (or of one run, or
    one of its artifacts), in the classic "Model training" layout: the UI
    (>= 3.17) chooses between it and the GenAI one by the ``workflowType``
    query parameter, else the browser's last choice, GenAI by default. A
    store that is not a server (sqlite) is shown by ``mlflow ui
    --backend-store-uri <uri>`` at ``http://127.0.0.1:5000``."""
    base = (tracking_uri.rstrip('/') if _is_server(tracking_uri)
            else 'http://127.0.0.1:5000')
    page = f'runs/{run_id}' if run_id else 'runs'
    if run_id and artifact:
        page += f'/artifacts/{artifact}'
    return (f'{base}/#/experiments/{experiment_id}/{page}'
            '?workflowType=machine_learning')


def ui_hint(tracking_uri: str, experiment_id: str,
            run_id: Optional[str] = None) -> str:
    """One line telling where to see the experiment (or run) in the MLflow
    UI."""
    url = ui_url(tracking_uri, experiment_id, run_id)
    if _is_server(tracking_uri):
        return f'MLflow UI: {url}'
    return (f'MLflow UI: `mlflow ui --backend-store-uri {tracking_uri}`, '
            f'then {url}')
