"""Applying a list of transforms to x*, with consecutive affine warps fused."""
from typing import Iterable, Optional

import torch

from .base import Generators, VideoTransform
from .spatial import AffineVideoTransform, affine_warp, compose_affine


def apply_transforms(transforms: Iterable[VideoTransform],
                     video: torch.Tensor,
                     generators: Generators) -> torch.Tensor:
    """Apply ``transforms`` in order to ``video`` ``(N, C, T, H, W)``.

    Runs of consecutive :class:`AffineVideoTransform` s (e.g. scale then
    rotation) are composed into one map and resampled once: the same random
    draws in the same order as one by one, one bilinear interpolation (and
    its backward) instead of several, so less time and less blur.
    """
    pending: Optional[torch.Tensor] = None
    for transform in transforms:
        if isinstance(transform, AffineVideoTransform):
            theta = transform.theta(generators)
            pending = (theta if pending is None else
                       compose_affine(pending, theta))
            continue
        if pending is not None:
            video, pending = affine_warp(video, pending), None
        video = transform(video, generators)
    return video if pending is None else affine_warp(video, pending)
