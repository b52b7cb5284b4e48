"""Additive pixel noise on x*."""
import torch

from leaps_mm.registry import MODELS
from .base import Generators, VideoTransform, uniform


@MODELS.register_module()
class RandomGaussianNoise(VideoTransform):
    """``x + σ ε`` with ``ε ~ N(0, 1)`` per element and ``σ ~ U(std)`` per
    job, in the target's normalised units. The class evidence has to
    survive noise that a low-amplitude adversarial pattern does not.

    Args:
        std: ``(low, high)`` of the per-job noise std.
    """
    corrupts = True

    def __init__(self, std=(0.0, 0.3)) -> None:
        super().__init__()
        self.std = (float(std[0]), float(std[1]))

    def forward(self, video: torch.Tensor,
                generators: Generators) -> torch.Tensor:
        sigma = uniform(generators, *self.std).to(video)
        noise = torch.stack([torch.randn(video.shape[1:], generator=g)
                             for g in generators]).to(video)
        return video + sigma.reshape(-1, 1, 1, 1, 1) * noise
