"""Checking config values before anything is built: every wrong key or
value is one :class:`ConfigValueError` that names the key, the value and
what it must be, instead of a traceback once the models are loaded."""
import difflib
import inspect
import numbers
import re
import types
import typing
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from mmengine.config import Config


class ConfigValueError(ValueError):
    """A config key or value that cannot work; the message names it."""


# settings of ``leaps`` that are not arguments of one class
LEAPS_KEYS = ('inverter', 'loop', 'stimuli', 'classes', 'evaluation',
              'batch_size', 'seed', 'log_level', 'tracking', 'custom_hooks',
              'num_workers')

# (key, kind, minimum, what it is): an 'int' at least the minimum, a
# 'number' above it
_RANGES = (
    ('leaps.loop.iters', 'int', 1, 'steps per job'),
    ('leaps.loop.log_interval', 'int', 1, 'steps between loss read-outs'),
    ('leaps.loop.fps', 'number', 0, 'frame rate of the written videos'),
    ('leaps.loop.seed', 'int', 0, 'seed of the initial noise'),
    ('leaps.loop.optim_wrapper.optimizer.lr', 'number', 0,
     'learning rate of x*'),
    ('leaps.batch_size', 'int', 1, 'jobs optimised together'),
    ('leaps.seed', 'int', 0, 'seed of the initial noise'),
    ('leaps.num_workers', 'int', 0, 'dataloader worker processes'),
    ('leaps.evaluation.is_splits', 'int', 1, 'Inception Score splits'),
)
_SIZES = ('input_size', 'target_input_size', 'verifier_input_size',
          'judge_input_size')
_CHOICES = {'leaps.inverter.autocast': (None, 'bf16', 'fp16')}
# arguments the Runner or the builder fills in, never config keys
_FILLED_IN = {'self', 'runner', 'dataloader', 'evaluator', 'params'}
# a config dict of these keys without `type` builds this class
_UNTYPED = {'train_cfg': 'EpochBasedTrainLoop', 'val_cfg': 'ValLoop',
            'test_cfg': 'TestLoop', 'optim_wrapper': 'OptimWrapper',
            'leaps.loop.optim_wrapper': 'OptimWrapper'}


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _get(cfg: Any, key: str) -> Tuple[bool, Any]:
    """``(found, value)`` of a dotted key (list items by index)."""
    node = cfg._cfg_dict if isinstance(cfg, Config) else cfg
    for part in key.split('.'):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif (isinstance(node, (list, tuple)) and part.isdigit()
              and int(part) < len(node)):
            node = node[int(part)]
        else:
            return False, None
    return True, node


def _classes_by_name() -> Dict[str, set]:
    """Every registered class of every registry, by registered name."""
    from mmengine.registry import Registry

    from leaps_mm import registry as leaps_registries
    roots, names = [], {}
    for value in vars(leaps_registries).values():
        if isinstance(value, Registry):
            root = value
            while root.parent is not None:
                root = root.parent
            roots.append(root)
    stack, seen = roots, set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        for name, cls in current.module_dict.items():
            names.setdefault(name, set()).add(cls)
        stack.extend(current.children.values())
    return names


def resolve_type(spec: Any, names: Optional[Dict[str, set]] = None
                 ) -> Optional[type]:
    """The class a ``type`` value names (a class, or a registered name that
    only one class has), else None."""
    if isinstance(spec, type):
        return spec
    if not isinstance(spec, str):
        return None
    names = _classes_by_name() if names is None else names
    found = names.get(spec.split('.')[-1], set())
    return next(iter(found)) if len(found) == 1 else None


def arguments(cls: type) -> Optional[Dict[str, inspect.Parameter]]:
    """The keyword arguments ``cls(...)`` takes, following ``**kwargs`` up
    the base classes; None when some class takes any keyword."""
    params: Dict[str, inspect.Parameter] = {}
    for klass in cls.__mro__:
        init = klass.__dict__.get('__init__')
        if init is None:
            continue
        if klass is object:
            return None
        try:
            signature = inspect.signature(init)
        except (TypeError, ValueError):
            return None
        open_ended = False
        for name, param in signature.parameters.items():
            if param.kind == param.VAR_KEYWORD:
                open_ended = True
            elif param.kind != param.VAR_POSITIONAL and name not in _FILLED_IN:
                params.setdefault(name, param)
        if not open_ended:
            return params
    return None


