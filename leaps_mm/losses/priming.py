"""Eq. 1: model priming."""
import functools
from typing import Optional, Sequence, Union

import torch

from leaps_mm.registry import MODELS
from .base import InversionState, LossTerm
from .distances import DISTANCES
from .layers import concat_layers, safe_sqrt

LayerWeights = Union[float, Sequence[float], str]


def resolve_layer_weights(layer_weights: LayerWeights,
                          num_layers: int) -> torch.Tensor:
    """λ_l for ``num_layers`` layers: a scalar for all, a list with one value
    per layer, or a rule: ``'linear'`` (l/L, deeper layers weigh more) or
    ``'reverse_linear'`` ((L-l+1)/L)."""
    if isinstance(layer_weights, str):
        steps = torch.arange(1, num_layers + 1, dtype=torch.float32)
        if layer_weights == 'linear':
            return steps / num_layers
        if layer_weights == 'reverse_linear':
            return steps.flip(0) / num_layers
        raise ValueError(f'Unknown layer_weights rule {layer_weights!r}; '
                         "use a number, a list, 'linear' or 'reverse_linear'.")
    if isinstance(layer_weights, (int, float)):
        return torch.full((num_layers, ), float(layer_weights))
    weights = torch.tensor([float(w) for w in layer_weights])
    if weights.numel() != num_layers:
        raise ValueError(f'layer_weights has {weights.numel()} values but '
                         f'{num_layers} layers are tapped; give one per layer '
                         'or a single number.')
    return weights


@MODELS.register_module()
class PrimingLoss(LossTerm):
    """L_prim = (1/L) Σ_l λ_l d(μ(z^l(x*)), μ(z^l(v))).

    Args:
        distance: ``'jvs'`` (1 - JVS, the paper's), ``'l2'``, ``'l1'``,
            ``'cos'`` (1 - cosine).
        layer_weights: λ_l, see :func:`resolve_layer_weights`.
        first_layer_multiplier: extra factor on the first tapped layer (the
            official code uses 10 on its first BN); 1 follows the paper.
        statistics: what is compared per layer: ``'mean'`` (the channel
            means μ, the paper's) or ``'mean_std'`` (μ and the channels'
            standard deviations σ over space-time, concatenated, so the
            stimulus's spread of feature values is matched as well as its
            average: a few strong object responses on a quiet background,
            rather than the same average as texture everywhere).
        grid: ``(g_t, g_h, g_w)``: compare channel means over the cells of
            this space-time grid instead of over the whole clip (``(1, 1,
            1)`` is the paper's μ), so x* is primed on where and when the
            stimulus's features fire, its motion included, not only on
            how much. Layers whose input has no space-time layout are left
            out. With ``statistics='mean'`` only.
        weight: overall weight of the term.
    """
    name = 'prim'
    requires = frozenset({'means'})

    def __init__(self,
                 distance: str = 'jvs',
                 layer_weights: LayerWeights = 1.0,
                 first_layer_multiplier: float = 1.0,
                 statistics: str = 'mean',
                 grid: Optional[Sequence[int]] = None,
                 weight: float = 1.0) -> None:
        super().__init__(weight)
        if distance not in DISTANCES:
            raise ValueError(f'Unknown priming distance {distance!r}; choose '
                             f'one of {sorted(DISTANCES)}.')
        if statistics not in ('mean', 'mean_std'):
            raise ValueError(f'PrimingLoss.statistics must be \'mean\' or '
                             f"'mean_std', got {statistics!r}.")
        self.statistics = statistics
        if statistics == 'mean_std':
            self.requires = frozenset({'means', 'variances'})
        self.grid = None
        if grid is not None:
            if (len(grid) != 3 or any(int(g) < 1 for g in grid)
                    or statistics != 'mean'):
                raise ValueError(
                    'PrimingLoss.grid must be three positive cell counts '
                    f"(g_t, g_h, g_w), with statistics='mean'; got "
                    f'grid={grid!r}, statistics={statistics!r}.')
            self.grid = tuple(int(g) for g in grid)
            self.requires = frozenset({'cells'})
        self.distance = distance
        self.layer_weights = layer_weights
        self.first_layer_multiplier = first_layer_multiplier

    @functools.lru_cache(maxsize=4)
    def _lambdas(self, num_layers: int) -> tuple:
        """λ_l as Python floats, resolved once per layer count (not every
        step)."""
        lambdas = resolve_layer_weights(self.layer_weights, num_layers)
        lambdas[0] *= self.first_layer_multiplier
        return tuple(lambdas.tolist())

    def _lambda_tensor(self, num_layers: int,
                       device: torch.device) -> torch.Tensor:
        """λ_l as an ``(L,)`` tensor, made once per layer count and device
        (no host-to-device copy per step)."""
        key = (num_layers, str(device))
        cache = self.__dict__.setdefault('_lambda_cache', {})
        if key not in cache:
            cache[key] = torch.tensor(self._lambdas(num_layers),
                                      device=device)
        return cache[key]

    def compute(self, state: InversionState) -> torch.Tensor:
        # every layer at once: channels concatenated, distances reduced
        # per layer (leaps_mm/losses/layers.py)
        if self.grid is None:
            names = list(state.stimulus_means)
            x_rows = self._layer_rows(state.means, state.variances, names)
            v_rows = self._layer_rows(state.stimulus_means,
                                      state.stimulus_variances, names)
        else:
            names = list(state.stimulus_cells)
            if not names:
                raise ValueError('PrimingLoss(grid=...) found no tapped '
                                 'layer with a space-time layout; check '
                                 '`taps`.')
            x_rows = [state.cells[n].flatten(1) for n in names]
            v_rows = [state.stimulus_cells[n].flatten(1) for n in names]
        x_stats, per_layer = concat_layers(x_rows)
        v_stats, _ = concat_layers(v_rows)
        dist = DISTANCES[self.distance](x_stats, v_stats, per_layer)  # (N, L)
        lambdas = self._lambda_tensor(len(names), dist.device)
        return (dist * lambdas).sum(-1) / len(names)

    def _layer_rows(self, means: dict, variances: dict,
                    names: list) -> list:
        """Per layer, what is compared: μ ``(N, C_l)``, or [μ, σ]
        ``(N, 2 C_l)``."""
        if self.statistics == 'mean':
            return [means[n] for n in names]
        return [torch.cat([means[n], safe_sqrt(variances[n])], -1)
                for n in names]
