"""Atomic file writes: a file appears complete or not at all."""
import contextlib
import json
import os
import secrets
from typing import Any, Iterator

import numpy as np


@contextlib.contextmanager
def atomic_path(path: 'str | os.PathLike') -> Iterator[str]:
    """Yield a temporary path in ``path``'s folder; move it to ``path`` on
    success, delete it on any exception."""
    target = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(target))
    os.makedirs(folder, exist_ok=True)
    while True:  # like mkstemp, but honouring the umask (mode 0o666 & ~umask)
        tmp = os.path.join(
            folder, f'.{os.path.basename(target)}.{secrets.token_hex(4)}.tmp')
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            break
        except FileExistsError:
            continue
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def write_json(path: 'str | os.PathLike', data: Any) -> None:
    with atomic_path(path) as tmp, open(tmp, 'w') as file:
        json.dump(data, file, indent=2, sort_keys=True)


def write_npy(path: 'str | os.PathLike', array: np.ndarray) -> None:
    with atomic_path(path) as tmp, open(tmp, 'wb') as file:
        np.save(file, array)


def write_torch(path: 'str | os.PathLike', obj: Any) -> None:
    """``torch.save`` of ``obj`` (tensors and plain data), atomically."""
    import torch
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)
