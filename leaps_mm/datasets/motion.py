"""Procedural motion clips: eight classes that differ only by motion.

Each clip has a static smooth-noise background, one or two foreground
shapes (square, disk or triangle, two-tone so that rotation is visible)
performing the class motion, and a distractor shape that jitters randomly
in place. All appearance parameters are drawn from ``rng`` in the same order
for every class, so the same seed gives the same scene for every class and
only the motion differs.

Image coordinates are ``x`` to the right and ``y`` downwards; "clockwise"
means clockwise as seen on screen.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    'MOTION_CLASSES',
    'MotionClip',
    'render_motion_clip',
    'render_motion_sample',
]

MOTION_CLASSES: list[str] = [
    'move left',
    'move right',
    'move up',
    'move down',
    'rotate clockwise',
    'rotate counterclockwise',
    'expand',
    'contract',
]

_SHAPES = ('square', 'disk', 'triangle')
# Unit direction (dx, dy) of the translation classes.
_DIRECTIONS = {0: (-1.0, 0.0), 1: (1.0, 0.0), 2: (0.0, -1.0), 3: (0.0, 1.0)}
# Outward edge normals of a triangle inscribed in the unit circle with a
# vertex at angle 0 (its in-radius is 0.5).
_TRI_NORMALS = np.array([[np.cos(a), np.sin(a)]
                         for a in np.deg2rad([180.0, 60.0, -60.0])])


@dataclass(frozen=True)
class MotionClip:
    """A rendered clip with its ground-truth layout.

    ``video``: (T, H, W, 3) uint8; ``background``: (H, W, 3) uint8;
    ``fg_masks`` / ``accent_masks``: (K, T, H, W) bool, the full extent and
    the accent (second-colour) part of each of the K foreground shapes;
    ``distractor_mask``: (T, H, W) bool; ``centers``: (K, T, 2) float (x, y).
    """

    video: np.ndarray
    background: np.ndarray
    fg_masks: np.ndarray
    accent_masks: np.ndarray
    distractor_mask: np.ndarray
    centers: np.ndarray

    @property
    def fg_mask(self) -> np.ndarray:
        """(T, H, W) union of all foreground shape masks."""
        return self.fg_masks.any(axis=0)


def _upsample(grid: np.ndarray, size: int) -> np.ndarray:
    """Bilinearly upsample a (g, g, C) grid to (size, size, C)."""
    g = grid.shape[0]
    pos = np.linspace(0.0, g - 1.0, size)
    i0 = np.clip(np.floor(pos).astype(int), 0, g - 2)
    f = (pos - i0)[:, None]
    rows = grid[i0] * (1 - f[..., None]) + grid[i0 + 1] * f[..., None]
    return rows[:, i0] * (1 - f[None]) + rows[:, i0 + 1] * f[None]


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """Smooth two-colour noise texture as float (H, W, 3) in [0, 255]."""
    coarse = _upsample(rng.random((5, 5, 1)), size)
    fine = _upsample(rng.random((12, 12, 1)), size)
    field = 0.75 * coarse + 0.25 * fine
    field = (field - field.min()) / max(np.ptp(field), 1e-6)
    c1, c2 = rng.uniform(30, 225, size=(2, 3))
    return c1 * (1 - field) + c2 * field


def _far_colour(rng: np.random.Generator, ref: np.ndarray,
                min_dist: float = 110.0) -> np.ndarray:
    """A random RGB colour at least ``min_dist`` away from ``ref``."""
    for _ in range(32):
        colour = rng.uniform(0, 255, size=3)
        if np.linalg.norm(colour - ref) >= min_dist:
            return colour
    return 255.0 - ref  # fallback: complementary colour


def _signed_distance(kind: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Approximate signed distance (canonical units) to a unit shape."""
    if kind == 'disk':
        return np.sqrt(u * u + v * v) - 1.0
    if kind == 'square':
        return np.maximum(np.abs(u), np.abs(v)) - 0.8
    n = _TRI_NORMALS
    return np.maximum.reduce([u * n[k, 0] + v * n[k, 1] for k in range(3)]
                             ) - 0.5


