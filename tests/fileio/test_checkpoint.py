"""Checkpoints load safely: data types yes, arbitrary pickled code no."""
import os
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from torch import nn

from leaps_mm.fileio import CheckpointError, load_recognizer_checkpoint


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


def test_trust_checkpoint_opts_out_of_the_safe_loader(tmp_path, monkeypatch):
    """The refusal points at --trust-checkpoint; with it, the file is plain
    pickle: its code runs (here: harmlessly, in a temporary folder)."""
    from leaps_mm.fileio.checkpoint import load_checkpoint_file
    monkeypatch.chdir(tmp_path)
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'payload': _Exploit()}, path)
    with pytest.raises(CheckpointError, match='--trust-checkpoint'):
        load_checkpoint_file(str(path))
    assert not (tmp_path / 'PWNED_BY_CHECKPOINT').exists()
    checkpoint = load_checkpoint_file(str(path), trust=True)
    assert checkpoint['state_dict'] == {}
    assert (tmp_path / 'PWNED_BY_CHECKPOINT').exists()
    assert 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD' not in os.environ  # restored


class _Headed(nn.Module):
    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.cls_head = nn.Module()
        self.cls_head.fc_cls = nn.Linear(4, num_classes)


def test_other_class_count_names_both_counts(tmp_path):
    path = tmp_path / 'k400.pth'
    torch.save({'state_dict': _Headed(400).state_dict(),
                'meta': {'dataset_meta': {
                    'classes': [f'class {i}' for i in range(400)]}}}, path)
    with pytest.raises(CheckpointError) as info:
        load_recognizer_checkpoint(_Headed(8), str(path))
    message = str(info.value)
    assert 'k400.pth' in message
    assert ('cls_head.fc_cls.weight has 400 classes (400 names in its meta), '
            'the configured model 8') in message
    assert 'model.cls_head.num_classes=400' in message
