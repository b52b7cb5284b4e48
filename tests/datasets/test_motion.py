"""Tests for the procedural motion clips in leaps_mm.datasets.motion."""
from __future__ import annotations

import time

import numpy as np
import pytest

from leaps_mm.datasets.motion import (MOTION_CLASSES, render_motion_clip,
                                      render_motion_sample)

SEEDS = range(6)


def sample(name: str, seed: int, **kwargs):
    return render_motion_sample(MOTION_CLASSES.index(name),
                                np.random.default_rng(seed), **kwargs)


def centroids(mask: np.ndarray) -> np.ndarray:
    """(T, 2) centroid (x, y) of a (T, H, W) mask."""
    ys, xs = np.mgrid[0:mask.shape[1], 0:mask.shape[2]]
    area = mask.sum(axis=(1, 2))
    assert (area > 0).all()
    return np.stack([(mask * xs).sum((1, 2)) / area,
                     (mask * ys).sum((1, 2)) / area], axis=1)


def test_classes() -> None:
    assert len(MOTION_CLASSES) == 8 == len(set(MOTION_CLASSES))
    assert MOTION_CLASSES[:2] == ['move left', 'move right']


@pytest.mark.parametrize('class_index', range(8))
def test_shape_dtype_and_determinism(class_index: int) -> None:
    a = render_motion_clip(class_index, np.random.default_rng(7))
    b = render_motion_clip(class_index, np.random.default_rng(7))
    c = render_motion_clip(class_index, np.random.default_rng(8))
    assert a.shape == (16, 64, 64, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.std() > 5  # not a flat image


def test_custom_size_and_bad_arguments() -> None:
    clip = render_motion_clip(0, np.random.default_rng(0), num_frames=8,
                              size=32)
    assert clip.shape == (8, 32, 32, 3)
    with pytest.raises(ValueError):
        render_motion_clip(8, np.random.default_rng(0))
    with pytest.raises(ValueError):
        render_motion_clip(0, np.random.default_rng(0), num_frames=1)


def test_same_seed_same_scene_across_classes() -> None:
    """Only the motion differs: the middle frame of opposite motions of a
    scene match, and the background is identical for every class."""
    for seed in SEEDS:
        left, right = sample('move left', seed), sample('move right', seed)
        assert np.array_equal(left.background, right.background)
        # Centred time: with an odd number of frames the middle one is equal.
        l7 = sample('move left', seed, num_frames=15).video[7]
        r7 = sample('move right', seed, num_frames=15).video[7]
        assert np.array_equal(l7, r7)
        for name in MOTION_CLASSES[2:]:
            assert np.array_equal(sample(name, seed).background,
                                  left.background)


@pytest.mark.parametrize('name,axis,sign', [('move left', 0, -1),
                                            ('move right', 0, 1),
                                            ('move up', 1, -1),
                                            ('move down', 1, 1)])
def test_translation_direction(name: str, axis: int, sign: int) -> None:
    for seed in SEEDS:
        clip = sample(name, seed)
        for mask in clip.fg_masks:
            c = centroids(mask)
            steps = np.diff(c[:, axis])
            assert sign * (c[-1, axis] - c[0, axis]) > 15
            assert (sign * steps > 0).mean() > 0.9
            # The other coordinate stays put.
            assert np.ptp(c[:, 1 - axis]) < 1.5


def test_left_right_mirror_motion() -> None:
    for seed in SEEDS:
        left, right = sample('move left', seed), sample('move right', seed)
        dl = centroids(left.fg_mask)[:, 0]
        dr = centroids(right.fg_mask)[:, 0]
        assert dl[-1] < dl[0] and dr[-1] > dr[0]


@pytest.mark.parametrize('name,sign', [('expand', 1), ('contract', -1)])
def test_scaling(name: str, sign: int) -> None:
    for seed in SEEDS:
        clip = sample(name, seed)
        for mask in clip.fg_masks:
            area = mask.sum(axis=(1, 2)).astype(float)
            assert (sign * np.diff(area) >= -2).all()
            ratio = area[-1] / area[0]
            assert (ratio if sign > 0 else 1 / ratio) > 2.0
            assert np.ptp(centroids(mask), axis=0).max() < 1.5


@pytest.mark.parametrize('name,sign', [('rotate clockwise', 1),
                                       ('rotate counterclockwise', -1)])
def test_rotation_direction(name: str, sign: int) -> None:
    """The accent half turns around the shape centre; clockwise on screen
    (y down) means an increasing atan2(dy, dx)."""
    for seed in SEEDS:
        clip = sample(name, seed)
        for mask, accent in zip(clip.fg_masks, clip.accent_masks):
            centre = centroids(mask)
            rel = centroids(accent) - centre
            angle = np.unwrap(np.arctan2(rel[:, 1], rel[:, 0]))
            assert sign * (angle[-1] - angle[0]) > np.deg2rad(90)
            assert (sign * np.diff(angle) > 0).mean() > 0.9
            assert np.ptp(centre, axis=0).max() < 1.5


def test_distractor_jitters_without_drift() -> None:
    for seed in SEEDS:
        clip = sample('expand', seed)
        c = centroids(clip.distractor_mask)
        assert np.ptp(c, axis=0).max() > 0.5  # it moves ...
        assert np.ptp(c, axis=0).max() < 20  # ... but stays near its anchor


def test_shapes_are_drawn_into_the_video() -> None:
    for seed in SEEDS:
        clip = sample('move down', seed)
        diff = np.abs(clip.video.astype(int) - clip.background).sum(-1)
        top = clip.fg_masks[-1]  # the last shape is drawn on top
        assert diff[top].mean() > 60
        covered = clip.fg_mask | clip.distractor_mask
        # Away from every shape (allowing the anti-aliased rim, which is
        # wider at triangle tips) it is the untouched background.
        grown = covered.copy()
        for dy in range(-2, 3):
            for dx in range(-2, 3):
                grown |= np.roll(covered, (dy, dx), axis=(1, 2))
        assert diff[~grown].max() <= 1


def test_render_speed() -> None:
    rng = np.random.default_rng(0)
    render_motion_clip(0, rng)  # warm up
    start = time.perf_counter()
    for i in range(10):
        render_motion_clip(i % 8, rng)
    per_clip = (time.perf_counter() - start) / 10
    assert per_clip < 0.05
