"""Per-layer statistics of many tapped layers as one tensor.

Priming and feature diversity compare per-layer vectors ``(N, C_l)`` over
tens of layers (84 BatchNorms in X3D-S). Concatenated along channels to
``(N, Σ C_l)`` and reduced per layer with one ``index_add``, a step costs a
handful of ops whatever the number of layers, instead of several per layer
(or, zero-padded to ``(L, N, max C_l)``, a copy per layer each way).
"""
import functools
from typing import Callable, Sequence, Tuple

import torch

Reduce = Callable[[torch.Tensor], torch.Tensor]


@functools.lru_cache(maxsize=16)
def _layer_index(sizes: Tuple[int, ...], device: str) -> torch.Tensor:
    """The layer of every concatenated channel, ``(Σ C_l,)``."""
    return torch.repeat_interleave(
        torch.arange(len(sizes), device=device),
        torch.tensor(sizes, device=device))


def concat_layers(rows: Sequence[torch.Tensor]) -> Tuple[torch.Tensor,
                                                          Reduce]:
    """``(N, C_l)`` per layer -> ``(N, Σ C_l)`` float, and the reduction
    that sums the last axis of such a tensor within each layer, ``(N, Σ C_l)
    -> (N, L)``."""
    flat = torch.cat([r.float() for r in rows], -1)
    index = _layer_index(tuple(r.shape[-1] for r in rows), str(flat.device))

    def per_layer(values: torch.Tensor) -> torch.Tensor:
        out = values.new_zeros(values.shape[:-1] + (len(rows), ))
        return out.index_add_(-1, index, values)

    return flat, per_layer


def safe_sqrt(x: torch.Tensor) -> torch.Tensor:
    """``sqrt(x)`` for ``x >= 0`` with gradient 0 (not inf) at 0, as a
    norm's."""
    positive = x > 0
    return torch.where(positive, x, torch.ones_like(x)).sqrt() * positive
