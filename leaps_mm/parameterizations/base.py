"""The interface every parameterisation of x* follows."""
from typing import ClassVar, Optional, Sequence, Tuple

import torch
from torch import nn

from .colour import colour_mixing

VALUE_RANGES = ('clip', 'sigmoid', None)


class ClampToRange(torch.autograd.Function):
    """``clamp(x, low, high)`` with per-channel tensor bounds; the gradient
    passes where ``low <= x <= high`` (as ``torch.clamp``'s). One clamp and a
    saved bool mask: ``torch.maximum(torch.minimum(...))`` costs twice the
    passes forward and four times backward, ~1 ms a step on a 16×64² x*."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, low: torch.Tensor,
                high: torch.Tensor) -> torch.Tensor:
        out = torch.clamp(x, low, high)
        ctx.save_for_backward(out == x)
        return out

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        inside, = ctx.saved_tensors
        return grad * inside, None, None


class VideoParameterization(nn.Module):
    """x* as a function of trainable latents: ``forward() -> (N, C, T, H, W)``
    in the target's normalised space.

    A subclass makes the latents in :meth:`init_latents` (every latent has the
    job axis first, so a job's latents, gradients and optimiser state never
    mix with its batch-mates') and maps them to an unconstrained ``signal``
    ``(N, C, T, H, W)`` in normalised units. The base class then

    1. mixes colours (``colour='decorrelated'``): ``signal`` holds the
       coordinates along the principal colour axes of the job's stimulus,
       mapped back with the square root of its colour covariance, so a step
       moves correlated (natural) colours rather than independent channels;
    2. maps to the valid pixel range [0, 255]: ``'clip'`` clamps (gradients
       vanish outside the range; a pixel latent is also projected back after
       every step, the paper's set-up), ``'sigmoid'`` squashes
       ``255 · sigmoid(signal)`` smoothly, ``None`` leaves the range open.

    Args:
        init_std: std of the Gaussian latents x* starts from.
        colour: ``'rgb'`` (channels as they are) or ``'decorrelated'``.
        value_range: ``'clip'``, ``'sigmoid'`` or None.
    """

    # the latent is the video itself (at some resolution): with 'clip' and
    # 'rgb' it is projected back to the valid range after every step
    latent_is_pixels: ClassVar[bool] = False

    def __init__(self, init_std: float = 1.0, colour: str = 'rgb',
                 value_range: Optional[str] = 'clip') -> None:
        super().__init__()
        if colour not in ('rgb', 'decorrelated'):
            raise ValueError(f"colour must be 'rgb' or 'decorrelated', got "
                             f'{colour!r}.')
        if value_range not in VALUE_RANGES:
            raise ValueError(f'value_range must be one of {VALUE_RANGES}, got '
                             f'{value_range!r}.')
        self.init_std = float(init_std)
        self.colour = colour
        self.value_range = value_range
        self.register_buffer('pixel_mean', torch.zeros(3, 1, 1, 1),
                             persistent=False)
        self.register_buffer('pixel_std', torch.ones(3, 1, 1, 1),
                             persistent=False)
        self.register_buffer('colour_matrix', torch.zeros(0))

    def bind(self, pixel_mean: torch.Tensor, pixel_std: torch.Tensor) -> None:
        """Set the target's normalisation, ``(C, 1, 1, 1)`` on the 0–255
        scale."""
        self.pixel_mean = pixel_mean.clone()
        self.pixel_std = pixel_std.clone()

    def reset(self, shape: Tuple[int, ...],
              generators: Sequence[Optional[torch.Generator]],
              stimulus: Optional[torch.Tensor] = None) -> None:
        """New latents for ``N = shape[0]`` jobs of x* shape ``(N, C, T, H,
        W)``, each from its own generator; ``stimulus`` (normalised, ``(N, C,
        T', H', W')``) sets the colour mixing."""
        device = self.pixel_mean.device
        n, channels = shape[0], shape[1]
        self.colour_matrix = (colour_mixing(stimulus.to(device).float())
                              if self.colour == 'decorrelated'
                              and stimulus is not None else
                              torch.eye(channels, device=device).expand(
                                  n, channels, channels).clone())
        self.init_latents(tuple(shape), generators)

    def init_latents(self, shape: Tuple[int, ...],
                     generators: Sequence[Optional[torch.Generator]]) -> None:
        raise NotImplementedError

    def signal(self) -> torch.Tensor:
        """The unconstrained video ``(N, C, T, H, W)`` before colour mixing
        and range mapping."""
        raise NotImplementedError

    def noise(self, shape: Tuple[int, ...],
              generators: Sequence[Optional[torch.Generator]]) -> torch.Tensor:
        """``N(0, init_std²)`` of ``shape``, row ``j`` from ``generators[j]``."""
        rows = [torch.randn(shape[1:], generator=g) for g in generators]
        return torch.stack(rows).to(self.pixel_mean.device) * self.init_std

    def forward(self) -> torch.Tensor:
        video = self.signal()
        if self.colour == 'decorrelated':
            video = torch.einsum('ncd,ndthw->ncthw', self.colour_matrix, video)
        if self.value_range == 'sigmoid':
            return (255 * torch.sigmoid(video) - self.pixel_mean) / self.pixel_std
        if self.value_range == 'clip':
            return ClampToRange.apply(video, *self.valid_range())
        return video

    def valid_range(self) -> Tuple[torch.Tensor, torch.Tensor]:
        """Normalised images of pixel values 0 and 255, ``(C, 1, 1, 1)``."""
        return ((0 - self.pixel_mean) / self.pixel_std,
                (255 - self.pixel_mean) / self.pixel_std)

    @torch.no_grad()
    def after_step(self) -> None:
        """Called after every optimiser step; projects (:meth:`project_`).
        A subclass with a schedule over the steps advances it here."""
        self.project_()

    @torch.no_grad()
    def project_(self) -> None:
        """Called after every optimiser step: clamps a pixel latent to the
        valid range (``'clip'``, ``'rgb'``); nothing otherwise."""
        if (self.latent_is_pixels and self.value_range == 'clip'
                and self.colour == 'rgb'):
            low, high = self.valid_range()
            self.latent.data = torch.maximum(torch.minimum(self.latent, high),
                                             low)
