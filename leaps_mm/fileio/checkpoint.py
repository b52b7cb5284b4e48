"""Safe loading of OpenMMLab checkpoints into recognizers."""
import collections
import contextlib
import logging
import os
import pickle
from typing import Iterator, Optional

import numpy as np
import torch
from mmengine.logging import HistoryBuffer, print_log
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


_TRUST = {'all': False}


def trust_checkpoints(enabled: bool = True) -> None:
    """Opt this process out of the safe loader (``--trust-checkpoint``):
    checkpoints are then unpickled with plain ``pickle``, which runs any code
    they hold. Only for files from a source you trust."""
    _TRUST['all'] = bool(enabled)


@contextlib.contextmanager
def trusted_unpickling() -> Iterator[None]:
    """``torch.load`` with ``weights_only=False`` (torch's own switch,
    ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``), for mmengine's loaders that call
    ``torch.load`` without the argument."""
    keys = ('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD',
            'TORCH_FORCE_WEIGHTS_ONLY_LOAD')
    saved = {key: os.environ.pop(key, None) for key in keys}
    os.environ[keys[0]] = '1'
    try:
        yield
    finally:
        for key, value in saved.items():
            os.environ.pop(key, None)
            if value is not None:
                os.environ[key] = value


def network_problem(error: BaseException) -> Optional[str]:
    """What went wrong on the network (an HTTP status, a refused or timed
    out connection, a name that does not resolve) when ``error`` or one of
    its causes is a network error; None otherwise."""
    import http.client
    import socket
    import ssl
    import urllib.error
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, urllib.error.HTTPError):
            return f'the server answered HTTP {error.code} {error.reason}'
        if isinstance(error, urllib.error.URLError):
            return f'{error.reason}'
        if isinstance(error, (ConnectionError, socket.timeout, socket.gaierror,
                              ssl.SSLError, http.client.HTTPException)):
            return f'{type(error).__name__}: {error}'
        error = error.__cause__ or error.__context__
    return None


def load_checkpoint_file(path_or_url: str,
                         trust: Optional[bool] = None) -> dict:
    """The whole checkpoint (``state_dict``, ``meta``, ...) at a local path
    or an http(s) URL (cached by torch.hub). Safe unpickling unless
    ``trust`` (default: :func:`trust_checkpoints`'s setting)."""
    trust = _TRUST['all'] if trust is None else trust
    if trust:
        print_log(f'Loading checkpoint {path_or_url!r} without the safety '
                  'check (--trust-checkpoint): any code pickled in it runs '
                  'with your permissions.', logger='current',
                  level=logging.WARNING)
    try:
        with trusted_unpickling() if trust else safe_unpickling():
            checkpoint = CheckpointLoader.load_checkpoint(
                path_or_url, map_location='cpu')
    except FileNotFoundError as error:
        raise CheckpointError(f'Checkpoint {path_or_url!r} does not exist: '
                              'check the path.') from error
    except Exception as error:  # torch raises many kinds for bad files
        network = network_problem(error)
        if network is not None:
            raise CheckpointError(
                f'Could not download checkpoint {path_or_url!r}: {network}. '
                'It is the network, not the file: check the URL and the '
                'connection (or proxy), or download it and give its local '
                'path.') from error
        unsafe = '' if trust else (
            ' If it is an unusual but trusted file, --trust-checkpoint loads '
            'it with plain pickle (runs any code in it).')
        raise CheckpointError(
            f'Could not read checkpoint {path_or_url!r}: '
            f'{type(error).__name__}: {str(error).splitlines()[0]}. Is it a '
            f'complete PyTorch checkpoint from a trusted source?{unsafe}'
        ) from error
    if not isinstance(checkpoint, dict):
        raise CheckpointError(f'{path_or_url!r} holds no state dict.')
    return checkpoint


def load_state_dict_from(path_or_url: str,
                         trust: Optional[bool] = None) -> dict:
    """Read a checkpoint (see :func:`load_checkpoint_file`); return its
    state dict without a ``module.`` prefix."""
    return state_dict_of(load_checkpoint_file(path_or_url, trust),
                         path_or_url)


def state_dict_of(checkpoint: dict, path_or_url: str) -> dict:
    """A loaded checkpoint's state dict, without a ``module.`` prefix."""
    state = checkpoint.get('state_dict', checkpoint)
    if not isinstance(state, dict):
        raise CheckpointError(f'{path_or_url!r} holds no state dict.')
    return {k[len('module.'):] if k.startswith('module.') else k: v
            for k, v in state.items()}


def _class_count_hint(checkpoint: dict, state: dict, own: dict) -> str:
    """When the classification layers differ in their number of classes:
    a sentence saying both counts (and the checkpoint's class names)."""
    heads = [k for k in set(state) & set(own)
             if k.endswith('fc_cls.weight') and hasattr(state[k], 'shape')
             and state[k].shape[:1] != own[k].shape[:1]]
    if not heads:
        return ''
    key = heads[0]
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    names = ((meta or {}).get('dataset_meta') or {}).get('classes') or []
    listed = f' ({len(names)} names in its meta)' if names else ''
    return (f' Its head {key} has {state[key].shape[0]} classes{listed}, the '
            f'configured model {own[key].shape[0]}: set '
            f'model.cls_head.num_classes={state[key].shape[0]} (and a label '
            'file with as many names), or give a checkpoint for these '
            'classes.')


def load_recognizer_checkpoint(model: nn.Module, path_or_url: str) -> None:
    """Load weights into ``model``; any missing key, unexpected key or shape
    mismatch is an error that lists them."""
    checkpoint = load_checkpoint_file(path_or_url)
    state = state_dict_of(checkpoint, path_or_url)
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
            '. Is it for the architecture in the config?'
            + _class_count_hint(checkpoint, state, own))
    model.load_state_dict(state)
