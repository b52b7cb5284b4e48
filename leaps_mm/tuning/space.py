"""Search spaces for ``tools/tune.py``: which config keys a search samples,
read from a space file and checked against the config before any trial.

A space file is a Python file (read by mmengine) with ``space``, a dict of
parameters, and optionally ``tuning``, the search settings::

    space = dict(
        lr=dict(type='float', low=0.02, high=0.5, log=True,
                keys='leaps.loop.optim_wrapper.optimizer.lr'),
        r=dict(type='float', low=0.003, high=1.0, log=True,
               keys=['leaps.inverter.losses.2.weight',
                     'leaps.inverter.losses.3.weight']),
        distance=dict(type='choice', choices=['jvs', 'l2'],
                      keys='leaps.inverter.losses.1.distance'))
    tuning = dict(iters=40, stimuli=8, objective_net='verifier', n_trials=6)

A parameter's name is also its config key unless ``keys`` gives one key or
several (the sampled value is written to all of them: a tied parameter).
Keys are dotted paths as in ``--cfg-options``; a number addresses a list
item (``losses.2.weight`` is the ``weight`` of the third loss).
"""
import math
import os.path as osp
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

TYPES = ('float', 'int', 'choice')
TUNING_KEYS = ('iters', 'stimuli', 'objective_net', 'n_trials',
               'sampler_seed', 'gifs', 'cfg_options')
_SPEC_KEYS = {'type', 'low', 'high', 'log', 'step', 'choices', 'keys'}
_CHOICE_TYPES = (type(None), bool, int, float, str)


class SpaceError(ValueError):
    """A space file that cannot be searched; the message names the file,
    the parameter and the key."""


@dataclass(frozen=True)
class Param:
    """One searched value, written to every key in ``keys``."""
    name: str
    type: str
    keys: Tuple[str, ...]
    low: Optional[float] = None
    high: Optional[float] = None
    log: bool = False
    step: Optional[float] = None
    choices: Tuple[Any, ...] = ()

    def suggest(self, trial) -> Any:
        """The value an Optuna trial samples for this parameter."""
        if self.type == 'float':
            return trial.suggest_float(self.name, self.low, self.high,
                                       log=self.log, step=self.step)
        if self.type == 'int':
            return trial.suggest_int(self.name, self.low, self.high,
                                     log=self.log, step=self.step or 1)
        return trial.suggest_categorical(self.name, list(self.choices))

    def contains(self, value: Any) -> bool:
        """Whether ``value`` (e.g. the config's own) lies in the space."""
        if self.type == 'choice':
            return value in self.choices
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.type == 'int' and not float(value).is_integer():
            return False
        return self.low <= value <= self.high

    def describe(self) -> str:
        if self.type == 'choice':
            return f'one of {list(self.choices)}'
        scale = ', log' if self.log else ''
        return f'{self.type} in [{self.low}, {self.high}{scale}]'


@dataclass
class Space:
    """The parameters of a space file and its ``tuning`` settings."""
    params: List[Param]
    settings: Dict[str, Any] = field(default_factory=dict)
    filename: str = ''

    def suggest(self, trial) -> Dict[str, Any]:
        """``{param name: value}`` sampled by ``trial``."""
        return {p.name: p.suggest(trial) for p in self.params}

    def assignments(self, values: Dict[str, Any]) -> Dict[str, Any]:
        """``{config key: value}`` for sampled ``{param name: value}``."""
        return {key: values[p.name] for p in self.params for key in p.keys}

    def canonical(self) -> List[dict]:
        """A JSON-able description (to recognise the space on resume)."""
        return [dict(name=p.name, type=p.type, keys=list(p.keys), low=p.low,
                     high=p.high, log=p.log, step=p.step,
                     choices=list(p.choices)) for p in self.params]


