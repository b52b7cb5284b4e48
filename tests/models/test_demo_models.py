"""The demo recognizers (checkpoints/demo/*.pth, trained by tools/train.py
from registry_configs/demo/train_*.py) and their dataset, MotionDataset."""
from __future__ import annotations

import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from leaps_mm.datasets.motion import (MOTION_CLASSES, render_motion_clip,
                                      render_motion_sample)
from leaps_mm.datasets.motion_dataset import MotionDataset
from leaps_mm.registry import DATASETS, MODELS
from leaps_mm.fileio import load_recognizer_checkpoint

from conftest import REPO  # noqa: E402
DEMO = osp.join(REPO, 'registry_configs', 'demo')
CHECKPOINTS = osp.join(REPO, 'checkpoints', 'demo')
# name -> (train config, exported checkpoint)
MODELS_ = {
    'target': ('train_r3d.py', 'r3d.pth'),
    'verifier': ('train_r2plus1d.py', 'r2plus1d.pth'),
    'judge': ('train_mvit.py', 'mvit.pth'),
}
HELD_OUT_SEED = 31337  # used by no config (train 1, val 1001, test 2002)
NUM_HELD_OUT = 64
# Held-out top-1 each committed model must keep (the bar).
MIN_TOP1 = dict(target=0.9, verifier=0.9, judge=0.9)
# on the 16 shipped stimuli: target and verifier read all 16 when measured;
# the judge 14 (12 before its stage 4, train_mvit_long.py)
STIMULI_TOP1 = dict(target=15 / 16, verifier=15 / 16, judge=14 / 16)
# held-out top-1 under Gaussian pixel noise of std 30 (0-255 scale): all three
# were fine-tuned with noise (train_*_noise.py); before that an X3D verifier
# fell to chance at std 10, so it scored every noisy video as noise
NOISY_TOP1 = dict(target=0.85, verifier=0.85, judge=0.85)


def _config(name: str) -> Config:
    return Config.fromfile(osp.join(DEMO, MODELS_[name][0]))


_cache: dict = {}


def trained(name: str) -> torch.nn.Module:
    """The recognizer built from the train config's ``model``, with the
    committed checkpoint loaded, in eval mode."""
    if name not in _cache:
        with DefaultScope.overwrite_default_scope('leaps_mm'):
            model = MODELS.build(_config(name).model)
        load_recognizer_checkpoint(
            model, osp.join(CHECKPOINTS, MODELS_[name][1]))
        _cache[name] = model.eval()
    return _cache[name]


@pytest.fixture(scope='module')
def held_out() -> tuple[torch.Tensor, torch.Tensor]:
    """(N, 1, 3, T, H, W) uint8 clips and (N,) labels of an unused seed."""
    data = MotionDataset(num_samples=NUM_HELD_OUT, seed=HELD_OUT_SEED,
                         test_mode=True)
    items = [data[i] for i in range(len(data))]
    clips = torch.stack([item['inputs'] for item in items])
    labels = torch.tensor([int(item['data_samples'].gt_label)
                           for item in items])
    return clips, labels


@torch.no_grad()
def predict(model: torch.nn.Module, clips: torch.Tensor) -> torch.Tensor:
    """Class scores of ``(N, 1, C, T, H, W)`` uint8 clips through the
    model's own preprocessor (normalisation)."""
    pre = model.data_preprocessor
    inputs = (clips.float() - pre.mean.view(1, 1, 3, 1, 1, 1)) \
        / pre.std.view(1, 1, 3, 1, 1, 1)
    scores = []
    for chunk in inputs.split(32):
        feats, _ = model.extract_feat(chunk)
        scores.append(model.cls_head(feats))
    return torch.cat(scores)


# -- the dataset ------------------------------------------------------------

def test_dataset_items_and_registry() -> None:
    data = DATASETS.build(dict(type='MotionDataset', num_samples=16, seed=5,
                               test_mode=True))
    assert len(data) == 16
    assert list(data.metainfo['classes']) == MOTION_CLASSES
    item = data[9]
    assert item['inputs'].shape == (1, 3, 16, 64, 64)
    assert item['inputs'].dtype == torch.uint8
    assert int(item['data_samples'].gt_label) == 9 % 8
    # Deterministic, and a seed is a split.
    assert torch.equal(item['inputs'], data[9]['inputs'])
    other = MotionDataset(num_samples=16, seed=6, test_mode=True)
    assert not torch.equal(item['inputs'], other[9]['inputs'])


