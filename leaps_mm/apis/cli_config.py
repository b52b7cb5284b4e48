"""Loading a config for the command-line tools, with one clear message for
each thing that can be wrong in it."""
import os.path as osp
from typing import Sequence

import click
from mmengine.config import Config, DictAction


def parse_cfg_options(options: Sequence[str]) -> dict:
    """``KEY=VALUE`` strings parsed like mmengine's ``--cfg-options``."""
    parsed = {}
    for option in options:
        if '=' not in option:
            raise click.BadParameter(
                f'{option!r} is not KEY=VALUE (e.g. leaps.loop.iters=100).',
                param_hint='--cfg-options')
        key, value = option.split('=', 1)
        parsed[key] = DictAction._parse_iterable(value)
    return parsed


def load_config(config: str, cfg_options: dict) -> Config:
    """Read ``config`` and merge ``cfg_options`` into it; a missing file, an
    error inside the config or an option for a key the config lacks is a
    ``click.ClickException`` naming it."""
    if not osp.isfile(config):
        raise click.ClickException(f'Config file {config!r} does not exist.')
    try:
        cfg = Config.fromfile(config)
    except Exception as error:  # syntax or base errors inside the config
        raise click.ClickException(
            f'Could not read config {config!r}: {type(error).__name__}: '
            f'{error}') from error
    for key in cfg_options:
        head = key.split('.')[0]
        if head not in cfg:
            raise click.ClickException(
                f'--cfg-options {key}: the config has no key {head!r}; '
                f'top-level keys are {sorted(cfg.keys())}.')
    cfg.merge_from_dict(cfg_options)
    return cfg
