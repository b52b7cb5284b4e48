"""mmengine's ``--cfg-options KEY=VALUE [KEY=VALUE ...]`` for the click
tools (click options take one value per flag). Imports click only, so that
``--help`` stays fast."""
from typing import List, Sequence

import click


class CfgOptionsCommand(click.Command):
    """A click command whose ``--cfg-options`` takes several ``KEY=VALUE``
    after one flag, as in mmengine's tools (``--cfg-options a=1 b=2``); the
    flag may also be repeated."""

    def parse_args(self, ctx: click.Context, args: List[str]) -> List[str]:
        return super().parse_args(ctx, split_cfg_options(args))


def split_cfg_options(args: Sequence[str]) -> List[str]:
    """``args`` with one ``--cfg-options`` flag before each ``KEY=VALUE``
    that follows the flag's own value: a run of arguments that hold ``=``
    and do not start with ``-`` (a config path, another option or ``--``
    ends it)."""
    out: List[str] = []
    state = 'other'  # 'value': the flag's own value is next; 'more': after it
    for position, arg in enumerate(args):
        if arg == '--':  # everything after it is positional
            return out + list(args[position:])
        if state == 'value':
            out.append(arg)
            state = 'more'
        elif state == 'more' and '=' in arg and not arg.startswith('-'):
            out += ['--cfg-options', arg]
        else:
            out.append(arg)
            state = ('value' if arg == '--cfg-options' else
                     'more' if arg.startswith('--cfg-options=') else 'other')
    return out
