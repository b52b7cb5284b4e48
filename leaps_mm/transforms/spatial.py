"""Random spatial transforms: roll, scale, rotation, horizontal flip."""
import math
from typing import Sequence

import torch
import torch.nn.functional as F

from leaps_mm.registry import MODELS
from .base import Generators, VideoTransform, coin, randint, uniform


def affine_warp(video: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """Warp every frame of job ``j`` by the affine map ``theta[j]`` ``(N, 2,
    3)`` (normalised coordinates), reflecting at the borders."""
    n, c, t, h, w = video.shape
    # one image of T frames per colour channel: grid_sample's CPU backward
    # is parallel over images only, so one image per job would leave one of
    # two cores idle at N = 1 (same values; 1.7x faster there on 2 cores)
    theta = theta.to(video).repeat_interleave(c, 0)
    grid = F.affine_grid(theta, [n * c, t, h, w], align_corners=False)
    warped = F.grid_sample(video.reshape(n * c, t, h, w), grid,
                           mode='bilinear', padding_mode='reflection',
                           align_corners=False)
    return warped.view(n, c, t, h, w)


def compose_affine(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """The ``(N, 2, 3)`` map whose single :func:`affine_warp` equals warping
    by ``first`` and then by ``second``.

    ``grid_sample`` maps output to input coordinates, so the second warp reads
    the first's output at ``second(p)``, which reads the input at
    ``first(second(p))``.
    """
    last_row = second.new_tensor([0.0, 0.0, 1.0]).expand(len(second), 1, 3)
    return first @ torch.cat([second, last_row], 1)


class AffineVideoTransform(VideoTransform):
    """A random affine warp of every frame, given by its map :meth:`theta`;
    consecutive ones in a pipeline are composed and resampled once (see
    :func:`leaps_mm.transforms.apply_transforms`)."""

    def theta(self, generators: Generators) -> torch.Tensor:
        """This step's maps ``(N, 2, 3)``, output to input in normalised
        coordinates, one per job from its generator."""
        raise NotImplementedError

    def forward(self, video: torch.Tensor,
                generators: Generators) -> torch.Tensor:
        return affine_warp(video, self.theta(generators))


def _gather_pixels(video: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``out[n, c, t].flatten()[p] = video[n, c, t].flatten()[index[n, p]]``
    for ``video`` ``(N, C, T, H, W)`` and ``index`` ``(N, H*W)``."""
    flat = video.reshape(video.shape[0], -1, index.shape[1])
    return flat.gather(2, index[:, None].expand(-1, flat.shape[1], -1)
                       ).view(video.shape)


def _roll_index(dy: torch.Tensor, dx: torch.Tensor, h: int,
                w: int) -> torch.Tensor:
    """Source pixel of every output pixel of a circular shift of each job's
    ``(H, W)`` frames by ``(dy[n], dx[n])``, flattened: ``(N, H*W)``."""
    rows = (torch.arange(h)[None, :, None] - dy[:, None, None]) % h
    cols = (torch.arange(w)[None, None, :] - dx[:, None, None]) % w
    return (rows * w + cols).reshape(len(dy), -1)


class _PermutePixels(torch.autograd.Function):
    """Each job's frames with their pixels permuted by its own ``index``;
    the backward gathers by the inverse permutation (one pass each way; a
    per-job ``torch.roll`` and stack takes about twice as long on CPUs)."""

    @staticmethod
    def forward(ctx, video: torch.Tensor, index: torch.Tensor,
                inverse: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(inverse)
        return _gather_pixels(video, index)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        inverse, = ctx.saved_tensors
        return _gather_pixels(grad, inverse), None, None


@MODELS.register_module()
class RandomRoll(VideoTransform):
    """Circular shift of every frame by up to ``max_shift`` pixels along H and
    W (the lucid-style jitter)."""

    def __init__(self, max_shift: int = 4) -> None:
        super().__init__()
        self.max_shift = int(max_shift)

    def forward(self, video: torch.Tensor,
                generators: Generators) -> torch.Tensor:
        dy = randint(generators, -self.max_shift, self.max_shift)
        dx = randint(generators, -self.max_shift, self.max_shift)
        h, w = video.shape[3:]
        # rolling back by (-dy, -dx) is the inverse permutation
        return _PermutePixels.apply(
            video, _roll_index(dy, dx, h, w).to(video.device),
            _roll_index(-dy, -dx, h, w).to(video.device))


@MODELS.register_module()
class RandomScale(AffineVideoTransform):
    """Zoom by a factor drawn from ``scale = (low, high)`` about the centre."""

    def __init__(self, scale: Sequence[float] = (0.9, 1.1)) -> None:
        super().__init__()
        self.scale = tuple(float(s) for s in scale)

    def theta(self, generators: Generators) -> torch.Tensor:
        factor = uniform(generators, *self.scale)
        theta = torch.zeros(len(factor), 2, 3)
        theta[:, 0, 0] = theta[:, 1, 1] = 1 / factor
        return theta


@MODELS.register_module()
class RandomRotation(AffineVideoTransform):
    """Rotate every frame by an angle drawn from ``[-degrees, degrees]``."""

    def __init__(self, degrees: float = 5.0) -> None:
        super().__init__()
        self.degrees = float(degrees)

    def theta(self, generators: Generators) -> torch.Tensor:
        angle = uniform(generators, -self.degrees, self.degrees) * math.pi / 180
        cos, sin = angle.cos(), angle.sin()
        theta = torch.zeros(len(angle), 2, 3)
        theta[:, 0, 0], theta[:, 0, 1] = cos, -sin
        theta[:, 1, 0], theta[:, 1, 1] = sin, cos
        return theta


@MODELS.register_module()
class RandomHorizontalFlip(VideoTransform):
    """Mirror left-right with probability ``p``. Opt-in only: it turns
    'move left' into 'move right' and swaps rotation directions."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        self.p = float(p)

    def forward(self, video: torch.Tensor,
                generators: Generators) -> torch.Tensor:
        flip = coin(generators, self.p).to(video.device)
        return torch.where(flip[:, None, None, None, None], video.flip(4),
                           video)
