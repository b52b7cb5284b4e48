"""Adversarial training of a 3D recognizer (FGSM with a random start).

A recognizer trained this way has input gradients that point towards
features of its classes rather than towards imperceptible patterns, so an
inversion of it shows motion that other models recognise too.
"""
from __future__ import annotations

import torch
from mmaction.models.recognizers import Recognizer3D

from leaps_mm.registry import MODELS


@MODELS.register_module()
class AdversarialRecognizer3D(Recognizer3D):
    """``Recognizer3D`` whose training loss is computed on adversarial
    inputs: per batch, a uniform random start in the l-inf ball of radius
    ``epsilon`` and one signed-gradient step of size ``step_size``, projected
    back to the ball and to the pixel range (``fast adversarial training``).

    Prediction is unchanged; the checkpoint loads into a plain
    ``Recognizer3D``.

    Args:
        epsilon: l-inf radius on the pixel scale of the data (e.g. 0-255).
        step_size: signed-gradient step on the same scale (1.25 * epsilon
            is the usual choice for one step).
        pixel_range: valid pixel values before normalisation.
        **kwargs: ``Recognizer3D`` arguments.
    """

    def __init__(self, epsilon: float = 8.0, step_size: float = 10.0,
                 pixel_range: tuple[float, float] = (0.0, 255.0),
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if epsilon < 0 or step_size < 0:
            raise ValueError('epsilon and step_size must be >= 0, got '
                             f'{epsilon} and {step_size}')
        self.epsilon = float(epsilon)
        self.step_size = float(step_size)
        self.pixel_range = pixel_range

    def _pixel_scale(self, inputs: torch.Tensor):
        """(mean, std) broadcastable to ``inputs`` (N, clips, C, T, H, W),
        or (0, 1) without normalisation."""
        preprocessor = self.data_preprocessor
        if not getattr(preprocessor, '_enable_normalize', False):
            return inputs.new_zeros(()), inputs.new_ones(())
        return preprocessor.mean.to(inputs), preprocessor.std.to(inputs)

    def classification_loss(self, inputs: torch.Tensor,
                            data_samples) -> torch.Tensor:
        """Scalar training loss of ``Recognizer3D`` on ``inputs`` as given
        (no attack)."""
        losses = super().loss(inputs, data_samples)
        return sum(v for k, v in losses.items() if 'loss' in k)

    def adversarial_inputs(self, inputs: torch.Tensor,
                           data_samples) -> torch.Tensor:
        """Normalised ``inputs`` (N, clips, C, T, H, W) moved by one FGSM
        step from a random start; same shape, no graph."""
        if self.epsilon == 0:
            return inputs
        mean, std = self._pixel_scale(inputs)
        pixels = inputs.detach() * std + mean
        delta = torch.empty_like(pixels).uniform_(-self.epsilon,
                                                  self.epsilon)
        delta.requires_grad_(True)
        low, high = self.pixel_range
        with torch.enable_grad():
            attacked = ((pixels + delta).clamp(low, high) - mean) / std
            loss = self.classification_loss(attacked, data_samples)
            grad, = torch.autograd.grad(loss, delta)
        delta = (delta.detach() + self.step_size * grad.sign()).clamp(
            -self.epsilon, self.epsilon)
        return ((pixels + delta).clamp(low, high) - mean) / std

    def loss(self, inputs: torch.Tensor, data_samples, **kwargs) -> dict:
        return super().loss(self.adversarial_inputs(inputs, data_samples),
                            data_samples, **kwargs)
