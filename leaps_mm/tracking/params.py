"""Params and keys within MLflow's limits."""
import re
from typing import TYPE_CHECKING, Any, Dict, Iterator, Sequence

if TYPE_CHECKING:
    from mlflow import MlflowClient

MAX_PARAM_VALUE = 6000  # mlflow.utils.validation.MAX_PARAM_VAL_LENGTH
MAX_KEY = 250  # MAX_ENTITY_KEY_LENGTH
MAX_TAG_VALUE = 8000  # MAX_TAG_VAL_LENGTH
PARAMS_PER_BATCH = 100  # MAX_PARAMS_TAGS_PER_BATCH


def mlflow_key(name: str) -> str:
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
            out[mlflow_key(name)] = str(value)[:MAX_PARAM_VALUE]
    return out


def chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    """``items`` in slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def log_params(client: 'MlflowClient', run_id: str, params: Any) -> None:
    """Log ``params`` (nested dicts, flattened by :func:`flatten_params`)
    on ``run_id`` in batches of MLflow's at most 100."""
    from mlflow.entities import Param
    flat = [Param(k, v) for k, v in flatten_params(params).items()]
    for chunk in chunks(flat, PARAMS_PER_BATCH):
        client.log_batch(run_id, params=list(chunk))


def short_tags(tags: Dict[str, Any]) -> Dict[str, str]:
    """``tags`` as strings within MLflow's 8000 characters a value."""
    return {k: str(v)[:MAX_TAG_VALUE] for k, v in tags.items()}
