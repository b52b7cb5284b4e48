"""Random differentiable transforms of x*, applied in config order every
step before the networks see it (registered in ``MODELS``, chosen by
``leaps.inverter.transforms``)."""
from .base import VideoTransform
from .blur import RandomGaussianBlur, gaussian_kernels
from .spatial import (RandomHorizontalFlip, RandomRoll, RandomRotation,
                      RandomScale, affine_warp)
from .temporal import RandomTemporalShift, RandomTimeReversal

__all__ = ['VideoTransform', 'RandomGaussianBlur', 'gaussian_kernels',
           'RandomHorizontalFlip', 'RandomRoll', 'RandomRotation',
           'RandomScale', 'affine_warp', 'RandomTemporalShift',
           'RandomTimeReversal']
