"""Eq. 2: temporal coherence at one layer."""
import torch

from leaps_mm.registry import MODELS
from .base import InversionState, LossTerm


@MODELS.register_module()
class TemporalCoherenceLoss(LossTerm):
    """R_coh over all frame pairs (t1 < t2) of the coherence layer's
    activation ``z`` of shape ``(N, C, T', S)``: consecutive pairs add
    ``d(t1, t2)``, the others add ``max(0, margin - d(t1, t2))``.

    Args:
        margin: δ of eq. 2 (1 in the paper).
        normalize: ``'mean'`` (default): ``d`` is the mean absolute
            difference per element, so δ means the same at every width and
            resolution; ``'none'``: the raw l1 norm of eq. 2.
        weight: the term's weight (r in eq. 4).
    """
    name = 'coh'
    requires = frozenset({'temporal'})

    def __init__(self, margin: float = 1.0, normalize: str = 'mean',
                 weight: float = 1.0) -> None:
        super().__init__(weight)
        if normalize not in ('mean', 'none'):
            raise ValueError(f"normalize must be 'mean' or 'none', "
                             f'got {normalize!r}.')
        self.margin = margin
        self.normalize = normalize

    def compute(self, state: InversionState) -> torch.Tensor:
        z = state.temporal
        if z is None:
            raise RuntimeError(
                'TemporalCoherenceLoss found no tapped layer with a time axis;'
                ' set `taps.temporal_layer` (and `taps.token_grid` for token '
                'models) in the config.')
        z = z.float().transpose(1, 2).flatten(2)  # (N, T', C*S)
        num_frames = z.shape[1]
        if num_frames < 2:
            raise RuntimeError(
                f'The coherence layer has T\'={num_frames} time step, so there '
                'is no frame pair: pick an earlier layer (`taps.temporal_layer`)'
                ' or feed more frames (`input_size` / `target_input_size`).')
        # l1 distances of all frame pairs (N, T', T'); cdist never holds
        # the (N, T', T', C*S) differences (2-3x faster with its backward)
        dist = torch.cdist(z, z, p=1)
        if self.normalize == 'mean':
            dist = dist / z.shape[-1]
        t1, t2 = torch.triu_indices(num_frames, num_frames, offset=1,
                                    device=z.device)
        pair = dist[:, t1, t2]
        consecutive = (t2 - t1) == 1
        terms = torch.where(consecutive, pair,
                            (self.margin - pair).clamp(min=0))
        return terms.sum(-1)
