"""The settings that decide a sweep's x*, recorded in its work dir so that
``--resume`` never mixes results made with other settings.

They are the resolved inversion config (after the command line's
overrides): the target ``model``, the verifier and judges (with their
checkpoints and class lists), the test
pipeline that decodes the stimuli, ``leaps.inverter``, ``leaps.loop``,
``leaps.seed``, the class names and ``leaps.custom_hooks``. Left out are
the keys that cannot change a job's result: the job list (``--resume`` may
add jobs), tracking, logging, evaluation, batch size and worker count (a
job's noise and optimiser are its own), ``work_dir``, the launcher and the
options that only change speed or memory.
"""
import hashlib
import json
import os.path as osp
from typing import Any, Dict, List, Optional

from mmengine.config import Config

from leaps_mm.fileio.atomic import write_json

SETTINGS_FILE = 'leaps_settings.json'
# leaps.loop keys that do not change x*
_LOOP_IGNORED = ('log_interval', 'fps', 'resume', 'gallery')
# leaps.inverter keys that change only speed or memory
_INVERTER_IGNORED = ('channels_last', 'checkpoint_target', 'compile')
# the command-line flag that sets a key
FLAGS = {'leaps.loop.iters': '--iters', 'leaps.seed': '--seed',
         'leaps.inverter.target_checkpoint': '--checkpoint',
         'leaps.inverter.verifier_checkpoint': '--verifier-checkpoint',
         'leaps.classes': '--classes'}


def _plain(value: Any) -> Any:
    """JSON-able: tuples as lists, dict keys as strings, anything else that
    is not a number, string, bool or None as its repr."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def flatten(value: Any, prefix: str = '') -> Dict[str, Any]:
    """``{'a.b.0.c': leaf}`` of nested dicts and lists (an empty one is a
    leaf)."""
    if isinstance(value, dict) and value:
        items = value.items()
    elif isinstance(value, list) and value:
        items = enumerate(value)
    else:
        return {prefix.rstrip('.'): value}
    out: Dict[str, Any] = {}
    for key, item in items:
        out.update(flatten(item, f'{prefix}{key}.'))
    return out


def _local_path(value: Any) -> Any:
    """An existing local file as an absolute path (the same file however
    it is named); anything else unchanged."""
    return osp.abspath(value) if isinstance(value, str) and osp.isfile(
        value) else value


def resolved_settings(cfg: Config) -> Dict[str, Any]:
    """The flattened settings of an inversion config that decide x*."""
    from leaps_mm.datasets.stimulus_dataset import read_class_names
    from leaps_mm.models.scorers import scorer_kwargs

    from .runner_config import resolve_target
    cfg = resolve_target(cfg)  # `target = dict(from_config=...)` as model
    leaps = cfg.leaps
    inverter = {k: _local_path(v) if k.endswith('_checkpoint') else v
                for k, v in leaps.inverter.items()
                if k not in _INVERTER_IGNORED}
    classes = leaps.get('classes')
    if isinstance(classes, str) and osp.isfile(classes):
        classes = read_class_names(classes)  # the names, not the path
    # verifier, judge, judges and their keys (checkpoint, classes, name)
    scorers = {k: _local_path(v) if k.endswith('_checkpoint') else v
               for k, v in scorer_kwargs(cfg, leaps.inverter).items()}
    tree = dict(
        model=cfg.model, **scorers,
        test_pipeline=(cfg.get('test_pipeline')
                       or cfg.test_dataloader.dataset.pipeline),
        leaps=dict(
            inverter=inverter,
            loop={k: v for k, v in leaps.get('loop', {}).items()
                  if k not in _LOOP_IGNORED},
            seed=leaps.get('seed', 0), classes=classes,
            custom_hooks=leaps.get('custom_hooks', [])))
    return flatten(_plain(tree))


def fingerprint(settings: Dict[str, Any]) -> str:
    """A short id of ``settings``; each job's ``result.json`` holds the id
    of the settings it was made with (``settings_id``)."""
    text = json.dumps(settings, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def read_settings(work_dir: str) -> Dict[str, Dict[str, Any]]:
    """``{settings_id: settings}`` of every run recorded in ``work_dir``
    and, under ``'latest'``, the id of the last run's (empty when none)."""
    path = osp.join(work_dir, SETTINGS_FILE)
    if not osp.isfile(path):
        return {}
    try:
        with open(path) as file:
            data = json.load(file)
        runs = dict(data['settings'])
        if 'latest' not in data:  # one run's settings, as first written
            return {fingerprint(runs): runs,
                    'latest': fingerprint(runs)}
        return dict(runs, latest=data['latest'])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f'{path} is unreadable ({error}); delete it to '
                         'record the current settings.') from error


def record_settings(work_dir: str, settings: Dict[str, Any]) -> str:
    """Add ``settings`` to ``<work_dir>/leaps_settings.json`` (atomically)
    as the latest run's; return their id."""
    runs = read_settings(work_dir)
    runs.pop('latest', None)
    settings_id = fingerprint(settings)
    runs[settings_id] = settings
    write_json(osp.join(work_dir, SETTINGS_FILE),
               dict(latest=settings_id, settings=runs))
    return settings_id


def differences(recorded: Dict[str, Any], current: Dict[str, Any]
                ) -> List[str]:
    """``'key: A in the work dir, B now'`` for every key that differs."""
    def shown(value: Any) -> str:
        text = json.dumps(value)
        return text if len(text) <= 40 else text[:37] + '...'

    lines = []
    for key in sorted(set(recorded) | set(current)):
        old, new = recorded.get(key, '(unset)'), current.get(key, '(unset)')
        if old != new:
            flag = f' ({FLAGS[key]})' if key in FLAGS else ''
            lines.append(f'{key}{flag}: {shown(old)} in the work dir, '
                         f'{shown(new)} now')
    return lines


def resume_refusal(work_dir: str, jobs: int, changed: List[str]) -> str:
    """The message that refuses a ``--resume`` over ``jobs`` jobs made
    with other settings (``changed``: :func:`differences`)."""
    listed = '; '.join(changed[:6]) + (
        f'; and {len(changed) - 6} more' if len(changed) > 6 else '')
    listed = listed or 'settings not recorded'
    return (f'--resume: {jobs} job(s) in {work_dir!r} were made with other '
            f'settings ({listed}). Resuming would mix results of both. '
            'Resume with the same settings, pass a new --work-dir to start '
            'over, or --force-resume to mix them anyway.')
