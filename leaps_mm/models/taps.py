"""Feature taps: forward pre-hooks (and, for BatchNorm, the layer's own
forward) that capture what LEAPS needs from a recognizer's layers, for every
layout of the paper's architecture families.

A tap hooks the *input* of a module (by default every ``BatchNorm3d`` and
``LayerNorm`` of the backbone, as the official implementation does) and keeps
only the reductions the objective needs, never the whole activation:

* the per-sample channel mean ``(N, C)`` of every tapped layer (priming, eq. 1);
* the activation of one layer reshaped to ``(N, C, T', S)`` (coherence, eq. 2);
* the per-sample channel mean and variance ``(N, C)`` of BatchNorm inputs,
  with the layer's running statistics (feature diversity, eq. 3);
* the channel means over the cells of a coarse space-time grid, ``(N, C,
  g_t g_h g_w)`` per layer (priming on where and when features fire, not
  only how much: :class:`~leaps_mm.losses.PrimingLoss` ``grid``).

The taps take sums (eval-mode BatchNorm layers inside the layer, with one
backward for both; other layers in forward pre-hooks); the means and
variances of all layers are made from them at once when the capture ends
(:mod:`.channel_stats`).

Layouts are recognised from the module kind:

* BatchNorm: channels first, ``(N, C, T, H, W)`` (batch-major merged leading
  dims such as ``(N*T, C, H, W)`` are handled for the means);
* LayerNorm: channels last. 5-D inputs are ``(N, T, H, W, C)`` (Video Swin);
  3-D inputs are token sequences ``(N, [cls] + T'*S, C)`` (MViTv2),
  ``(N, [cls] + S*T', C)`` (TimeSformer, ``time_major=False``) or, with
  ``batch_dim=1``, ``(S', N*T', C)`` (UniFormerV2's CLIP blocks; its
  batch-first norms are named by ``batch_first_layers``). Leading dims merged
  batch-major (``(N*P, T, C)``) also reduce correctly to per-sample means.
"""
import math
import re
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import (Callable, Dict, Iterator, List, Optional, Sequence,
                    Tuple)

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from .batchnorm_sums import BatchNormSums, can_fuse
from .channel_stats import LayerSums, Layout


@dataclass
class TokenGrid:
    """How a 3-D token sequence maps to time.

    Args:
        batch_dim: 0 for ``(N, L, C)``; 1 for sequence-first ``(L, N*T', C)``.
        cls_token: whether the first token (per sample, or per frame when
            ``batch_dim=1``) is a class token, excluded from the time grid.
        temporal_stride: the time grid is ``T' = T_in // temporal_stride``
            for ``batch_dim=0`` (with ``batch_dim=1``, T' is read off the
            merged dimension).
        time_major: for ``batch_dim=0``, whether tokens are ordered time-major
            (``t s``: MViTv2, Swin's patch embedding) or space-major
            (``s t``: TimeSformer's divided space-time layers, ``False``).
        batch_first_layers: regex; with ``batch_dim=1``, modules whose
            qualified name matches still take batch-first inputs (UniFormerV2's
            ``ln_pre`` on ``(N*T, L, C)`` and final ``norm`` on ``(N, C)``).
    """
    batch_dim: int = 0
    cls_token: bool = False
    temporal_stride: int = 1
    time_major: bool = True
    batch_first_layers: Optional[str] = None


@dataclass
class Capture:
    """What one forward pass left in the taps (complete when the capture
    ends)."""
    means: Dict[str, torch.Tensor] = field(default_factory=dict)
    variances: Dict[str, torch.Tensor] = field(default_factory=dict)
    temporal: Optional[torch.Tensor] = None
    cells: Dict[str, torch.Tensor] = field(default_factory=dict)
    # the network's output of the captured forward, where the caller keeps it
    logits: Optional[torch.Tensor] = None
    bn_stats: List[Tuple[torch.Tensor, torch.Tensor, torch.Tensor,
                         torch.Tensor]] = field(default_factory=list)
    # the sums of the tapped layers, made statistics when it ends
    mean_sums: LayerSums = field(
        default_factory=lambda: LayerSums(variance=False), repr=False)
    mean_names: List[str] = field(default_factory=list, repr=False)
    bn_sums: LayerSums = field(
        default_factory=lambda: LayerSums(variance=True), repr=False)
    bn_modules: List[nn.Module] = field(default_factory=list, repr=False)


