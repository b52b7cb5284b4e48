"""x* made by an untrained convolutional decoder: a deep video prior."""
import math
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from leaps_mm.registry import MODELS
from .base import VideoParameterization


def grouped_conv3d(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Each job's own 3-D convolution, all jobs in one call.

    Args:
        x: ``(N, C_in, T, H, W)``.
        weight: ``(N, C_out, C_in, k, k, k)``, job ``j``'s kernels in row j.

    Returns:
        ``(N, C_out, T, H, W)``, replicate-padded (no dark frame border).
    """
    n, c_in = x.shape[:2]
    c_out, k = weight.shape[1], weight.shape[-1]
    x = F.pad(x.reshape(1, n * c_in, *x.shape[2:]), (k // 2, ) * 6,
              mode='replicate')
    out = F.conv3d(x, weight.reshape(n * c_out, c_in, k, k, k), groups=n)
    return out.reshape(n, c_out, *out.shape[2:])


@MODELS.register_module()
class GeneratorVideo(VideoParameterization):
    """x*_j = G_j(z_j): job ``j``'s own small untrained 3-D convolutional
    decoder maps a fixed random code ``z_j`` to the video, and its weights
    are the latents (Ulyanov et al.'s deep image prior, in space-time). The
    decoder's structure (upsampling, 3x3x3 convolutions, LeakyReLUs) favours
    piecewise-smooth, object-like regions over pixel patterns.

    The code is ``(N, code_channels, T, H / 2^u, W / 2^u)`` for
    ``u = len(widths) - 1``; each of the ``u`` stages doubles height and
    width (nearest) and applies a 3x3x3 convolution, a per-job instance
    normalisation (over T, H, W) and a LeakyReLU; a 1x1x1 convolution makes
    the three channels. There are no biases: a bias moves a whole video's
    colour at the step size and saturates it within a few dozen steps.
    Weights are stored in units of their He-initialisation scale (equalised
    learning rate), so the optimiser's step is a relative change in every
    layer alike.

    Args:
        widths: channels of the code-resolution layer and of each stage;
            ``(16, 8, 8)`` (measured in docs/experiments.md): the code grid
            at a quarter of x*'s side.
        code_channels: channels of the fixed random code.
        kernel_size: of the convolutions (odd).
        **kwargs: see :class:`VideoParameterization`; ``init_std`` is the
            std of the initial video in normalised units.
    """

    def __init__(self, widths: Sequence[int] = (16, 8, 8),
                 code_channels: int = 16, kernel_size: int = 3,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        widths = tuple(int(w) for w in widths)
        if not widths or min(widths) < 1 or code_channels < 1:
            raise ValueError('GeneratorVideo needs widths of at least one '
                             f'positive channel count and code_channels >= 1, '
                             f'got widths={widths!r}, '
                             f'code_channels={code_channels!r}.')
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError('GeneratorVideo.kernel_size must be odd, got '
                             f'{kernel_size!r}.')
        self.widths = widths
        self.code_channels = int(code_channels)
        self.kernel_size = int(kernel_size)
        self.weights = nn.ParameterList()
        self.register_buffer('code', torch.zeros(0))
        self.register_buffer('output_gain', torch.ones(0))

    def _layer_shapes(self) -> list:
        """(C_out, C_in, k) of every convolution, the 1x1x1 output last."""
        k = self.kernel_size
        ins = (self.code_channels, ) + self.widths[:-1]
        return ([(c_out, c_in, k) for c_out, c_in in zip(self.widths, ins)]
                + [(3, self.widths[-1], 1)])

    def init_latents(self, shape: Tuple[int, ...],
                     generators: Sequence[Optional[torch.Generator]]) -> None:
        n, _, t, h, w = shape
        self.size = (t, h, w)
        down = 2 ** (len(self.widths) - 1)
        grid = (t, math.ceil(h / down), math.ceil(w / down))
        device = self.pixel_mean.device
        std = self.init_std

        def standard(shape_: Tuple[int, ...]) -> torch.Tensor:
            rows = [torch.randn(shape_, generator=g) for g in generators]
            return torch.stack(rows).to(device)

        self.code = standard((self.code_channels, ) + grid)
        self.weights = nn.ParameterList(
            [nn.Parameter(standard((c_out, c_in) + (k, ) * 3))
             for c_out, c_in, k in self._layer_shapes()])
        # one gain per job, fixed at the start: the initial video has std
        # init_std whatever the depth and widths
        self.output_gain = torch.ones(n, 1, 1, 1, 1, device=device)
        with torch.no_grad():
            initial = self.signal()
            self.output_gain = std / initial.flatten(1).std(1).clamp_min(
                1e-8).view(n, 1, 1, 1, 1)

    def signal(self) -> torch.Tensor:
        x = self.code
        last = len(self.weights) - 1
        for i, weight in enumerate(self.weights):
            if 0 < i < last:
                x = F.interpolate(x, scale_factor=(1, 2, 2), mode='nearest')
            fan_in = weight[0, 0].numel()
            x = grouped_conv3d(x, weight * math.sqrt(2.0 / fan_in))
            if i < last:
                x = F.leaky_relu(F.instance_norm(x), 0.2)
        x = x[..., :self.size[1], :self.size[2]]
        return x * self.output_gain
