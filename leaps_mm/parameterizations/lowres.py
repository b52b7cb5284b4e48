"""x* optimised at a lower resolution and upsampled."""
import math
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from leaps_mm.registry import MODELS
from .base import VideoParameterization


@MODELS.register_module()
class LowResVideo(VideoParameterization):
    """Free pixels on a grid ``factor`` times coarser, upsampled trilinearly:
    latent ``(N, C, ⌈T/f_t⌉, ⌈H/f_s⌉, ⌈W/f_s⌉)``. Detail finer than the grid
    cannot appear, in space and/or time.

    Args:
        factor: ``(f_t, f_h, f_w)``; ``(1, 4, 4)`` keeps every frame and
            optimises a quarter of the spatial resolution.
        **kwargs: see :class:`VideoParameterization`.
    """

    # trilinear upsampling only averages: a clamped grid stays in range
    latent_is_pixels = True

    def __init__(self, factor: Sequence[int] = (1, 4, 4), **kwargs) -> None:
        super().__init__(**kwargs)
        if len(factor) != 3 or min(factor) < 1:
            raise ValueError('LowResVideo.factor must be three integers >= 1 '
                             f'(time, height, width), got {factor!r}.')
        self.factor = tuple(int(f) for f in factor)

    def init_latents(self, shape: Tuple[int, ...],
                     generators: Sequence[Optional[torch.Generator]]) -> None:
        self.size = tuple(shape[2:])
        coarse = tuple(math.ceil(s / f) for s, f in zip(self.size, self.factor))
        self.latent = nn.Parameter(self.noise(shape[:2] + coarse, generators))
        self.project_()

    def signal(self) -> torch.Tensor:
        return F.interpolate(self.latent, size=self.size, mode='trilinear',
                             align_corners=False)
