"""argparse ``type=`` checks shared by the tools: whole numbers in a range,
positive numbers, paths that must (not) be a file or a folder, and
``KEY=VALUE`` for ``--cfg-options``. A bad value is argparse's usage error
naming the option (exit status 2). Imports nothing heavy, so that
``--help`` stays fast."""
import argparse
import os.path as osp
from typing import Callable, Optional


def int_range(low: int, high: Optional[int] = None) -> Callable[[str], int]:
    """A whole number ``>= low`` (and ``<= high``)."""
    bounds = f'{low}<=x<={high}' if high is not None else f'x>={low}'

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f'{text!r} is not a valid integer.') from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(
                f'{value} is not in the range {bounds}.')
        return value
    return parse


def positive_float(text: str) -> float:
    """A number ``> 0``."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'{text!r} is not a valid float.') from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f'{value} is not in the range x>0.')
    return value


def existing_dir(text: str) -> str:
    """A folder that exists."""
    if not osp.exists(text):
        raise argparse.ArgumentTypeError(
            f'Directory {text!r} does not exist.')
    if not osp.isdir(text):
        raise argparse.ArgumentTypeError(f'Directory {text!r} is a file.')
    return text


def existing_file(text: str) -> str:
    """A file that exists."""
    if not osp.exists(text):
        raise argparse.ArgumentTypeError(f'File {text!r} does not exist.')
    return not_dir(text)


def not_dir(text: str) -> str:
    """A file path (it may not exist yet) that is not a folder."""
    if osp.isdir(text):
        raise argparse.ArgumentTypeError(f'File {text!r} is a directory.')
    return text


def not_file(text: str) -> str:
    """A folder path (it may not exist yet) that is not a file."""
    if osp.isfile(text):
        raise argparse.ArgumentTypeError(f'Directory {text!r} is a file.')
    return text


def key_value(text: str) -> str:
    """One ``KEY=VALUE`` of ``--cfg-options`` (mmengine's DictAction parses
    the value)."""
    if '=' not in text:
        raise argparse.ArgumentTypeError(
            f'{text!r} is not KEY=VALUE (e.g. leaps.loop.iters=100); the '
            'values after --cfg-options run to the next option, so give '
            'positional arguments before it.')
    return text
