"""Per-sample channel means and variances of tapped activations.

A tapped input ``x`` (a BatchNorm input ``(N[*k], C, ...)``, or a LayerNorm
input ``(..., C)``) is reduced over every axis but the sample and the
channel, to ``(N, C)``. Each layer contributes only its sums, ``Σx`` and,
for variances, ``Σx²`` (one read of ``x`` each, no temporary); the means
and variances of all layers of a pass are then made at once on the
concatenated sums, ``(N, Σ C_l)`` (:class:`LayerSums`).

The sums of eval-mode BatchNorm inputs are taken inside the layer, with one
backward for the layer and its sums (:mod:`.batchnorm_sums`); the others
(:func:`channel_sums`, from the taps' hooks) with torch's autograd:
``Σx`` backward is a broadcast view (no pass over ``x``), ``Σx²`` (via
``||x||``) backward one ``x * g / ||x||``; both nodes are made before the
layer runs, so autograd computes them only when the backward reaches the
layer, after the layer's own input gradient, into which it adds them in
place.
"""
import functools
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import torch

Moments = Tuple[torch.Tensor, Optional[torch.Tensor]]


@dataclass(frozen=True)
class Layout:
    """How a tapped input holds its channels.

    Args:
        channels_last: LayerNorm inputs ``(..., C)``; else BatchNorm inputs
            ``(N[*k], C, ...)``.
        batch_dim: where the (possibly merged) batch is, for channels-last.
    """
    channels_last: bool
    batch_dim: int = 0


def _is_channels_last_3d(x: torch.Tensor, batch_size: int) -> bool:
    """``(N, C, T, H, W)`` stored channels-last-3d (C varies fastest)."""
    return (x.dim() == 5 and x.shape[0] == batch_size and x.shape[1] > 1
            and x.is_contiguous(memory_format=torch.channels_last_3d))


def channel_view(x: torch.Tensor, batch_size: int, layout: Layout
                 ) -> Tuple[torch.Tensor, Tuple[int, ...]]:
    """``x`` with the sample and channel axes apart, and the axes to reduce:
    ``(N, L, C)`` over ``(1, )`` for channels-last data (LayerNorm inputs,
    BatchNorm inputs stored channels-last-3d: reduced along memory), else
    ``(N, k, C, S)`` over ``(1, 3)``."""
    if layout.channels_last:
        if layout.batch_dim != 0:
            x = x.movedim(layout.batch_dim, 0)
        return x.reshape(batch_size, -1, x.shape[-1]), (1, )
    if _is_channels_last_3d(x, batch_size):
        return x.permute(0, 2, 3, 4, 1).reshape(batch_size, -1,
                                                x.shape[1]), (1, )
    return x.reshape(batch_size, x.shape[0] // batch_size, x.shape[1],
                     -1), (1, 3)


def channel_sums(x: torch.Tensor, batch_size: int, layout: Layout,
                 variance: bool = False) -> Tuple[torch.Tensor,
                                                  Optional[torch.Tensor]]:
    """``Σx`` and ``Σx²`` (None without ``variance``), both ``(N, C)`` in
    fp32 or wider."""
    view, dims = channel_view(x, batch_size, layout)
    dtype = torch.promote_types(view.dtype, torch.float32)
    total = view.sum(dims, dtype=dtype)
    squares = (torch.linalg.vector_norm(view, dim=dims, dtype=dtype).square()
               if variance else None)
    return total, squares


@functools.lru_cache(maxsize=16)
def _channel_counts(counts: Tuple[int, ...], sizes: Tuple[int, ...],
                    dtype: torch.dtype, device: str) -> torch.Tensor:
    """Each concatenated channel's count of summed values, ``(Σ C_l,)``,
    made once per layout and device (no host-to-device copy per step)."""
    return torch.repeat_interleave(
        torch.tensor(counts, dtype=dtype, device=device),
        torch.tensor(sizes, device=device))


@dataclass
class LayerSums:
    """The sums of the layers of one pass, in the order they ran."""
    variance: bool
    totals: List[torch.Tensor] = field(default_factory=list)
    squares: List[torch.Tensor] = field(default_factory=list)
    counts: List[int] = field(default_factory=list)

    def add(self, x: torch.Tensor, batch_size: int, layout: Layout) -> None:
        """Take the sums of a tapped input ``x``."""
        self.append(x, *channel_sums(x, batch_size, layout, self.variance))

    def append(self, x: torch.Tensor, total: torch.Tensor,
               squares: Optional[torch.Tensor]) -> None:
        """Keep sums ``(N, C)`` of ``x`` taken elsewhere."""
        self.totals.append(total)
        self.squares.append(squares)
        self.counts.append(x.numel() // total.numel())

    @property
    def sizes(self) -> List[int]:
        """Channels per layer."""
        return [total.shape[-1] for total in self.totals]

    def moments(self) -> Moments:
        """Means and biased variances ``E[x²] - E[x]²`` (None without) of
        all layers, ``(N, Σ C_l)``. Relative error ~1e-6 in fp32 for
        activations whose mean is a few standard deviations, which a
        regulariser does not feel; several times cheaper on CPU than
        ``torch.var_mean``'s Welford loop."""
        total = torch.cat(self.totals, -1)
        count = _channel_counts(tuple(self.counts), tuple(self.sizes),
                                total.dtype, str(total.device))
        mean = total / count
        if not self.variance:
            return mean, None
        power = torch.cat(self.squares, -1) / count
        return mean, (power - mean.square()).clamp_min(0)