_SIMPLE = dict(int=int, float=float, bool=bool, str=str,
               Optional=typing.Optional, Union=typing.Union)


def _basic_types(param: inspect.Parameter) -> set:
    """The plain types (int, float, bool, NoneType) an argument's annotation
    allows; empty when it allows anything else."""
    annotation = param.annotation
    if isinstance(annotation, str):  # postponed: only the simple ones
        try:
            annotation = eval(annotation, {'__builtins__': {}}, _SIMPLE)
        except Exception:  # names of other modules: judge by the default
            annotation = inspect.Parameter.empty
    if annotation is inspect.Parameter.empty or annotation is None:
        default = param.default
        if _is_number(default):
            return {float} if isinstance(default, float) else {int, float}
        return set()
    if isinstance(annotation, type):
        members = (annotation,)
    elif typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = typing.get_args(annotation)
    else:
        return set()
    import torch
    members = {m for m in members if m is not torch.Tensor}
    return members if members <= {int, float, bool, type(None)} else set()


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + '...'


def _value_error(key: str, value: Any, rule: str, origin) -> str:
    return f'{origin(key)}{key}={_short(value)}: {rule}'


def check_arguments(section: dict, cls: type, key: str, origin) -> None:
    """Refuse keys of ``section`` that ``cls`` does not take (with the
    closest ones) and values of the wrong kind for its numeric and boolean
    arguments."""
    params = arguments(cls)
    for name, value in section.items():
        if name in ('type', '_scope_'):
            continue
        path = f'{key}.{name}'
        if params is not None and name not in params:
            close = difflib.get_close_matches(name, list(params), n=3,
                                              cutoff=0.6)
            hint = (f'did you mean `{close[0]}`?' if close else
                    f'it takes {", ".join(sorted(params))}.')
            raise ConfigValueError(
                f'{origin(path)}{path}={_short(value)}: {cls.__name__} has '
                f'no setting `{name}`; {hint}')
        if params is None or name not in params:
            continue
        allowed = _basic_types(params[name])
        if not allowed or type(value) in allowed or (
                _is_int(value) and float in allowed):
            continue
        if allowed <= {bool, type(None)}:
            if not isinstance(value, bool):
                raise ConfigValueError(_value_error(
                    path, value, 'must be True or False.', origin))
        elif int in allowed and float not in allowed:
            if not _is_int(value):
                raise ConfigValueError(_value_error(
                    path, value, 'must be a whole number.', origin))
        elif float in allowed and not _is_number(value):
            raise ConfigValueError(_value_error(
                path, value, 'must be a number.', origin))


def _typed_sections(node: Any, key: str) -> Iterable[Tuple[str, dict]]:
    """``(key, dict)`` of every dict with a ``type`` under ``node``."""
    if isinstance(node, dict):
        if 'type' in node:
            yield key, node
        for name, value in node.items():
            yield from _typed_sections(value, f'{key}.{name}')
    elif isinstance(node, (list, tuple)):
        for index, value in enumerate(node):
            yield from _typed_sections(value, f'{key}.{index}')


