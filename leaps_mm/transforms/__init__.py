"""Random differentiable transforms of x*, applied in config order every
step before the networks see it (registered in ``MODELS``, chosen by
``leaps.inverter.transforms``)."""
from .base import VideoTransform
from .blur import RandomGaussianBlur, gaussian_kernels
from .noise import RandomGaussianNoise
from .pipeline import apply_transforms
from .spatial import (AffineVideoTransform, RandomHorizontalFlip, RandomRoll,
                      RandomRotation, RandomScale, affine_warp, compose_affine)
from .temporal import RandomTemporalShift, RandomTimeReversal

__all__ = ['VideoTransform', 'AffineVideoTransform', 'apply_transforms',
           'RandomGaussianBlur', 'RandomGaussianNoise', 'gaussian_kernels', 'RandomHorizontalFlip',
           'RandomRoll', 'RandomRotation', 'RandomScale', 'affine_warp',
           'compose_affine', 'RandomTemporalShift', 'RandomTimeReversal']
