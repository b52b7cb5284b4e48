"""Memory-layout and memory-saving options for big inverted networks:
channels-last-3d and activation checkpointing of a frozen recognizer."""
import functools
import re
from typing import List, Union

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

CheckpointRule = Union[bool, str]


def to_channels_last(network: nn.Module) -> nn.Module:
    """Convert the 5-D weights of a recognizer's backbone (and head) to
    ``torch.channels_last_3d`` in place; the data preprocessor's 4-D buffers
    are left alone (they cannot take a 5-D format)."""
    for name, child in network.named_children():
        if name != 'data_preprocessor':
            for param in child.parameters():
                if param.dim() == 5:
                    param.data = param.data.contiguous(
                        memory_format=torch.channels_last_3d)
    return network


def channels_last_input(video: torch.Tensor) -> torch.Tensor:
    """``(N, C, T, H, W)`` in channels-last-3d memory format."""
    return video.contiguous(memory_format=torch.channels_last_3d)


def checkpoint_modules(network: nn.Module, rule: CheckpointRule) -> List[str]:
    """Wrap the forward of selected submodules of ``network`` in
    non-reentrant activation checkpointing (``torch.utils.checkpoint``):
    their inner activations are dropped after the forward pass and
    recomputed during backward, trading compute for memory; gradients are
    unchanged.

    Args:
        network: a recognizer (modules are selected among its
            ``backbone.*``).
        rule: True: the outermost elements of indexed containers of the
            backbone (``backbone.layer1.0`` in X3D/ResNet3d: residual blocks;
            ``backbone.layers.0`` in Video Swin: stages;
            ``backbone.blocks.3`` in MViT); a string: a regex that qualified
            module names must fully match; False: nothing.
    Returns:
        the names of the wrapped modules.
    """
    if not rule:
        return []
    wrapped: List[str] = []
    for name, module in network.named_modules():
        if rule is True:
            if not (name.startswith('backbone.') and
                    re.search(r'\.\d+$', name)):
                continue
            if any(name.startswith(w + '.') for w in wrapped):
                continue
        elif not re.fullmatch(rule, name):
            continue
        module.forward = functools.partial(_checkpointed, module.forward)
        wrapped.append(name)
    if not wrapped:
        raise ValueError(
            f'checkpoint_target={rule!r} selects no module of '
            f'{type(network).__name__}; give a regex of module names such as '
            r"'backbone\.layer\d+\.\d+'.")
    return wrapped


def _checkpointed(forward, *args, **kwargs):
    if not torch.is_grad_enabled():
        return forward(*args, **kwargs)
    return checkpoint(forward, *args, use_reentrant=False, **kwargs)