def test_test_mode_matches_stimuli() -> None:
    """Item i is clip k = i // 8 of class i % 8 as make_stimuli draws it."""
    data = MotionDataset(num_samples=24, seed=0, test_mode=True,
                         resample_each_epoch=True, warmup_epochs=3)
    data.set_epoch(1)  # ignored in test mode
    for index in (3, 13, 22):
        label, k = index % 8, index // 8
        expected = render_motion_clip(label, np.random.default_rng(
            [0, label, k]))
        assert torch.equal(data[index]['inputs'][0],
                           torch.from_numpy(expected).permute(3, 0, 1, 2))


def test_training_resampling_and_warmup() -> None:
    data = MotionDataset(num_samples=64, seed=1, resample_each_epoch=True,
                         warmup_epochs=4)
    assert data.clean_fraction == 1.0
    clip0, _ = data.get_clip(5)
    data.set_epoch(2)
    assert data.clean_fraction == 0.5
    clip2, _ = data.get_clip(5)
    assert not np.array_equal(clip0, clip2)  # fresh clips each epoch
    data.set_epoch(4)
    assert data.clean_fraction == 0.0
    # Clean warm-up clips: black background, no distractor.
    assert (clip0[:, 0, 0] == 0).all()


def test_clean_clips_keep_scene_and_motion() -> None:
    for label in range(8):
        plain = render_motion_sample(label, np.random.default_rng(3))
        clean = render_motion_sample(label, np.random.default_rng(3),
                                     clean=True)
        np.testing.assert_array_equal(plain.centers, clean.centers)
        np.testing.assert_array_equal(plain.fg_masks, clean.fg_masks)
        assert not clean.distractor_mask.any()
        assert clean.background.max() == 0
        # Only anti-aliased shape edges are lit outside the shapes.
        assert (clean.video[~clean.fg_mask] > 0).mean() < 0.05
    # The default output does not change with the new argument.
    assert np.array_equal(
        render_motion_clip(2, np.random.default_rng(4)),
        render_motion_clip(2, np.random.default_rng(4), clean=False))


def test_data_preprocessor_batches_dataset_items() -> None:
    with DefaultScope.overwrite_default_scope('leaps_mm'):
        pre = MODELS.build(_config('target').model.data_preprocessor)
    data = MotionDataset(num_samples=4, seed=2, test_mode=True)
    batch = pre(dict(inputs=[data[i]['inputs'] for i in range(4)],
                     data_samples=[data[i]['data_samples'] for i in range(4)]))
    assert batch['inputs'].shape == (4, 1, 3, 16, 64, 64)
    assert batch['inputs'].dtype == torch.float32
    assert abs(float(batch['inputs'].mean())) < 1.5


# -- the trained models -----------------------------------------------------

@pytest.mark.parametrize('name', list(MODELS_))
def test_checkpoint_is_small_and_self_describing(name: str) -> None:
    path = osp.join(CHECKPOINTS, MODELS_[name][1])
    assert osp.getsize(path) < 4 * 2**20
    checkpoint = torch.load(path, map_location='cpu', weights_only=True)
    assert set(checkpoint) == {'state_dict', 'meta'}
    assert list(checkpoint['meta']['dataset_meta']['classes']) == \
        MOTION_CLASSES
    assert all(v.dtype in (torch.float32, torch.int64)
               for v in checkpoint['state_dict'].values())


@pytest.mark.parametrize('name', list(MODELS_))
def test_held_out_top1(name: str, held_out) -> None:
    clips, labels = held_out
    predictions = predict(trained(name), clips).argmax(1)
    top1 = float((predictions == labels).float().mean())
    assert top1 >= MIN_TOP1[name], f'{name}: held-out top-1 {top1:.3f}'


def test_families() -> None:
    """Three different architectures, the judge a transformer; the verifier
    has BatchNorm."""
    backbones = {n: type(trained(n).backbone).__name__ for n in MODELS_}
    assert backbones == dict(target='ResNet3d', verifier='ResNet2Plus1d',
                             judge='MViT')
    assert any(isinstance(m, torch.nn.BatchNorm3d)
               for m in trained('verifier').modules())


