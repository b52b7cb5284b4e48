"""Random Gaussian blur of every frame."""
from typing import Sequence

import torch

from leaps_mm.registry import MODELS
from .base import Generators, VideoTransform, coin, uniform


def gaussian_kernels(sigma: torch.Tensor, radius: int) -> torch.Tensor:
    """Normalised 1-D Gaussians ``(N, 2 radius + 1)``; sigma 0 is identity."""
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float32)
    safe = sigma.clamp(min=1e-6)[:, None]
    kernels = torch.exp(-0.5 * (offsets / safe) ** 2)
    return kernels / kernels.sum(-1, keepdim=True)


def blur_matrices(kernels: torch.Tensor, size: int) -> torch.Tensor:
    """Correlation with each kernel ``(N, 2 r + 1)`` along an axis of
    ``size`` samples with reflected borders (``F.pad(mode='reflect')``), as
    matrices ``(N, size, size)``: ``out = M @ x``."""
    n, width = kernels.shape
    radius = (width - 1) // 2
    if radius >= size:
        raise ValueError(f'blur radius {radius} needs frames larger than '
                         f'{radius} pixels, got {size}.')
    index = (torch.arange(size)[:, None]
             + torch.arange(-radius, radius + 1)[None]).abs()
    index = torch.where(index > size - 1, 2 * (size - 1) - index, index)
    matrices = torch.zeros(n, size, size, dtype=kernels.dtype)
    return matrices.scatter_add_(2, index.expand(n, size, width),
                                 kernels[:, None].expand(n, size, width))


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
        h, w = video.shape[3:]
        sigma = uniform(generators, *self.sigma) * coin(generators, self.p)
        if not bool((sigma > 0).any()):  # drawn on the CPU: no device sync
            return video
        kernels = gaussian_kernels(sigma, self.radius)
        # separable blur as two small matrix products per frame (faster than
        # a grouped convolution with its backward on CPUs, and than one
        # einsum, which permutes copies around its products)
        rows = blur_matrices(kernels, h).to(video)
        cols = blur_matrices(kernels, w).to(video)
        n, c, t = video.shape[:3]
        along_w = torch.matmul(video.reshape(n, c * t * h, w),
                               cols.transpose(1, 2))
        return torch.matmul(rows[:, None], along_w.view(n, c * t, h, w)
                            ).view(video.shape)
