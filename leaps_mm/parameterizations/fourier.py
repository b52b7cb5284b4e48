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
        **kwargs: see :class:`VideoParameterization`; the signal's std is
            about ``init_std`` at the start.
    """

    def __init__(self, decay: float = 1.0, time_weight: float = 1.0,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.decay = float(decay)
        self.time_weight = float(time_weight)
        self.register_buffer('scale', torch.zeros(0), persistent=False)

    def init_latents(self, shape: Tuple[int, ...],
                     generators: Sequence[Optional[torch.Generator]]) -> None:
        self.size = tuple(shape[2:])
        self.scale = spectrum_scale(self.size, self.decay, self.time_weight
                                    ).to(self.pixel_mean.device)
        half = shape[:4] + (shape[4] // 2 + 1, 2)
        # a real white signal has half its power in each of the two parts
        self.latent = nn.Parameter(self.noise(half, generators) / math.sqrt(2))

    def signal(self) -> torch.Tensor:
        spectrum = torch.view_as_complex(self.latent) * self.scale
        return torch.fft.irfftn(spectrum, s=self.size, dim=(-3, -2, -1),
                                norm='ortho')
