"""x* with a fixed amplitude spectrum: only the phases are optimised."""
import math
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from leaps_mm.registry import MODELS
from .base import VideoParameterization
from .fourier import spectrum_scale


@MODELS.register_module()
class PhaseFourierVideo(VideoParameterization):
    """A magnitude-constrained space-time spectrum (MACO, Fel et al. 2023,
    in 3-D): ``signal = irfftn(A · e^{iφ})`` over (T, H, W), with the
    amplitude ``A`` ``(N, C, T, H, W // 2 + 1)`` fixed per job and the phase
    ``φ`` (same shape) the latent. x* can only rearrange the energy of the
    amplitude, never add high-frequency power it does not have, which keeps
    it out of the low-amplitude, high-frequency patterns that fool one model
    and no other.

    A space-time amplitude spectrum holds motion: a pattern translating with
    velocity ``v`` puts its energy on the plane ``f_t = -v·f``, so
    ``amplitude='stimulus'`` hands x* the stimulus' motion energy before any
    step (on the demo, x* with random phases and the stimulus' amplitude,
    not optimised at all, was named correctly by the MViT on 9 of 16
    videos, chance 2). Use it to study that, not as a visualisation of what
    the model learned; ``'batch'`` (the default) and ``'natural'`` carry no
    job's motion.

    Args:
        amplitude: ``'stimulus'`` — the job's stimulus' amplitude spectrum
            (resized to x*'s size, in the target's normalised space; the
            stimulus' colour statistics too); ``'batch'`` — the mean amplitude
            over the batch's stimuli (the same for every job: no job copies
            its own stimulus' spectrum); ``'natural'`` — ``1 / f`` scaled to
            ``init_std`` per element (needs no stimulus).
        time_weight: weight of temporal frequencies in the ``'natural'``
            spectrum.
        **kwargs: see :class:`VideoParameterization`; ``colour`` applies after
            the inverse FFT, so keep ``'rgb'`` with a stimulus amplitude
            (it already holds the stimulus' colours).
    """

    AMPLITUDES = ('stimulus', 'batch', 'natural')

    def __init__(self, amplitude: str = 'batch', time_weight: float = 1.0,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if amplitude not in self.AMPLITUDES:
            raise ValueError(f'PhaseFourierVideo.amplitude must be one of '
                             f'{self.AMPLITUDES}, got {amplitude!r}.')
        self.amplitude_source = amplitude
        self.time_weight = float(time_weight)
        self.register_buffer('amplitude', torch.zeros(0), persistent=False)
        self._stimulus: Optional[torch.Tensor] = None

    def reset(self, shape: Tuple[int, ...],
              generators: Sequence[Optional[torch.Generator]],
              stimulus: Optional[torch.Tensor] = None) -> None:
        if self.amplitude_source != 'natural' and stimulus is None:
            raise ValueError(f"PhaseFourierVideo(amplitude="
                             f"'{self.amplitude_source}') needs a stimulus "
                             "video per job; use amplitude='natural' without "
                             'stimuli.')
        self._stimulus = stimulus
        super().reset(shape, generators, stimulus)

    def init_latents(self, shape: Tuple[int, ...],
                     generators: Sequence[Optional[torch.Generator]]) -> None:
        self.size = tuple(shape[2:])
        device = self.pixel_mean.device
        half = shape[:4] + (shape[4] // 2 + 1, )
        if self.amplitude_source == 'natural':
            scale = spectrum_scale(self.size, 1.0, self.time_weight)
            # a white signal of std s has rfft amplitude ~ s (norm='ortho')
            amplitude = (scale * self.init_std).to(device).expand(half)
        else:
            stimulus = F.interpolate(self._stimulus.to(device).float(),
                                     size=self.size, mode='trilinear',
                                     align_corners=False)
            amplitude = torch.fft.rfftn(stimulus, dim=(-3, -2, -1),
                                        norm='ortho').abs()
            if self.amplitude_source == 'batch':
                amplitude = amplitude.mean(0, keepdim=True).expand(half)
        self.amplitude = amplitude.contiguous()
        phases = [torch.rand(half[1:], generator=g) for g in generators]
        self.latent = nn.Parameter(
            (torch.stack(phases) * 2 * math.pi - math.pi).to(device))

    def signal(self) -> torch.Tensor:
        spectrum = torch.polar(self.amplitude, self.latent)
        return torch.fft.irfftn(spectrum, s=self.size, dim=(-3, -2, -1),
                                norm='ortho')