@pytest.mark.parametrize('name', list(MODELS_))
def test_recognises_the_shipped_stimuli(name: str) -> None:
    """data/stimuli (make_stimuli.py, seed 0, mp4-encoded) as decoded."""
    from leaps_mm.fileio.video_io import read_video
    stimuli = osp.join(REPO, 'data', 'stimuli')
    with open(osp.join(stimuli, 'stimuli.txt')) as file:
        jobs = [line.split() for line in file if line.strip()]
    clips = torch.stack([
        torch.from_numpy(read_video(osp.join(stimuli, path))).permute(
            3, 0, 1, 2)[None] for path, _ in jobs])
    labels = torch.tensor([int(label) for _, label in jobs])
    top1 = float((predict(trained(name), clips).argmax(1) == labels)
                 .float().mean())
    assert top1 >= STIMULI_TOP1[name], f'{name}: stimuli top-1 {top1:.3f}'


@pytest.mark.parametrize('name', list(NOISY_TOP1))
def test_robust_to_pixel_noise(name: str, held_out) -> None:
    clips, labels = held_out
    noise = torch.randn(clips.shape,
                        generator=torch.Generator().manual_seed(0)) * 30
    noisy = (clips.float() + noise).round().clamp(0, 255)
    top1 = float((predict(trained(name), noisy).argmax(1) == labels)
                 .float().mean())
    assert top1 >= NOISY_TOP1[name], f'{name}: noisy top-1 {top1:.3f}'


def fgsm_top1(model: torch.nn.Module, clips: torch.Tensor,
              labels: torch.Tensor, epsilon: float) -> float:
    """Top-1 on ``clips`` moved by one signed-gradient step of ``epsilon``
    grey levels that raises the model's cross-entropy."""
    pixels = clips.float().requires_grad_(True)
    pre = model.data_preprocessor
    feats, _ = model.extract_feat(
        (pixels - pre.mean.view(1, 1, 3, 1, 1, 1))
        / pre.std.view(1, 1, 3, 1, 1, 1))
    loss = torch.nn.functional.cross_entropy(model.cls_head(feats), labels)
    grad, = torch.autograd.grad(loss, pixels)
    attacked = (pixels.detach() + epsilon * grad.sign()).clamp(0, 255)
    return float((predict(model, attacked).argmax(1) == labels)
                 .float().mean())


def test_target_is_adversarially_robust(held_out) -> None:
    """The target's stage 3 (train_r3d_robust.py) against its stage 2
    (r3d_noise.pth): at 8 grey levels, 0.45 against 0.20 when measured."""
    clips, labels = held_out
    with DefaultScope.overwrite_default_scope('leaps_mm'):
        noise_tuned = MODELS.build(_config('target').model)
    load_recognizer_checkpoint(
        noise_tuned, osp.join(CHECKPOINTS, 'r3d_noise.pth'))
    robust = fgsm_top1(trained('target'), clips, labels, 8.0)
    fragile = fgsm_top1(noise_tuned.eval(), clips, labels, 8.0)
    assert robust >= 0.35 and robust >= fragile + 0.15, (robust, fragile)


def test_time_reversal_swaps_left_and_right() -> None:
    """The classes differ only by motion: played backwards, 'move left'
    becomes 'move right' (and back) for the target model."""
    left, right = MOTION_CLASSES.index('move left'), \
        MOTION_CLASSES.index('move right')
    clips, labels = [], []
    for k in range(12):
        for label in (left, right):
            clip = render_motion_clip(label, np.random.default_rng(
                [HELD_OUT_SEED + 1, label, k]))
            clips.append(torch.from_numpy(clip).permute(3, 0, 1, 2)[None])
            labels.append(label)
    clips, labels = torch.stack(clips), torch.tensor(labels)
    model = trained('target')
    forward = predict(model, clips).argmax(1)
    backward = predict(model, clips.flip(3)).argmax(1)  # time axis
    swapped = torch.where(labels == left, right, left)
    assert float((forward == labels).float().mean()) >= 0.9
    assert float((backward == swapped).float().mean()) >= 0.8
