"""x* as a space-time spectrum with a 1/f decay."""
import math
from typing import Optional, Sequence, Tuple

import torch
from torch import nn

from leaps_mm.registry import MODELS
from .base import VideoParameterization


def spectrum_scale(size: Tuple[int, int, int], decay: float,
                   time_weight: float = 1.0) -> torch.Tensor:
    """``1 / f^decay`` per coefficient of a real 3-D FFT of ``size = (T, H,
    W)``, ``(T, H, W // 2 + 1)``, with ``f = √((w f_t)² + f_h² + f_w²)`` in
    cycles per sample (the DC term uses the lowest non-zero frequency), scaled
    to root-mean-square 1."""
    t, h, w = size
    f_t = torch.fft.fftfreq(t)[:, None, None] * time_weight
    f_h = torch.fft.fftfreq(h)[None, :, None]
    f_w = torch.fft.rfftfreq(w)[None, None, :]
    freq = (f_t ** 2 + f_h ** 2 + f_w ** 2).sqrt()
    scale = freq.clamp(min=1.0 / max(size)).pow(-decay)
    return scale / scale.pow(2).mean().sqrt()


@MODELS.register_module()
class FourierVideo(VideoParameterization):
    """The video's real 3-D spectrum over (T, H, W) is the latent,
    ``(N, C, T, H, W // 2 + 1, 2)`` (real and imaginary parts), multiplied by
    ``1 / f^decay`` before the inverse FFT. With Adam every coefficient moves
    at about the same rate, so the decay makes low space-time frequencies
    change fastest: the natural-image (and natural-video) 1/f spectrum instead
    of the white spectrum that adversarial pixel noise has.

    Args:
        decay: exponent of the decay (1 for natural images).
        time_weight: weight of the temporal frequency in ``f``; above 1 damps
            flicker more than spatial detail.
        band_start: coarse-to-fine: at the first step only frequencies up to
            this fraction of the highest one, per axis (T, H, W), take part,
            as if x* were optimised at ``band_start`` times its resolution
            in space and time; the band then widens linearly to the full
            spectrum over ``band_steps`` steps. 1 (default): full band from
            the start.
        band_steps: steps until the full band.
        **kwargs: see :class:`VideoParameterization`; the signal's std is
            about ``init_std`` at the start.
    """

    def __init__(self, decay: float = 1.0, time_weight: float = 1.0,
                 band_start: float = 1.0, band_steps: int = 0,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if not 0 < band_start <= 1 or band_steps < 0:
            raise ValueError('FourierVideo needs 0 < band_start <= 1 and '
                             f'band_steps >= 0, got band_start={band_start!r}, '
                             f'band_steps={band_steps!r}.')
        self.decay = float(decay)
        self.time_weight = float(time_weight)
        self.band_start = float(band_start)
        self.band_steps = int(band_steps)
        self.register_buffer('scale', torch.zeros(0), persistent=False)
        # steps taken by the current jobs (a job's state keeps it, for resume)
        self.steps_done = 0

    def init_latents(self, shape: Tuple[int, ...],
                     generators: Sequence[Optional[torch.Generator]]) -> None:
        self.size = tuple(shape[2:])
        self.scale = spectrum_scale(self.size, self.decay, self.time_weight
                                    ).to(self.pixel_mean.device)
        half = shape[:4] + (shape[4] // 2 + 1, 2)
        # a real white signal has half its power in each of the two parts
        self.latent = nn.Parameter(self.noise(half, generators) / math.sqrt(2))
        self.steps_done = 0

    def band(self) -> Optional[torch.Tensor]:
        """The coarse-to-fine mask ``(T, H, W // 2 + 1)`` of the current
        step (1 inside the band), or None once the band is full."""
        steps = self.steps_done
        if self.band_start >= 1 or steps >= self.band_steps:
            return None
        cutoff = self.band_start + (1 - self.band_start) * steps / self.band_steps
        t, h, w = self.size
        # 0.5 cycles per sample: the highest frequency on every axis
        limit = cutoff * 0.5
        mask = ((torch.fft.fftfreq(t).abs()[:, None, None] <= limit)
                & (torch.fft.fftfreq(h).abs()[None, :, None] <= limit)
                & (torch.fft.rfftfreq(w)[None, None, :] <= limit))
        return mask.to(self.scale)

    @torch.no_grad()
    def after_step(self) -> None:
        super().after_step()
        self.steps_done += 1

    def get_extra_state(self) -> dict:
        return dict(steps_done=self.steps_done)

    def set_extra_state(self, state: dict) -> None:
        self.steps_done = int(state['steps_done'])

    def signal(self) -> torch.Tensor:
        scale = self.scale
        band = self.band()
        if band is not None:
            scale = scale * band
        spectrum = torch.view_as_complex(self.latent) * scale
        return torch.fft.irfftn(spectrum, s=self.size, dim=(-3, -2, -1),
                                norm='ortho')
