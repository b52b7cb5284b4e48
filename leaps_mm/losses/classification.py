"""L_CE of eq. 4, and class-logit maximisation (3D AM)."""
import torch
import torch.nn.functional as F

from leaps_mm.registry import MODELS
from .base import InversionState, LossTerm


@MODELS.register_module()
class ClassificationLoss(LossTerm):
    """Cross-entropy of the target model's logits against the target class."""
    name = 'ce'
    requires = frozenset({'logits'})

    def compute(self, state: InversionState) -> torch.Tensor:
        return F.cross_entropy(state.logits.float(), state.targets,
                               reduction='none')


@MODELS.register_module()
class LogitMaximization(LossTerm):
    """-logit of the target class (activation maximisation)."""
    name = 'logit'
    requires = frozenset({'logits'})

    def compute(self, state: InversionState) -> torch.Tensor:
        return -state.logits.float().gather(1, state.targets[:, None])[:, 0]
