"""Fails ``import leaps_mm`` with one clear message when no MMCV is installed.

MMAction2 needs MMCV 2.x, either the full ``mmcv`` (compiled ops) or the
pure-Python ``mmcv-lite``; both install the ``mmcv`` module, and pip cannot
require "one of the two", so leaps_mm's base requirements name neither
(``pip install 'leaps_mm[lite]'`` adds mmcv-lite). Imported first by
``leaps_mm/__init__.py``; looks for the module without importing it.
"""
import importlib.util

MMCV_RANGE = '>=2.0.0rc4,<2.2.0'  # MMAction2 1.x's own check

if importlib.util.find_spec('mmcv') is None:
    raise ImportError(
        f'leaps_mm needs MMCV{MMCV_RANGE} and no `mmcv` module is installed. '
        f"Install one of: mmcv-lite (pure Python, enough for leaps_mm: "
        f"pip install 'mmcv-lite{MMCV_RANGE}', or pip install "
        f"'leaps_mm[lite]') or the full mmcv with compiled ops (pip install "
        f"'mmcv{MMCV_RANGE}', built for your torch/CUDA). Not both.")