def lookup(cfg: Any, key: str) -> Any:
    """The value at dotted ``key`` in ``cfg``, walking dicts and lists (a
    number is a list index). Raises :class:`KeyError` whose message names
    the key and what exists where the path breaks."""
    node = cfg.to_dict() if hasattr(cfg, 'to_dict') else cfg  # a Config
    parts = key.split('.')
    for depth, part in enumerate(parts):
        where = '.'.join(parts[:depth]) or 'the config'
        if isinstance(node, (list, tuple)):
            if not part.isdigit() or int(part) >= len(node):
                raise KeyError(
                    f'{key!r}: {where} is a list of {len(node)} items; '
                    f'{part!r} is not an index 0..{len(node) - 1}.')
            node = node[int(part)]
        elif isinstance(node, dict):
            if part not in node:
                raise KeyError(
                    f'{key!r}: the config has no key {part!r} in {where} '
                    f'(it has {", ".join(sorted(map(str, node)))}).')
            node = node[part]
        else:
            raise KeyError(f'{key!r}: {where} is a value '
                           f'({node!r}), not a section or a list.')
    return node


def _paths_with_value(node: Any, value: Any, prefix: str = '') -> List[str]:
    """Dotted paths under ``node`` whose value equals ``value`` (same type)."""
    items = (node.items() if isinstance(node, dict) else
             enumerate(node) if isinstance(node, (list, tuple)) else ())
    found = []
    for key, child in items:
        path = f'{prefix}{key}'
        if isinstance(child, (dict, list, tuple)):
            found += _paths_with_value(child, value, path + '.')
        elif type(child) is type(value) and child == value:
            found.append(path)
    return found


def check_key(cfg: Any, key: str, where: str) -> Any:
    """The config's value at ``key``; a :class:`SpaceError` if the key is
    missing, a whole section, or a top-level variable (mmengine substitutes
    those where they are used when it reads the file, so overriding one
    afterwards changes nothing)."""
    try:
        value = lookup(cfg, key)
    except KeyError as error:
        raise SpaceError(f'{where}: {error.args[0]}') from None
    if isinstance(value, dict):
        raise SpaceError(f'{where}: {key!r} is a config section, not a '
                         'value; address a key inside it.')
    if '.' not in key:
        uses = [p for p in _paths_with_value(
            {k: v for k, v in cfg.items() if k != key}, value)
                if p.startswith(('leaps.', 'model.', 'verifier.', 'judge.'))]
        hint = (f' Keys holding the same value: {", ".join(uses)}; give the '
                'ones it stands for as keys=[...].' if uses else '')
        raise SpaceError(
            f'{where}: {key!r} is a top-level variable of the config; '
            'mmengine has already put its value where it is used, so '
            f'tuning it would change nothing.{hint}')
    return value


def _number(spec: dict, name: str, where: str, integer: bool) -> float:
    value = spec.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
            integer and not isinstance(value, int)):
        kind = 'an integer' if integer else 'a number'
        raise SpaceError(f'{where}: {name!r} must be {kind}, got {value!r}.')
    if not math.isfinite(value):
        raise SpaceError(f'{where}: {name!r} must be finite, got {value!r}.')
    return value


def parse_param(name: str, spec: Any, where: str) -> Param:
    """A :class:`Param` from its space-file entry, range checked."""
    if not isinstance(spec, dict):
        raise SpaceError(f'{where}: expected dict(type=..., ...), got '
                         f'{spec!r}.')
    unknown = set(spec) - _SPEC_KEYS
    if unknown:
        raise SpaceError(f'{where}: unknown field(s) {sorted(unknown)}; '
                         f'fields are {sorted(_SPEC_KEYS)}.')
    kind = spec.get('type', 'choice' if 'choices' in spec else None)
    if kind not in TYPES:
        raise SpaceError(f'{where}: type must be one of {list(TYPES)}, got '
                         f'{kind!r}.')
    keys = spec.get('keys', name)
    keys = (keys, ) if isinstance(keys, str) else tuple(keys)
    if not keys or not all(isinstance(k, str) and k for k in keys):
        raise SpaceError(f'{where}: keys must be a key or a list of keys.')
    if kind == 'choice':
        choices = spec.get('choices')
        if not isinstance(choices, (list, tuple)) or not choices:
            raise SpaceError(f'{where}: choices must be a non-empty list.')
        bad = [c for c in choices if not isinstance(c, _CHOICE_TYPES)]
        if bad:
            raise SpaceError(f'{where}: choices must be numbers, strings, '
                             f'booleans or None; not {bad[0]!r}.')
        if len(set(map(repr, choices))) != len(choices):
            raise SpaceError(f'{where}: choices repeat a value.')
        extra = set(spec) & {'low', 'high', 'log', 'step'}
        if extra:
            raise SpaceError(f'{where}: a choice takes no {sorted(extra)}.')
        return Param(name, kind, keys, choices=tuple(choices))
    integer = kind == 'int'
    low = _number(spec, 'low', where, integer)
    high = _number(spec, 'high', where, integer)
    log = bool(spec.get('log', False))
    step = spec.get('step')
    if not low < high:
        raise SpaceError(f'{where}: low must be below high, got low={low}, '
                         f'high={high}.')
    if log and low <= 0:
        raise SpaceError(f'{where}: a log range needs low > 0, got '
                         f'low={low}.')
    if step is not None:
        step = _number(spec, 'step', where, integer)
        if step <= 0 or step > high - low:
            raise SpaceError(f'{where}: step must be in (0, high - low], '
                             f'got {step}.')
        if log and not integer:
            raise SpaceError(f'{where}: a float range cannot have both '
                             'log=True and a step.')
    return Param(name, kind, keys, low, high, log, step)


