"""Priors on the input video itself, for the 3D DeepDream / 3D AM baselines."""
from typing import Tuple

import torch

from leaps_mm.registry import MODELS
from .base import InversionState, LossTerm


class _TotalVariation(torch.autograd.Function):
    """Per-sample ``Σ_a w_a · mean |diff(x, a)|`` over the time, height and
    width axes of ``(N, C, T, H, W)``, with a hand-written backward: the
    signs of each axis' differences are added into one gradient tensor in
    place (autograd's slicing backward writes a zero-filled full-size tensor
    per slice, six a step; about half the time on CPUs)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor,
                weights: Tuple[float, float, float]) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.weights = weights
        total = x.new_zeros(x.shape[0])
        for axis, weight in zip((2, 3, 4), weights):
            if weight and x.shape[axis] > 1:
                diff = x.diff(dim=axis)
                total += torch.linalg.vector_norm(
                    diff.flatten(1), ord=1, dim=1) * (weight / diff[0].numel())
        return total

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x, = ctx.saved_tensors
        out = torch.zeros_like(x)
        for axis, weight in zip((2, 3, 4), ctx.weights):
            length = x.shape[axis]
            if weight and length > 1:
                step = x.diff(dim=axis).sign_()
                step.mul_((grad * (weight * length / x[0].numel() /
                                   (length - 1))).view(-1, 1, 1, 1, 1))
                out.narrow(axis, 1, length - 1).add_(step)
                out.narrow(axis, 0, length - 1).sub_(step)
        return out, None


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
        return _TotalVariation.apply(state.video.float(),
                                     (self.time_weight, 1.0, 1.0))


@MODELS.register_module()
class InputNormLoss(LossTerm):
    """Mean squared value of x* (its l2 norm squared over the element count)."""
    name = 'l2'

    def compute(self, state: InversionState) -> torch.Tensor:
        # a norm, squared: one pass forward and one backward (pow(2) then
        # mean takes four on CPUs)
        flat = state.video.float().flatten(1)
        return torch.linalg.vector_norm(flat, dim=1).square() / flat.shape[1]
