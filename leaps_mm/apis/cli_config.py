"""Loading a config for the command-line tools, with one clear message for
each thing that can be wrong in it."""
import difflib
import os.path as osp
import re
import sys
from typing import Any, Callable, List, Optional

from mmengine.config import Config


class ConfigError(Exception):
    """A problem with what was given to a command-line tool (a config, a
    file, a value), named in its message. Each tool's ``main`` prints it as
    ``Error: <message>`` on stderr and exits with ``exit_code``: 1, or 2
    for a wrong combination of command-line arguments (as argparse's own
    usage errors)."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def run_command(command: Callable[[], Any]) -> int:
    """Run a tool's ``command``; a :class:`ConfigError` is printed as
    ``Error: <message>`` on stderr. Returns the exit status."""
    try:
        command()
    except ConfigError as error:
        print(f'Error: {error}', file=sys.stderr)
        return error.exit_code
    return 0


REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def no_leaps_section(config: str) -> str:
    """The refusal of a recognizer config without ``leaps``, with the
    two-line inversion config that adds it."""
    base = osp.join(REPO, 'registry_configs', '_base_', 'leaps.py')
    path = osp.abspath(config)
    marker = osp.join('mmaction', '.mim', 'configs', '')
    if marker in path:  # MMAction2's own configs go by their short name
        path = 'mmaction::' + path.split(marker, 1)[1]
    return (f'{config} has no `leaps` section: tools/invert.py needs an '
            'inversion config, a recognizer config plus the LEAPS settings. '
            'Write one, e.g. my_inversion.py, and run tools/invert.py '
            'my_inversion.py:\n'
            f'    _base_ = [{path!r}, {base!r}]\n'
            "    leaps = dict(inverter=dict(target_checkpoint='my_model.pth'))")


def load_config(config: str, cfg_options: dict,
                require_leaps: bool = False) -> Config:
    """Read ``config`` and merge ``cfg_options`` into it; a missing file, an
    error inside the config, a config without ``leaps`` (with
    ``require_leaps``) or an option for a key the config lacks is a
    ``ConfigError`` naming it."""
    if not osp.isfile(config):
        raise ConfigError(f'Config file {config!r} does not exist.')
    try:
        cfg = Config.fromfile(config)
    except Exception as error:  # syntax or base errors inside the config
        raise ConfigError(
            f'Could not read config {config!r}: {type(error).__name__}: '
            f'{error}') from error
    if require_leaps and not isinstance(cfg.get('leaps'), dict):
        raise ConfigError(no_leaps_section(config))
    for key in cfg_options:
        head = key.split('.')[0]
        if head not in cfg:
            raise ConfigError(
                f'--cfg-options {key}: the config has no key {head!r}; '
                f'top-level keys are {sorted(cfg.keys())}.')
    cfg.merge_from_dict(cfg_options)
    return cfg


_UNKNOWN_TYPE = re.compile(r"(\S+) is not in the (?:(\w+)::)?(.+?) registry")


def _registered_names(kind: str) -> List[str]:
    """Every name registered for ``kind`` ('model', 'transform', ...) in any
    scope: the whole tree of mmengine's root registry of that kind."""
    from leaps_mm import registry as leaps_registries
    roots = []
    for value in vars(leaps_registries).values():
        if getattr(value, 'name', None) == kind and hasattr(value, 'children'):
            root = value
            while root.parent is not None:
                root = root.parent
            roots.append(root)
    names, stack = set(), roots
    while stack:
        current = stack.pop()
        names.update(current.module_dict)
        stack.extend(current.children.values())
    return sorted(names)


def _type_keys(cfg: Any, name: str, prefix: str = '') -> List[str]:
    """Config keys whose ``type`` is ``name`` (``model.backbone.type``)."""
    found = []
    items = (cfg.items() if isinstance(cfg, dict) else
             enumerate(cfg) if isinstance(cfg, (list, tuple)) else ())
    for key, value in items:
        path = f'{prefix}{key}'
        if key == 'type' and value == name:
            found.append(path)
        elif isinstance(value, (dict, list, tuple)):
            found += _type_keys(value, name, path + '.')
    return found


def explain_unknown_type(message: str, cfg: Any = None) -> Optional[str]:
    """mmengine's "X is not in the scope::kind registry" as one message with
    the config key, the registry and the closest registered names; None for
    any other message."""
    match = _UNKNOWN_TYPE.search(message)
    if not match:
        return None
    name, scope, kind = match.groups()
    name = name.strip('`\'"')
    names = _registered_names(kind)
    lower = {n.lower(): n for n in names}  # case-insensitive: 'adamw'
    close = [lower[n] for n in difflib.get_close_matches(
        name.lower(), list(lower), n=5, cutoff=0.6)]
    keys = _type_keys(cfg.to_dict() if hasattr(cfg, 'to_dict') else cfg,
                      name) if cfg is not None else []
    where = f' (config key {", ".join(keys)})' if keys else ''
    registry = f'{scope}::{kind}' if scope else kind
    hint = (f' Closest registered names: {", ".join(close)}.' if close else
            f' No registered name is close ({len(names)} are registered).')
    return (f'Unknown type {name!r}{where}: it is not in the {registry} '
            f'registry.{hint} Fix the spelling, or import the module that '
            'registers it (custom_imports).')
