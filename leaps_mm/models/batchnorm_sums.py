"""An eval-mode BatchNorm that also returns the per-sample channel sums of
its input, with one backward for both.

A tap that takes ``Σx`` (and ``Σx²``) of a BatchNorm input with autograd
nodes of its own adds passes over the input gradient to every step (``Σx``:
adding a broadcast constant; ``Σx²``: ``2 d x``, then adding it). Here they
ride on the layer's own input gradient: ``grad_x = c + g γ/σ`` in the one
pass the layer alone takes, then ``+= 2 d x`` for ``Σx²`` (``c``, ``d``: the
sums' gradients, ``(N, C)``).
"""
from typing import Dict, Optional, Tuple

import torch
from torch.nn.modules.batchnorm import _BatchNorm

from .channel_stats import Layout, channel_sums

_BATCHNORM = Layout(channels_last=False)


def can_fuse(module: _BatchNorm) -> bool:
    """Eval mode with running statistics and frozen parameters: the layer
    is a per-channel affine map ``x γ/σ + const`` of its input."""
    return (not module.training and module.running_var is not None
            and not any(p.requires_grad for p in module.parameters()))


def input_gradient_scale(module: _BatchNorm) -> torch.Tensor:
    """``γ/σ`` ``(C,)``, what the layer multiplies its input with."""
    scale = torch.rsqrt(module.running_var + module.eps)
    return scale if module.weight is None else scale * module.weight


class _BatchNormSums(torch.autograd.Function):
    """``module(x)``, ``Σx`` and (``variance``) ``Σx²`` over all axes of
    ``x`` ``(N, C, ...)`` but the first two. ``scale``: the layer's
    :func:`input_gradient_scale` shaped ``(C, 1, ...)``."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, module: _BatchNorm,
                scale: torch.Tensor, variance: bool):
        y = torch.batch_norm(x, module.weight, module.bias,
                             module.running_mean, module.running_var, False,
                             0.0, module.eps, torch.backends.cudnn.enabled)
        total, squares = channel_sums(x, x.shape[0], _BATCHNORM, variance)
        ctx.set_materialize_grads(False)
        ctx.scale, ctx.x_meta = scale, (x.shape, x.dtype)
        if not variance:
            return y, total
        ctx.save_for_backward(x)
        return y, total, squares

    @staticmethod
    def backward(ctx, grad_y: Optional[torch.Tensor],
                 grad_total: Optional[torch.Tensor],
                 grad_squares: Optional[torch.Tensor] = None):
        shape, dtype = ctx.x_meta
        per_sample = (*shape[:2], *(1, ) * (len(shape) - 2))
        if grad_y is None:  # y unused: only the sums carry a gradient
            grad_y = torch.zeros(shape, dtype=dtype, device=ctx.scale.device)
        scale = _as(ctx.scale, grad_y.dtype)
        grad = (grad_y * scale if grad_total is None else torch.addcmul(
            _as(grad_total, grad_y.dtype).view(per_sample), grad_y, scale))
        if grad_squares is not None:
            x, = ctx.saved_tensors
            grad.addcmul_(x, _as(grad_squares, grad.dtype).view(per_sample),
                          value=2.0)
        return _as(grad, dtype), None, None, None


def _as(tensor: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    # no call when the dtype is already right: this runs per layer and step
    return tensor if tensor.dtype == dtype else tensor.to(dtype)


class BatchNormSums:
    """Runs :class:`_BatchNormSums` for layers whose ``γ/σ`` it computes
    once (again when the layer's statistics or weights change in place or
    move)."""

    def __init__(self) -> None:
        self._scales: Dict[int, Tuple[tuple, torch.Tensor]] = {}

    def _scale(self, module: _BatchNorm, x: torch.Tensor) -> torch.Tensor:
        key = tuple((t.data_ptr(), t._version, t.dtype)
                    for t in (module.running_var, module.weight)
                    if t is not None) + (x.dim(), )
        cached = self._scales.get(id(module))
        if cached is None or cached[0] != key:
            scale = input_gradient_scale(module).view(
                -1, *(1, ) * (x.dim() - 2))
            cached = self._scales[id(module)] = (key, scale)
        return cached[1]

    def __call__(self, module: _BatchNorm, x: torch.Tensor,
                 variance: bool) -> Tuple[torch.Tensor, ...]:
        """``module(x)`` for an eval-mode layer (:func:`can_fuse`) and the
        per-sample channel sums of ``x`` ``(N, C, ...)``: ``(y, Σx)``, or
        ``(y, Σx, Σx²)`` with ``variance``; sums ``(N, C)`` in fp32 or
        wider."""
        return _BatchNormSums.apply(x, module, self._scale(module, x),
                                    variance)
