"""Priors on the input video itself, for the 3D DeepDream / 3D AM baselines."""
import torch

from leaps_mm.registry import MODELS
from .base import InversionState, LossTerm


@MODELS.register_module()
class TotalVariationLoss(LossTerm):
    """Mean absolute difference of neighbouring values along time, height and
    width of x* ``(N, C, T, H, W)`` (anisotropic l1 total variation); the three
    axes' means are summed. ``time_weight`` scales the temporal part."""
    name = 'tv'

    def __init__(self, time_weight: float = 1.0, weight: float = 1.0) -> None:
        super().__init__(weight)
        self.time_weight = time_weight

    def compute(self, state: InversionState) -> torch.Tensor:
        x = state.video.float()
        dt = (x[:, :, 1:] - x[:, :, :-1]).abs().flatten(1).mean(1)
        dh = (x[..., 1:, :] - x[..., :-1, :]).abs().flatten(1).mean(1)
        dw = (x[..., 1:] - x[..., :-1]).abs().flatten(1).mean(1)
        return self.time_weight * dt + dh + dw


@MODELS.register_module()
class InputNormLoss(LossTerm):
    """Mean squared value of x* (its l2 norm squared over the element count)."""
    name = 'l2'

    def compute(self, state: InversionState) -> torch.Tensor:
        return state.video.float().pow(2).flatten(1).mean(1)
