"""Checkpoints load safely: data types yes, arbitrary pickled code no."""
import os
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from torch import nn

from leaps_mm.utils import CheckpointError, load_recognizer_checkpoint


def small_net() -> nn.Module:
    return nn.Sequential(nn.Conv3d(3, 4, 1), nn.BatchNorm3d(4))


def test_runner_style_checkpoint_loads(tmp_path, monkeypatch):
    source = small_net()
    path = tmp_path / 'epoch_1.pth'
    torch.save({'state_dict': source.state_dict(),
                'meta': {'epoch': np.int64(1), 'lr': np.float64(0.1),
                         'seed': np.array([1, 2])},
                'message_hub': {'log_scalars': {'loss': HistoryBuffer()}}},
               path)
    target = small_net()
    # as in a fresh process, before any HistoryBuffer registers its methods
    monkeypatch.setattr(HistoryBuffer, '_statistics_methods', {})
    load_recognizer_checkpoint(target, str(path))
    assert torch.equal(target[0].weight, source[0].weight)


class _Exploit:
    def __reduce__(self):
        return (os.system, ('touch PWNED_BY_CHECKPOINT',))


def test_malicious_pickle_is_refused_and_not_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / 'evil.pth'
    with open(path, 'wb') as file:
        pickle.dump({'state_dict': {}, 'payload': _Exploit()}, file)
    with pytest.raises(CheckpointError, match='evil.pth'):
        load_recognizer_checkpoint(small_net(), str(path))
    assert not (tmp_path / 'PWNED_BY_CHECKPOINT').exists()


def test_wrong_architecture_lists_the_keys(tmp_path):
    path = tmp_path / 'other.pth'
    torch.save({'state_dict': nn.Sequential(nn.Conv3d(3, 8, 1)).state_dict()},
               path)
    with pytest.raises(CheckpointError) as error:
        load_recognizer_checkpoint(small_net(), str(path))
    message = str(error.value)
    assert '1.weight' in message and 'missing' in message
    assert '0.weight: checkpoint (8, 3, 1, 1, 1)' in message


def test_missing_and_truncated_files(tmp_path):
    with pytest.raises(CheckpointError, match='does not exist'):
        load_recognizer_checkpoint(small_net(), str(tmp_path / 'no.pth'))
    path = tmp_path / 'cut.pth'
    torch.save({'state_dict': small_net().state_dict()}, path)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CheckpointError, match='cut.pth'):
        load_recognizer_checkpoint(small_net(), str(path))


class _GetattrAbuse:
    """Pickles as getattr(HistoryBuffer, '__init__'): a lookup outside the
    statistics methods the allow-list's getattr permits."""

    def __reduce__(self):
        return (getattr, (HistoryBuffer, '__init__'))


def test_getattr_is_limited_to_history_buffer_statistics(tmp_path):
    path = tmp_path / 'sneaky.pth'
    torch.save({'state_dict': small_net().state_dict(), 'x': _GetattrAbuse()},
               path)
    with pytest.raises(CheckpointError, match='sneaky.pth'):
        load_recognizer_checkpoint(small_net(), str(path))
