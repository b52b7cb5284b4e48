"""Random temporal transforms: shift and (opt-in) time reversal."""
import torch

from leaps_mm.registry import MODELS
from .base import Generators, VideoTransform, coin, randint


@MODELS.register_module()
class RandomTemporalShift(VideoTransform):
    """Shift the frames by up to ``max_shift`` steps, repeating the first or
    last frame into the gap (no wrap-around: that would add a jump cut)."""

    def __init__(self, max_shift: int = 1) -> None:
        super().__init__()
        self.max_shift = int(max_shift)

    def forward(self, video: torch.Tensor,
                generators: Generators) -> torch.Tensor:
        n, c, t = video.shape[:3]
        shifts = randint(generators, -self.max_shift, self.max_shift)
        index = (torch.arange(t)[None] - shifts[:, None]).clamp(0, t - 1)
        # one index_select over the (N*C*T) frames of the whole batch: its
        # backward (index_add) is ~3x cheaper on CPUs than gather's
        # scatter_add over a full-size index, and one op instead of N
        frames = (torch.arange(n * c)[:, None] * t
                  + index.repeat_interleave(c, 0)).flatten()
        return video.reshape(n * c * t, -1).index_select(
            0, frames.to(video.device)).view(video.shape)


@MODELS.register_module()
class RandomTimeReversal(VideoTransform):
    """Play backwards with probability ``p``. Opt-in only: it swaps the
    meaning of direction-sensitive classes (expand/contract, rotations)."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        self.p = float(p)

    def forward(self, video: torch.Tensor,
                generators: Generators) -> torch.Tensor:
        reverse = coin(generators, self.p).to(video.device)
        return torch.where(reverse[:, None, None, None, None], video.flip(2),
                           video)
