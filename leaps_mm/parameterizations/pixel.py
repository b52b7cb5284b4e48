"""x* as free pixels (the paper's parameterisation)."""
from typing import Optional, Sequence, Tuple

import torch
from torch import nn

from leaps_mm.registry import MODELS
from .base import VideoParameterization


@MODELS.register_module()
class PixelVideo(VideoParameterization):
    """One free value per pixel, channel and frame: latent ``(N, C, T, H,
    W)``.

    With ``value_range='clip'`` and ``colour='rgb'`` this is the paper's
    set-up exactly: x* is Gaussian noise in the normalised space, clamped to
    the normalised image of [0, 255] after every step.
    """
    latent_is_pixels = True

    def init_latents(self, shape: Tuple[int, ...],
                     generators: Sequence[Optional[torch.Generator]]) -> None:
        self.latent = nn.Parameter(self.noise(shape, generators))
        self.project_()

    def signal(self) -> torch.Tensor:
        return self.latent
