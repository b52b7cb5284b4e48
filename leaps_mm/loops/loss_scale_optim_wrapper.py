"""LossScaleOptimWrapper: loss scaling for fp16 autocast, on CPUs and GPUs."""
from contextlib import contextmanager
from typing import Union

import torch
import torch.nn as nn
from mmengine.optim import AmpOptimWrapper, OptimWrapper

from leaps_mm.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class LossScaleOptimWrapper(AmpOptimWrapper):
    """mmengine's :class:`AmpOptimWrapper` without its autocast and its
    CUDA-only check: scales the loss before the backward, so that gradients
    through fp16 networks do not underflow to zero, unscales them before
    clipping and the step, and skips a step whose gradients hold inf or NaN
    (halving the scale; ``torch.amp.GradScaler``).

    The inverter's ``autocast`` casts the networks alone (the loss terms
    stay fp32), so this wrapper adds no autocast of its own. With a fused
    optimizer (the default Adam) the skip is decided on the device: no host
    synchronisation per step. One optimiser serves a batch of jobs, so an
    overflow in one job skips the step for all of them.

    Args:
        loss_scale: ``'dynamic'``, a fixed scale (float) or GradScaler
            kwargs (dict), as for :class:`AmpOptimWrapper`.
        **kwargs: :class:`OptimWrapper` arguments (``optimizer``,
            ``clip_grad``, ...).
    """

    def __init__(self, loss_scale: Union[str, float, dict] = 'dynamic',
                 **kwargs) -> None:
        OptimWrapper.__init__(self, **kwargs)
        device = self.optimizer.param_groups[0]['params'][0].device.type
        self._scale_update_param = None
        self.cast_dtype = None
        if loss_scale == 'dynamic':
            scaler_kwargs = {}
        elif isinstance(loss_scale, (int, float)):
            self._scale_update_param = float(loss_scale)
            scaler_kwargs = dict(init_scale=float(loss_scale))
        elif isinstance(loss_scale, dict):
            scaler_kwargs = dict(loss_scale)
        else:
            raise TypeError("loss_scale must be 'dynamic', a float or a dict "
                            f'of torch.amp.GradScaler arguments, got '
                            f'{loss_scale!r}.')
        self.loss_scaler = torch.amp.GradScaler(device, **scaler_kwargs)

    @contextmanager
    def optim_context(self, model: nn.Module):
        with OptimWrapper.optim_context(self, model):
            yield