def check_ranges(cfg: Any, origin) -> None:
    """Whole numbers, numbers, sizes and choices of the ``leaps`` keys."""
    for key, kind, minimum, what in _RANGES:
        found, value = _get(cfg, key)
        if not found or (value is None and key == 'leaps.loop.seed'):
            continue
        if kind == 'int':
            ok = _is_int(value) and value >= minimum
            rule = f'must be a whole number >= {minimum} ({what}).'
        else:
            ok = _is_number(value) and value > minimum
            rule = f'must be a number > {minimum} ({what}).'
        if not ok:
            raise ConfigValueError(_value_error(key, value, rule, origin))
    for name in _SIZES:
        key = f'leaps.inverter.{name}'
        found, value = _get(cfg, key)
        if found and value is not None and not (
                isinstance(value, (list, tuple)) and len(value) == 3
                and all(_is_int(v) and v > 0 for v in value)):
            raise ConfigValueError(_value_error(
                key, value, 'must be (frames, height, width), three whole '
                'numbers > 0, e.g. (8, 224, 224)'
                + ('.' if name == 'input_size' else ', or None.'), origin))
    for key, choices in _CHOICES.items():
        found, value = _get(cfg, key)
        if found and value not in choices:
            raise ConfigValueError(_value_error(
                key, value, 'must be one of '
                f'{", ".join(repr(c) for c in choices)}.', origin))


# sections that are one dict (None: the default), and lists of typed dicts
_DICTS = ('leaps.inverter', 'leaps.loop', 'leaps.stimuli')
_OPTIONAL_DICTS = ('leaps.evaluation', 'leaps.tracking', 'leaps.inverter.taps',
                   'leaps.inverter.parameterization',
                   'leaps.loop.optim_wrapper',
                   'leaps.loop.optim_wrapper.optimizer',
                   'leaps.loop.param_scheduler')
_DICT_LISTS = ('leaps.inverter.losses', 'leaps.inverter.transforms',
               'leaps.custom_hooks')


def check_shapes(cfg: Any, origin) -> None:
    """Sections that must be a dict, lists of ``dict(type=...)``, the
    taps' module names and patterns."""
    for key in _DICTS + _OPTIONAL_DICTS:
        found, value = _get(cfg, key)
        if found and not isinstance(value, dict) and not (
                value is None and key in _OPTIONAL_DICTS):
            raise ConfigValueError(_value_error(
                key, value, 'must be a dict(...) of settings'
                + (' or None.' if key in _OPTIONAL_DICTS else '.'), origin))
    for key in _DICT_LISTS:
        found, value = _get(cfg, key)
        if found and not (isinstance(value, (list, tuple)) and all(
                isinstance(v, dict) and 'type' in v for v in value)):
            raise ConfigValueError(_value_error(
                key, value, "must be a list of dict(type='...', ...), e.g. "
                "[dict(type='ClassificationLoss')]; [] for none.", origin))
    found, names = _get(cfg, 'leaps.inverter.taps.module_types')
    if found and (isinstance(names, str) or not isinstance(
            names, (list, tuple)) or not all(isinstance(n, str)
                                             for n in names)):
        raise ConfigValueError(_value_error(
            'leaps.inverter.taps.module_types', names, 'must be a list of '
            "module class names, e.g. ('BatchNorm3d', 'LayerNorm').",
            origin))
    for name in ('include', 'exclude'):
        key = f'leaps.inverter.taps.{name}'
        found, pattern = _get(cfg, key)
        if not found or pattern is None:
            continue
        try:
            re.compile(pattern)
        except (re.error, TypeError) as error:
            raise ConfigValueError(_value_error(
                key, pattern, f'is not a regular expression ({error}); e.g. '
                r"'^backbone\.'.", origin)) from error


def _check_leaps_keys(leaps: dict, origin, warn) -> None:
    for name in leaps:
        if name in LEAPS_KEYS:
            continue
        close = difflib.get_close_matches(name, LEAPS_KEYS, n=1, cutoff=0.6)
        if close:
            raise ConfigValueError(
                f'{origin("leaps." + name)}leaps.{name}='
                f'{_short(leaps[name])}: not a LEAPS setting; did you mean '
                f'`{close[0]}`?')
        warn(f'leaps.{name} is not a setting tools/invert.py reads (those '
             f'are {", ".join(LEAPS_KEYS)}); it is ignored.')