def to_time_grid(x: torch.Tensor, batch_size: int, num_frames: int,
                 channels_last: bool, grid: TokenGrid) -> Optional[torch.Tensor]:
    """Reshape a tapped activation to ``(N, C, T', S)``, or None when it has
    no recognisable time axis."""
    if not channels_last:
        if x.dim() != 5 or x.shape[0] != batch_size:
            return None
        n, c, t = x.shape[:3]
        return x.reshape(n, c, t, -1)
    if x.dim() == 5 and x.shape[0] == batch_size:  # (N, T, H, W, C)
        n, t, _, _, c = x.shape
        return x.reshape(n, t, -1, c).permute(0, 3, 1, 2)
    if x.dim() != 3:
        return None
    if grid.batch_dim == 1:  # (L, N*T', C), a cls token per frame
        length, merged, c = x.shape
        x = x.permute(1, 0, 2).reshape(batch_size, merged // batch_size,
                                       length, c)
        if grid.cls_token:
            x = x[:, :, 1:]
        return x.permute(0, 3, 1, 2)
    if x.shape[0] != batch_size:
        return None
    if grid.cls_token:
        x = x[:, 1:]
    time = max(num_frames // grid.temporal_stride, 1)
    n, length, c = x.shape
    if length % time:
        return None
    if grid.time_major:
        return x.reshape(n, time, length // time, c).permute(0, 3, 1, 2)
    return x.reshape(n, length // time, time, c).permute(0, 3, 2, 1)


def pool_cells(x: torch.Tensor, batch_size: int, num_frames: int,
               channels_last: bool, grid: TokenGrid,
               cells: Tuple[int, int, int]) -> Optional[torch.Tensor]:
    """A tapped activation averaged over the cells of a ``cells = (g_t, g_h,
    g_w)`` grid of its space-time, ``(N, C, g_t g_h g_w)``, or None when it
    has no recognisable space-time (token sequences need a square spatial
    grid)."""
    if not channels_last and x.dim() == 5 and x.shape[0] == batch_size:
        volume = x
    else:
        z = to_time_grid(x, batch_size, num_frames, channels_last, grid)
        if z is None:
            return None
        side = math.isqrt(z.shape[-1])
        if side == 0 or side * side != z.shape[-1]:
            return None
        volume = z.reshape(z.shape[:3] + (side, side))
    return F.adaptive_avg_pool3d(volume.float(), cells).flatten(2)


class FeatureTaps:
    """Taps on selected modules of one network.

    Args:
        network: the module whose submodules are tapped (e.g. a recognizer).
        module_types: class names of modules to tap (``'BatchNorm3d'``,
            ``'LayerNorm'``, ``'_BatchNormXd'`` (what mmengine's
            ``revert_sync_batchnorm`` turns ``SyncBatchNorm`` into), ...).
        include: regex; only modules whose qualified name matches are tapped.
        exclude: regex; modules whose name matches are skipped.
        token_grid: layout of 3-D LayerNorm inputs (see :class:`TokenGrid`).
        temporal_layer: name of the layer whose activation feeds the coherence
            term; ``None`` picks the last tapped layer, in execution order,
            whose input has a time axis of at least 2 steps.
        fuse_batchnorm: take the sums of eval-mode BatchNorm inputs inside
            the layer (:mod:`.batchnorm_sums`: their gradient rides on the
            layer's own backward) instead of with separate autograd nodes.
            Off for layers recomputed by activation checkpointing.

    Taps do nothing unless :meth:`capture` is active (a fused layer then
    computes what it computed before), keep no tensors outside a capture,
    and are removed by :meth:`remove`.
    """

    def __init__(self,
                 network: nn.Module,
                 module_types: Sequence[str] = ('BatchNorm3d', '_BatchNormXd',
                                                'LayerNorm'),
                 include: Optional[str] = r'^backbone\.',
                 exclude: Optional[str] = None,
                 token_grid: Optional[dict] = None,
                 temporal_layer: Optional[str] = None,
                 fuse_batchnorm: bool = True) -> None:
        self.token_grid = TokenGrid(**(token_grid or {}))
        self.temporal_layer = temporal_layer
        self.modules: Dict[str, nn.Module] = {}
        for name, module in network.named_modules():
            if type(module).__name__ not in module_types:
                continue
            if include and not re.search(include, name):
                continue
            if exclude and re.search(exclude, name):
                continue
            self.modules[name] = module
        if not self.modules:
            raise ValueError(
                f'No module of type {list(module_types)} matches '
                f'include={include!r} exclude={exclude!r} in '
                f'{type(network).__name__}; adjust the `taps` config.')
        if temporal_layer is not None and temporal_layer not in self.modules:
            raise ValueError(
                f'temporal_layer {temporal_layer!r} is not a tapped module; '
                f'tapped modules end with {list(self.modules)[-3:]}.')
        self._batchnorm_sums = BatchNormSums()
        # fused layers and the instance forward each had before (or None)
        self._fused: List[Tuple[nn.Module, Optional[Callable]]] = []
        self._handles = []
        for name, module in self.modules.items():
            observe = self._make_observer(name, module)
            if fuse_batchnorm and isinstance(module, _BatchNorm):
                self._fused.append((module, vars(module).get('forward')))
                module.forward = self._make_forward(name, module, observe)
            else:
                self._handles.append(module.register_forward_pre_hook(
                    lambda _module, args, observe=observe: observe(args[0])))
        self._active: Optional[Capture] = None
        self._want: frozenset = frozenset()
        self._cells: Tuple[int, int, int] = (1, 1, 1)
        self._batch_size = 0
        self._num_frames = 0

    def _make_observer(self, name: str, module: nn.Module):
        """``observe(x, sums=True)``: what a capture wants of the layer's
        input ``x`` (the sums only with ``sums``)."""
        channels_last = not isinstance(module, _BatchNorm)
        grid = self.token_grid
        if grid.batch_first_layers and re.search(grid.batch_first_layers,
                                                 name):
            grid = replace(grid, batch_dim=0)
        layout = Layout(channels_last, grid.batch_dim)

        def observe(x: torch.Tensor, sums: bool = True) -> None:
            capture = self._active
            if capture is None:
                return
            n = self._batch_size
            if sums and 'means' in self._want:
                capture.mean_sums.add(x, n, layout)
                capture.mean_names.append(name)
            if sums and 'bn_stats' in self._want and not channels_last:
                capture.bn_sums.add(x, n, layout)
                capture.bn_modules.append(module)
            if 'temporal' in self._want and (
                    self.temporal_layer is None or name == self.temporal_layer):
                z = to_time_grid(x, n, self._num_frames, channels_last, grid)
                # by default: the last tapped layer with a frame pair
                if z is not None and (self.temporal_layer is not None
                                      or z.shape[2] >= 2):
                    capture.temporal = z
            if 'cells' in self._want:
                z = pool_cells(x, n, self._num_frames, channels_last, grid,
                               self._cells)
                if z is not None:
                    capture.cells[name] = z

        return observe

    def _make_forward(self, name: str, module: _BatchNorm, observe):
        """``module.forward`` that takes the sums of its input inside the
        layer (:mod:`.batchnorm_sums`) when a capture wants them, else
        observes like a hook."""
        plain_forward = module.forward

        def forward(x: torch.Tensor) -> torch.Tensor:
            capture = self._active
            if capture is None:
                return plain_forward(x)
            means = 'means' in self._want
            variance = 'bn_stats' in self._want
            layer_variances = means and 'variances' in self._want
            # a merged batch (N*k, C, ...) or a (N, C) input takes the
            # general path
            if not ((means or variance) and can_fuse(module) and x.dim() > 2
                    and x.shape[0] == self._batch_size):
                observe(x)
                return plain_forward(x)
            observe(x, sums=False)
            y, total, *squares = self._batchnorm_sums(
                module, x, variance or layer_variances)
            if means:
                capture.mean_sums.append(
                    x, total, squares[0] if layer_variances else None)
                capture.mean_names.append(name)
            if variance:
                capture.bn_sums.append(x, total, squares[0])
                capture.bn_modules.append(module)
            return y

        return forward

    @property
    def has_batchnorm(self) -> bool:
        return any(isinstance(m, _BatchNorm) for m in self.modules.values())

    @contextmanager
    def capture(self, batch_size: int, num_frames: int,
                want: Sequence[str] = ('means', ),
                cells: Sequence[int] = (1, 1, 1)) -> Iterator[Capture]:
        """Capture during the forward passes run inside the ``with`` block.

        Args:
            batch_size: N of the input batch (to split merged batch dims).
            num_frames: T of the network input (for token time grids).
            want: any of ``'means'``, ``'variances'`` (with ``'means'``: the
                channels' variances too), ``'temporal'``,
                ``'bn_stats'``, ``'cells'``.
            cells: with ``'cells'``: the grid ``(g_t, g_h, g_w)`` of
                :func:`pool_cells`.
        """
        capture = Capture(mean_sums=LayerSums(variance='variances' in want))
        self._active, self._want = capture, frozenset(want)
        self._cells = tuple(int(c) for c in cells)
        self._batch_size, self._num_frames = batch_size, num_frames
        try:
            yield capture
            self._finish(capture)
        finally:
            self._active = None

    @staticmethod
    def _finish(capture: Capture) -> None:
        """Means and variances of all tapped layers from their sums."""
        sums = capture.mean_sums
        if sums.totals:
            mean, var = sums.moments()
            capture.means.update(zip(capture.mean_names,
                                     mean.split(sums.sizes, -1)))
            if var is not None:
                capture.variances.update(zip(capture.mean_names,
                                             var.split(sums.sizes, -1)))
        sums = capture.bn_sums
        if sums.totals:
            mean, var = sums.moments()
            capture.bn_stats.extend(
                (m, v, module.running_mean, module.running_var)
                for m, v, module in zip(mean.split(sums.sizes, -1),
                                        var.split(sums.sizes, -1),
                                        capture.bn_modules))

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        for module, forward in self._fused:
            if forward is None:
                del module.forward  # back to the class's
            else:
                module.forward = forward
        self._fused.clear()
        self.modules.clear()
