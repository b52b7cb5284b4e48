"""Safe loading of OpenMMLab checkpoints into recognizers."""
import collections
import contextlib
import pickle
from typing import Iterator

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner import CheckpointLoader
from torch import nn


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded into the configured model."""


def _history_buffer_getattr(owner: object, name: str) -> object:
    """Stands in for ``getattr`` while unpickling: a pickled ``HistoryBuffer``
    refers to its statistics methods as ``getattr(HistoryBuffer, 'mean')``;
    nothing else may be looked up."""
    # the built-in statistics are registered only once a buffer is created
    allowed = {'min', 'max', 'mean', 'current', *HistoryBuffer._statistics_methods}
    if owner is HistoryBuffer and name in allowed:
        return getattr(owner, name)
    raise pickle.UnpicklingError(
        f'Refusing getattr({owner!r}, {name!r}) in a checkpoint.')


def _safe_globals() -> list:
    """Data types (never callables with side effects: no getattr, eval,
    os.system, ...) that OpenMMLab
    checkpoints pickle besides tensors: numpy arrays, dtypes and scalars (in
    ``meta``) and mmengine's ``HistoryBuffer`` (in ``message_hub``)."""
    numpy_core = getattr(np, '_core', None) or np.core
    return [
        bytes, np.ndarray, np.dtype, numpy_core.multiarray._reconstruct,
        numpy_core.multiarray.scalar, HistoryBuffer, collections.OrderedDict,
        *{type(np.dtype(t)) for t in ('float64', 'float32', 'int64', 'int32',
                                      'bool', 'uint8')},
        (_history_buffer_getattr, 'builtins.getattr'),
    ]


@contextlib.contextmanager
def safe_unpickling() -> Iterator[None]:
    """``torch.load`` with ``weights_only=True`` plus the allow-list above."""
    with torch.serialization.safe_globals(_safe_globals()):
        yield


def load_state_dict_from(path_or_url: str) -> dict:
    """Read a checkpoint (local path, or an http(s) URL cached by torch.hub)
    without executing arbitrary pickled code; return its state dict."""
    try:
        with safe_unpickling():
            checkpoint = CheckpointLoader.load_checkpoint(
                path_or_url, map_location='cpu')
    except FileNotFoundError as error:
        raise CheckpointError(f'Checkpoint {path_or_url!r} does not exist: '
                              'check the path.') from error
    except Exception as error:  # torch raises many kinds for bad files
        raise CheckpointError(
            f'Could not read checkpoint {path_or_url!r}: '
            f'{type(error).__name__}: {str(error).splitlines()[0]}. Is it a '
            'complete PyTorch checkpoint from a trusted source?') from error
    state = checkpoint.get('state_dict', checkpoint) if isinstance(
        checkpoint, dict) else None
    if not isinstance(state, dict):
        raise CheckpointError(f'{path_or_url!r} holds no state dict.')
    return {k[len('module.'):] if k.startswith('module.') else k: v
            for k, v in state.items()}


def load_recognizer_checkpoint(model: nn.Module, path_or_url: str) -> None:
    """Load weights into ``model``; any missing key, unexpected key or shape
    mismatch is an error that lists them."""
    state = load_state_dict_from(path_or_url)
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    mismatched = sorted(f'{k}: checkpoint {tuple(state[k].shape)} vs model '
                        f'{tuple(own[k].shape)}' for k in set(own) & set(state)
                        if hasattr(state[k], 'shape')
                        and state[k].shape != own[k].shape)
    if missing or unexpected or mismatched:
        def listing(keys: list) -> str:
            return ', '.join(keys[:8]) + (' ...' if len(keys) > 8 else '')
        parts = [f'{len(missing)} missing ({listing(missing)})' if missing
                 else '',
                 f'{len(unexpected)} unexpected ({listing(unexpected)})'
                 if unexpected else '',
                 f'{len(mismatched)} with other shapes ({listing(mismatched)})'
                 if mismatched else '']
        raise CheckpointError(
            f'Checkpoint {path_or_url!r} does not fit {type(model).__name__}: '
            + '; '.join(p for p in parts if p) +
            '. Is it for the architecture in the config?')
    model.load_state_dict(state)
