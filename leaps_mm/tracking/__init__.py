"""MLflow tracking shared by the sweep hook and the tools: the store and
its URI rule, experiments and parent runs (:mod:`.store`), params within
MLflow's limits (:mod:`.params`), the files tracking writes and logs
(:mod:`.artifacts`) and links into the UI (:mod:`.ui`). The hook that
tracks a sweep is :class:`leaps_mm.engine.hooks.MLflowTrackingHook`."""
from .artifacts import (GALLERY_ARTIFACT_PATH, JOB_ARTIFACTS, PARENT_RUN_FILE,
                        TRACKED_FILE, log_gallery, write_stimulus_gif)
from .params import (MAX_KEY, MAX_PARAM_VALUE, MAX_TAG_VALUE,
                     PARAMS_PER_BATCH, chunks, flatten_params, log_params,
                     mlflow_key, short_tags)
from .store import (EXPERIMENT_KIND, EXPERIMENT_KIND_TAG, PARENT_TAG,
                    WORK_DIR_TAG, MLflowUnavailableError,
                    check_tracking_store, child_runs, default_tracking_uri,
                    find_parent_run, get_or_create_experiment,
                    local_artifact_location, resolve_tracking_uri)
from .ui import ui_hint, ui_url

__all__ = [
    'GALLERY_ARTIFACT_PATH', 'JOB_ARTIFACTS', 'PARENT_RUN_FILE',
    'TRACKED_FILE', 'log_gallery', 'write_stimulus_gif', 'MAX_KEY',
    'MAX_PARAM_VALUE', 'MAX_TAG_VALUE', 'PARAMS_PER_BATCH', 'chunks',
    'flatten_params', 'log_params', 'mlflow_key', 'short_tags',
    'EXPERIMENT_KIND', 'EXPERIMENT_KIND_TAG', 'PARENT_TAG', 'WORK_DIR_TAG',
    'MLflowUnavailableError', 'check_tracking_store', 'child_runs',
    'default_tracking_uri', 'find_parent_run', 'get_or_create_experiment',
    'local_artifact_location', 'resolve_tracking_uri', 'ui_hint', 'ui_url'
]
