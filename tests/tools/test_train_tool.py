"""tools/train.py: a stage that fine-tunes another trains it first when its
export is missing (one command per model), and says so before any
training when the chain is broken."""
from __future__ import annotations

import os.path as osp
import subprocess
import sys

import pytest
import torch

from conftest import REPO  # noqa: E402
BASE = osp.join(REPO, 'registry_configs', 'demo', 'train_r3d.py')


def _write(path, text: str) -> str:
    path.write_text(text)
    return str(path)


def _train(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, osp.join(REPO, 'tools', 'train.py'),
                           *args], capture_output=True, text=True, cwd=REPO)


@pytest.fixture
def chain(tmp_path):
    """A two-stage chain of the demo target at toy size (8 clips, 1 epoch),
    exporting into ``tmp_path``."""
    stage1 = _write(tmp_path / 'stage1.py', f"""
_base_ = [{BASE!r}]
train_cfg = dict(max_epochs=1, val_interval=5)
train_dataloader = dict(batch_size=4, dataset=dict(num_samples=8,
                                                   warmup_epochs=0))
val_dataloader = dict(batch_size=8, dataset=dict(num_samples=8))
test_dataloader = dict(batch_size=8, dataset=dict(num_samples=8))
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=True)]
default_hooks = dict(logger=dict(interval=1))
export_dir = {str(tmp_path)!r}
export_name = 'toy_stage1'
work_dir = {str(tmp_path / 'work1')!r}
""")
    stage2 = _write(tmp_path / 'stage2.py', f"""
_base_ = ['./stage1.py']
load_from = {str(tmp_path / 'toy_stage1.pth')!r}
load_from_config = '{{{{ fileDirname }}}}/stage1.py'
export_name = 'toy_stage2'
work_dir = {str(tmp_path / 'work2')!r}
""")
    return tmp_path, stage1, stage2


@pytest.mark.slow
def test_missing_stage_is_trained_first(chain) -> None:
    folder, stage1, stage2 = chain
    done = _train(stage2)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f'Training {stage1} first' in done.stdout
    first, second = folder / 'toy_stage1.pth', folder / 'toy_stage2.pth'
    assert first.is_file() and second.is_file()
    meta = torch.load(second, weights_only=False)['meta']
    assert meta['init_from'] == str(first)
    # the second stage started from the first's weights and trained on
    state1 = torch.load(first, weights_only=False)['state_dict']
    state2 = torch.load(second, weights_only=False)['state_dict']
    key = 'cls_head.fc_cls.weight'
    assert not torch.equal(state1[key], state2[key])


def test_broken_chain_is_refused_before_training(chain) -> None:
    folder, stage1, _ = chain
    elsewhere = _write(folder / 'elsewhere.py', f"""
_base_ = ['./stage1.py']
load_from = {str(folder / 'other.pth')!r}
load_from_config = '{{{{ fileDirname }}}}/stage1.py'
""")
    done = _train(elsewhere)
    assert done.returncode != 0
    assert 'load_from_config' in done.stderr and 'other.pth' in done.stderr
    assert 'toy_stage1.pth' in done.stderr

    orphan = _write(folder / 'orphan.py', f"""
_base_ = ['./stage1.py']
load_from = {str(folder / 'missing.pth')!r}
""")
    done = _train(orphan)
    assert done.returncode != 0
    assert 'missing.pth' in done.stderr and 'load_from_config' in done.stderr
    assert 'Traceback' not in done.stderr
    assert not (folder / 'work1').exists()  # nothing was trained