def _draw(kind: str, xs: np.ndarray, ys: np.ndarray, cx: np.ndarray,
          cy: np.ndarray, angle: np.ndarray,
          radius: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Anti-aliased alpha (T, H, W) and accent flag of a shape per frame."""
    dx = xs[None] - cx[:, None, None]
    dy = ys[None] - cy[:, None, None]
    cos, sin = np.cos(angle)[:, None, None], np.sin(angle)[:, None, None]
    r = radius[:, None, None]
    u = (cos * dx + sin * dy) / r
    v = (cos * dy - sin * dx) / r
    dist_px = _signed_distance(kind, u, v) * r
    alpha = np.clip(0.5 - dist_px, 0.0, 1.0)
    return alpha, u > 0.25


def render_motion_sample(class_index: int,
                         rng: np.random.Generator,
                         num_frames: int = 16,
                         size: int = 64,
                         clean: bool = False) -> MotionClip:
    """Render one clip of ``MOTION_CLASSES[class_index]`` with its layout.

    ``clean=True`` renders the same scene and motion (the same draws from
    ``rng``) in a clean, high-contrast form: black background, no
    distractor, white shapes with a red accent. It is meant for a training
    warm-up; the default output is unchanged by the option.
    """
    if not 0 <= class_index < len(MOTION_CLASSES):
        raise ValueError(f'class_index must be in [0, {len(MOTION_CLASSES)}),'
                         f' got {class_index}')
    if num_frames < 2 or size < 16:
        raise ValueError('need num_frames >= 2 and size >= 16')
    T, S = num_frames, float(size)
    t = np.arange(T, dtype=np.float64) - (T - 1) / 2.0  # centred time
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64) + 0.5

    background = _background(rng, size)
    if clean:  # the draws above still happen, so the scene stays the same
        background = np.zeros_like(background)
    bg_mean = background.reshape(-1, 3).mean(0)

    # Distractor: random shape jittering around a fixed anchor.
    d_kind = _SHAPES[rng.integers(len(_SHAPES))]
    d_colour = _far_colour(rng, bg_mean, 80.0)
    d_radius = np.full(T, rng.uniform(0.07, 0.11) * S)
    d_anchor = rng.uniform(0.2 * S, 0.8 * S, size=2)
    d_pos = d_anchor + rng.normal(0.0, 0.03 * S, size=(T, 2))
    d_angle = rng.uniform(0, 2 * np.pi) + rng.normal(0.0, 0.3, size=T)

    # Foreground appearance and motion magnitudes (class independent draws).
    num_fg = int(rng.integers(1, 3))
    fg = []
    for _ in range(num_fg):
        fg.append(dict(
            kind=_SHAPES[rng.integers(len(_SHAPES))],
            colour=_far_colour(rng, bg_mean),
            accent=_far_colour(rng, bg_mean),
            radius=rng.uniform(0.09, 0.14) * S,
            angle0=rng.uniform(0, 2 * np.pi),
            pos01=rng.random(2),
            travel=rng.uniform(0.35, 0.5) * S,
            spin=np.deg2rad(rng.uniform(12.0, 20.0)),
            ratio=rng.uniform(1.8, 2.4),
        ))
        if clean:
            fg[-1].update(colour=np.array([255.0, 255.0, 255.0]),
                          accent=np.array([255.0, 0.0, 0.0]))

    video = np.broadcast_to(background, (T, size, size, 3)).copy()
    alpha, _ = _draw(d_kind, xs, ys, d_pos[:, 0], d_pos[:, 1], d_angle,
                     d_radius)
    if clean:
        alpha = np.zeros_like(alpha)
    video += alpha[..., None] * (d_colour - video)
    distractor_mask = alpha > 0.5

    fg_masks = np.zeros((num_fg, T, size, size), bool)
    accent_masks = np.zeros_like(fg_masks)
    centers = np.zeros((num_fg, T, 2))
    for k, p in enumerate(fg):
        radius = np.full(T, p['radius'])
        angle = np.full(T, p['angle0'])
        if class_index in _DIRECTIONS:
            direction = np.array(_DIRECTIONS[class_index])
            # Keep the whole trajectory inside the frame.
            lo = p['radius'] + np.abs(direction) * p['travel'] / 2
            mid = lo + p['pos01'] * (S - 2 * lo)
            pos = mid + np.outer(t / (T - 1) * p['travel'], direction)
        else:
            max_r = p['radius'] * (np.sqrt(p['ratio'])
                                   if class_index >= 6 else 1.0)
            mid = max_r + p['pos01'] * (S - 2 * max_r)
            pos = np.broadcast_to(mid, (T, 2))
            if class_index == 4:  # clockwise on screen (y points down)
                angle = p['angle0'] + p['spin'] * t
            elif class_index == 5:
                angle = p['angle0'] - p['spin'] * t
            else:
                sign = 1.0 if class_index == 6 else -1.0
                radius = p['radius'] * p['ratio'] ** (sign * t / (T - 1))
        alpha, accent = _draw(p['kind'], xs, ys, pos[:, 0], pos[:, 1], angle,
                              radius)
        colour = np.where(accent[..., None], p['accent'], p['colour'])
        video += alpha[..., None] * (colour - video)
        fg_masks[k] = alpha > 0.5
        accent_masks[k] = fg_masks[k] & accent
        centers[k] = pos

    return MotionClip(
        video=np.clip(np.rint(video), 0, 255).astype(np.uint8),
        background=np.clip(np.rint(background), 0, 255).astype(np.uint8),
        fg_masks=fg_masks,
        accent_masks=accent_masks,
        distractor_mask=distractor_mask,
        centers=centers,
    )


def render_motion_clip(class_index: int,
                       rng: np.random.Generator,
                       num_frames: int = 16,
                       size: int = 64,
                       clean: bool = False) -> np.ndarray:
    """Render a (T, H, W, 3) uint8 RGB clip of ``MOTION_CLASSES[class_index]``
    (``clean``: see :func:`render_motion_sample`).
    """
    return render_motion_sample(class_index, rng, num_frames, size,
                                clean).video
