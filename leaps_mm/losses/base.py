"""The interface every objective term follows."""
from dataclasses import dataclass, field
from typing import ClassVar, Dict, FrozenSet, List, Optional, Tuple

import torch
from torch import nn


@dataclass
class InversionState:
    """Everything one optimisation step exposes to the loss terms.

    Attributes:
        video: x* as fed to the target, normalised, ``(N, C, T, H, W)``.
        targets: target class indices ``(N,)``.
        logits: the target model's class scores ``(N, K)``.
        means: per tapped target layer, channel means of x* ``(N, C_l)``.
        stimulus_means: the same for the stimulus, computed once per job.
        variances, stimulus_variances: the channels' variances over
            space-time beside ``means`` (only when a term requires
            ``'variances'``), ``(N, C_l)`` per layer.
        temporal: the coherence layer's activation ``(N, C, T', S)``.
        cells, stimulus_cells: per tapped target layer, channel means over
            the cells of a coarse space-time grid ``(N, C_l, G)``, of x* and
            of the stimulus (only when a term requires ``'cells'``).
        bn_stats: per verifier BatchNorm layer, ``(mean, var, running_mean,
            running_var)`` with batch statistics ``(N, C_k)``.
        still_logits: the target's class scores ``(N, K)`` of a still of x*
            (one random frame repeated over time).
    """
    video: torch.Tensor
    targets: torch.Tensor
    logits: Optional[torch.Tensor] = None
    means: Dict[str, torch.Tensor] = field(default_factory=dict)
    stimulus_means: Dict[str, torch.Tensor] = field(default_factory=dict)
    variances: Dict[str, torch.Tensor] = field(default_factory=dict)
    stimulus_variances: Dict[str, torch.Tensor] = field(default_factory=dict)
    temporal: Optional[torch.Tensor] = None
    cells: Dict[str, torch.Tensor] = field(default_factory=dict)
    stimulus_cells: Dict[str, torch.Tensor] = field(default_factory=dict)
    bn_stats: List[Tuple[torch.Tensor, ...]] = field(default_factory=list)
    still_logits: Optional[torch.Tensor] = None


class LossTerm(nn.Module):
    """A weighted objective term returning one value per sample, ``(N,)``.

    Subclasses set ``name`` (the logged key is ``loss_<name>``), declare what
    they read in ``requires`` (a subset of ``'logits'``, ``'means'``,
    ``'variances'``, ``'cells'``, ``'temporal'``, ``'bn_stats'``,
    ``'still_logits'``) and
    implement :meth:`compute`.
    """
    name: ClassVar[str] = ''
    requires: ClassVar[FrozenSet[str]] = frozenset()

    def __init__(self, weight: float = 1.0) -> None:
        super().__init__()
        self.weight = float(weight)

    def compute(self, state: InversionState) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, state: InversionState) -> torch.Tensor:
        return self.weight * self.compute(state)