def _leaps_sections(cfg: Any) -> List[Tuple[str, Any, Any]]:
    """``(key, section, class)`` of the ``leaps`` sections built as one
    class."""
    from leaps_mm.datasets.stimulus_dataset import StimulusDataset
    from leaps_mm.evaluation import InversionMetric
    from leaps_mm.loops import InversionLoop
    from leaps_mm.models.inverter import LEAPSInverter
    from leaps_mm.models.taps import FeatureTaps

    class Tracking:  # the hook's keys a user sets (build_runner_config
        # passes MLflowTrackingHook the run's identity, seed, fps, resume)
        def __init__(self, enabled: bool = True,
                     tracking_uri: Optional[str] = None,
                     experiment: str = 'leaps',
                     timeout: float = 5.0) -> None:
            pass

    Tracking.__name__ = 'leaps.tracking'
    leaps = cfg['leaps']
    names = _classes_by_name()
    loop = leaps.get('loop') or {}
    sections = [('leaps.inverter', leaps.get('inverter'), LEAPSInverter),
                ('leaps.loop', loop, resolve_type(loop.get('type'), names)
                 if 'type' in loop else InversionLoop),
                ('leaps.stimuli', leaps.get('stimuli'), StimulusDataset),
                ('leaps.evaluation', leaps.get('evaluation'),
                 InversionMetric),
                ('leaps.tracking', leaps.get('tracking'), Tracking),
                ('leaps.inverter.taps', (leaps.get('inverter') or {}).get(
                    'taps'), FeatureTaps)]
    wrapper = loop.get('optim_wrapper') if isinstance(loop, dict) else None
    if isinstance(wrapper, dict) and 'type' not in wrapper:
        sections.append(('leaps.loop.optim_wrapper', wrapper,
                         resolve_type('OptimWrapper', names)))
    for key, section in _typed_sections(leaps, 'leaps'):
        if key not in ('leaps.inverter', 'leaps.loop', 'leaps.stimuli',
                       'leaps.evaluation', 'leaps.tracking',
                       'leaps.inverter.taps'):
            sections.append((key, section,
                             resolve_type(section['type'], names)))
    return [(k, s, c) for k, s, c in sections
            if isinstance(s, dict) and c is not None]


def validate_inversion_config(cfg: Config, origin=None, warn=None) -> None:
    """Check the ``leaps`` section of an inversion config: its keys, the
    arguments of the classes it configures and the values with a range.
    ``origin(key)`` prefixes messages (e.g. ``'--cfg-options '``); ``warn``
    takes notes about ignored keys."""
    origin = origin or (lambda key: '')
    warn = warn or (lambda message: None)
    leaps = cfg.get('leaps')
    if not isinstance(leaps, dict):
        return
    _check_leaps_keys(leaps, origin, warn)
    check_shapes(cfg, origin)
    check_ranges(cfg, origin)
    for key, section, cls in _leaps_sections(cfg):
        check_arguments(section, cls, key, origin)


def validate_options(cfg: Config, keys: Sequence[str], origin=None) -> None:
    """Check every ``--cfg-options`` key against the class of the config
    dict that holds it (its ``type``, or the loop / optim wrapper the
    Runner builds for an untyped ``train_cfg``, ``optim_wrapper`` ...):
    unknown arguments (with the closest) and values of the wrong kind."""
    origin = origin or (lambda key: '--cfg-options ')
    names = _classes_by_name()
    for key in keys:
        parts = key.split('.')
        for depth in range(len(parts) - 1, 0, -1):
            parent = '.'.join(parts[:depth])
            found, section = _get(cfg, parent)
            if not found or not isinstance(section, dict):
                continue
            spec = section.get('type', _UNTYPED.get(parent))
            if parent.endswith('_dataloader') and 'type' not in section:
                from torch.utils.data import DataLoader
                spec = DataLoader  # mmengine passes the other keys to it
            if parent == 'train_cfg' and 'type' not in section:
                spec = ('IterBasedTrainLoop' if 'max_iters' in section
                        else 'EpochBasedTrainLoop')
            cls = resolve_type(spec, names)
            if cls is not None:
                name = parts[depth]
                check_arguments({name: section[name]}, cls, parent, origin)
            break  # the nearest dict decides