def parse_space(space: Any, settings: Any, cfg: Any,
                filename: str = '<space>') -> Space:
    """Check ``space`` (param name -> spec) and ``settings`` against
    ``cfg``: every key must exist in it and hold a value."""
    if not isinstance(space, dict) or not space:
        raise SpaceError(f'{filename}: `space` must be a non-empty dict of '
                         'parameters, e.g. space = dict(lr=dict(type=\'float\''
                         ', low=0.01, high=1, keys=\'leaps.loop.optim_wrapper'
                         '.optimizer.lr\')).')
    settings = dict(settings or {})
    unknown = set(settings) - set(TUNING_KEYS)
    if unknown:
        raise SpaceError(f'{filename}: unknown `tuning` key(s) '
                         f'{sorted(unknown)}; known: {list(TUNING_KEYS)}.')
    params, owner = [], {}
    for name, spec in space.items():
        where = f'{filename}: space[{name!r}]'
        param = parse_param(str(name), spec, where)
        for key in param.keys:
            if key in owner:
                raise SpaceError(f'{where}: key {key!r} is already set by '
                                 f'{owner[key]!r}.')
            owner[key] = param.name
            check_key(cfg, key, where)
        params.append(param)
    return Space(params, settings, filename)


def load_space(path: str, cfg: Any) -> Space:
    """Read and check the space file at ``path`` against ``cfg``."""
    from mmengine.config import Config
    if not osp.isfile(path):
        raise SpaceError(f'Space file {path!r} does not exist.')
    try:
        data = Config.fromfile(path)
    except Exception as error:
        raise SpaceError(f'Could not read space file {path!r}: '
                         f'{type(error).__name__}: {error}') from error
    if 'space' not in data:
        raise SpaceError(f'{path}: no `space` dict of parameters.')
    space = data.space.to_dict() if hasattr(data.space, 'to_dict') \
        else data.space
    settings = data.get('tuning')
    settings = settings.to_dict() if hasattr(settings, 'to_dict') \
        else settings
    return parse_space(space, settings, cfg, path)


def config_values(space: Space, cfg: Any) -> Dict[str, Any]:
    """The config's own value of every parameter that has one inside the
    space (all its keys equal): the defaults trial."""
    values = {}
    for param in space.params:
        found = [lookup(cfg, key) for key in param.keys]
        if all(v == found[0] for v in found) and param.contains(found[0]):
            value = found[0]
            values[param.name] = (int(value) if param.type == 'int'
                                  else float(value) if param.type == 'float'
                                  else value)
    return values


def format_value(value: Any) -> str:
    """A value as a ``--cfg-options`` ``KEY=VALUE`` right-hand side."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str) and (value != value.strip() or ',' in value):
        raise SpaceError(f'Choice {value!r} cannot be passed as a '
                         '--cfg-options value (commas, outer spaces).')
    return str(value)


def cfg_options(space: Space, values: Dict[str, Any]) -> List[str]:
    """``KEY=VALUE`` strings setting every key of the sampled values."""
    return [f'{key}={format_value(value)}'
            for key, value in space.assignments(values).items()]
