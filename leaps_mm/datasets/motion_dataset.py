"""The procedural motion clips of :mod:`leaps_mm.datasets.motion` as a
dataset for mmengine's Runner and MMAction2's recognizers.

Clips are rendered on the fly, deterministically from ``seed``: item ``i`` is
class ``i % 8`` and clip ``k = i // 8`` of that class, drawn from
``np.random.default_rng([seed, label, k])``, exactly as
``tools/make_stimuli.py --seed SEED`` draws its clips (before mp4 encoding).
A split is a seed: use different seeds for training and held-out data.

For training, ``resample_each_epoch=True`` draws fresh clips every epoch
(``default_rng([seed, label, k, epoch])``), and ``warmup_epochs > 0`` renders
a share of them clean and high-contrast (see ``render_motion_clip(clean=True)``)
that falls linearly from 1 at epoch 0 to 0 at ``warmup_epochs``. Both need
the epoch: add ``MotionEpochHook`` to ``custom_hooks``.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import torch
from mmaction.structures import ActionDataSample
from mmengine.hooks import Hook
from torch.utils.data import Dataset

from leaps_mm.registry import DATASETS, HOOKS
from .motion import MOTION_CLASSES, render_motion_clip

__all__ = ['MotionDataset', 'MotionEpochHook', 'motion_clip_index']


def motion_clip_index(index: int) -> tuple[int, int]:
    """(label, k) of dataset item ``index``: classes interleaved."""
    return index % len(MOTION_CLASSES), index // len(MOTION_CLASSES)


@DATASETS.register_module()
class MotionDataset(Dataset):
    """Procedural 8-class motion clips, packed like MMAction2's
    ``FormatShape(NCTHW)`` + ``PackActionInputs``: each item is
    ``dict(inputs=uint8 tensor (1, 3, T, H, W), data_samples=ActionDataSample)``
    with ``gt_label`` set.

    Args:
        num_samples: clips per epoch (balanced over the classes when a
            multiple of 8).
        seed: the split.
        num_frames, size: clip length and frame size.
        test_mode: held-out use: no warm-up and no resampling, whatever the
            other arguments say; the clips then equal the stimuli that
            ``tools/make_stimuli.py --seed seed`` renders.
        resample_each_epoch: draw fresh clips every epoch (training).
        warmup_epochs: epochs over which clean, high-contrast clips are
            phased out (0: never any).
        noise_std: training augmentation: Gaussian pixel noise with a std
            drawn from U(0, noise_std) per clip (0–255 scale), so a model
            does not hinge on noise-free pixels (0: none; never in test
            mode).
    """

    def __init__(self,
                 num_samples: int = 1024,
                 seed: int = 0,
                 num_frames: int = 16,
                 size: int = 64,
                 test_mode: bool = False,
                 resample_each_epoch: bool = False,
                 warmup_epochs: float = 0,
                 noise_std: float = 0.0,
                 pipeline: Optional[Sequence] = None) -> None:
        if num_samples < 1:
            raise ValueError(f'num_samples must be >= 1, got {num_samples}')
        if pipeline:
            raise ValueError('MotionDataset packs its clips itself; it takes '
                             'no pipeline.')
        self.num_samples = int(num_samples)
        self.seed = int(seed)
        self.num_frames = int(num_frames)
        self.size = int(size)
        self.test_mode = bool(test_mode)
        self.resample_each_epoch = bool(resample_each_epoch) and not test_mode
        self.warmup_epochs = 0.0 if test_mode else float(warmup_epochs)
        self.noise_std = 0.0 if test_mode else float(noise_std)
        self.epoch = 0

    @property
    def metainfo(self) -> dict:
        return dict(classes=tuple(MOTION_CLASSES))

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    @property
    def clean_fraction(self) -> float:
        """Share of clean clips at the current epoch."""
        if self.warmup_epochs <= 0:
            return 0.0
        return float(max(0.0, 1.0 - self.epoch / self.warmup_epochs))

    def __len__(self) -> int:
        return self.num_samples

    def get_clip(self, index: int) -> tuple[np.ndarray, int]:
        """(T, H, W, 3) uint8 clip and its label."""
        if not -self.num_samples <= index < self.num_samples:
            raise IndexError(index)
        index %= self.num_samples
        label, k = motion_clip_index(index)
        key = [self.seed, label, k]
        if self.resample_each_epoch:
            key.append(self.epoch)
        rng = np.random.default_rng(key)
        clean = False
        fraction = self.clean_fraction
        if fraction > 0:
            # A separate stream, so the warm-up never changes the scene.
            coin = np.random.default_rng(key + [1 << 20]).random()
            clean = bool(coin < fraction)
        clip = render_motion_clip(label, rng, num_frames=self.num_frames,
                                  size=self.size, clean=clean)
        if self.noise_std > 0:
            # its own stream too: the scene stays what it is without noise
            noise_rng = np.random.default_rng(key + [2 << 20])
            std = noise_rng.uniform(0, self.noise_std)
            noisy = clip + noise_rng.normal(0, std, clip.shape)
            clip = noisy.round().clip(0, 255).astype(np.uint8)
        return clip, label

    def __getitem__(self, index: int) -> dict:
        clip, label = self.get_clip(index)
        # (T, H, W, C) -> (num_clips=1, C, T, H, W), as FormatShape('NCTHW').
        inputs = torch.from_numpy(
            np.ascontiguousarray(clip.transpose(3, 0, 1, 2)[None]))
        sample = ActionDataSample()
        sample.set_gt_label(label)
        sample.set_metainfo(dict(sample_idx=index, num_clips=1, clip_len=
                                 self.num_frames, img_shape=(self.size,
                                                             self.size)))
        return dict(inputs=inputs, data_samples=sample)


@HOOKS.register_module()
class MotionEpochHook(Hook):
    """Tells the training ``MotionDataset`` the epoch (for resampling and the
    warm-up); the dataloader's workers must not be persistent."""

    priority = 'NORMAL'

    def before_train_epoch(self, runner) -> None:
        dataset = runner.train_dataloader.dataset
        if hasattr(dataset, 'set_epoch'):
            dataset.set_epoch(runner.epoch)
            fraction = getattr(dataset, 'clean_fraction', 0.0)
            if fraction > 0:
                runner.logger.info(f'MotionDataset epoch {runner.epoch}: '
                                   f'{fraction:.0%} clean warm-up clips')
