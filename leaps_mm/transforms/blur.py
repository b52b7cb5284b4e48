"""Random Gaussian blur of every frame."""
from typing import Sequence

import torch
import torch.nn.functional as F

from leaps_mm.registry import MODELS
from .base import Generators, VideoTransform, coin, uniform


def gaussian_kernels(sigma: torch.Tensor, radius: int) -> torch.Tensor:
    """Normalised 1-D Gaussians ``(N, 2 radius + 1)``; sigma 0 is identity."""
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float32)
    safe = sigma.clamp(min=1e-6)[:, None]
    kernels = torch.exp(-0.5 * (offsets / safe) ** 2)
    return kernels / kernels.sum(-1, keepdim=True)


@MODELS.register_module()
class RandomGaussianBlur(VideoTransform):
    """With probability ``p``, blur every frame with a Gaussian of std drawn
    from ``sigma = (low, high)`` pixels (separable, reflecting borders)."""

    def __init__(self, sigma: Sequence[float] = (0.5, 1.0),
                 p: float = 0.5) -> None:
        super().__init__()
        self.sigma = tuple(float(s) for s in sigma)
        self.p = float(p)
        self.radius = max(1, int(round(2 * self.sigma[1])))

    def forward(self, video: torch.Tensor,
                generators: Generators) -> torch.Tensor:
        n, c, t, h, w = video.shape
        sigma = uniform(generators, *self.sigma) * coin(generators, self.p)
        kernel = gaussian_kernels(sigma, self.radius).to(video)
        kernel = kernel.repeat_interleave(c, 0)  # one per (job, channel)
        r = self.radius
        x = video.reshape(1, n * c, t, h, w)
        x = F.pad(x.reshape(1, n * c * t, h, w), (r, r, r, r), mode='reflect')
        x = x.reshape(1, n * c, t, h + 2 * r, w + 2 * r)
        x = F.conv3d(x, kernel[:, None, None, :, None], groups=n * c)
        x = F.conv3d(x, kernel[:, None, None, None, :], groups=n * c)
        return x.reshape(n, c, t, h, w)
