"""Parameterisations of x*: how the synthesized video is made from the
trainable latents (registered in ``MODELS``, chosen by
``leaps.inverter.parameterization``)."""
from .base import VideoParameterization
from .colour import colour_mixing
from .fourier import FourierVideo, spectrum_scale
from .generator import GeneratorVideo
from .lowres import LowResVideo
from .phase import PhaseFourierVideo
from .pixel import PixelVideo

__all__ = ['VideoParameterization', 'colour_mixing', 'FourierVideo',
           'spectrum_scale', 'GeneratorVideo', 'LowResVideo', 'PhaseFourierVideo', 'PixelVideo']
