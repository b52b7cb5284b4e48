"""The interface of the random differentiable transforms applied to x*."""
from typing import ClassVar, Optional, Sequence

import torch
from torch import nn

Generators = Sequence[Optional[torch.Generator]]


def uniform(generators: Generators, low: float, high: float) -> torch.Tensor:
    """One draw from U(low, high) per job, ``(N,)``, from its generator."""
    return torch.stack([low + (high - low) * torch.rand((), generator=g)
                        for g in generators])


def randint(generators: Generators, low: int, high: int) -> torch.Tensor:
    """One integer in ``[low, high]`` per job, ``(N,)``."""
    return torch.stack([torch.randint(low, high + 1, (), generator=g)
                        for g in generators])


def coin(generators: Generators, p: float) -> torch.Tensor:
    """One Bernoulli(p) draw per job, ``(N,)`` bool."""
    return uniform(generators, 0.0, 1.0) < p


class VideoTransform(nn.Module):
    """A random, differentiable map of x* ``(N, C, T, H, W)`` to the same
    shape, redrawn every step. Job ``j``'s parameters come from
    ``generators[j]`` (seeded per job), so a job sees the same transforms
    alone or in any batch.

    ``corrupts``: True for a corruption (pixel noise) that the class
    evidence has to survive but that is not part of the video: the
    verifier's feature statistics (R_feat) read x* before the first such
    transform.
    """
    corrupts: ClassVar[bool] = False

    def forward(self, video: torch.Tensor,
                generators: Generators) -> torch.Tensor:
        raise NotImplementedError
