"""A motion prior: the class must not be readable from a still of x*."""
import torch

from leaps_mm.registry import MODELS
from .base import InversionState, LossTerm


@MODELS.register_module()
class StillFrameLoss(LossTerm):
    """The target's probability of the target class on a still of x*: one
    frame of the transformed x*, drawn per job and step, repeated over time
    (``state.still_logits``, ``(N, K)``).

    Minimised beside the class term, it moves the class evidence out of the
    single frames and into how they change, where a model that reads motion
    keeps it (a video whose class any frame shows is texture, not motion).
    """
    name = 'still'
    requires = frozenset({'still_logits'})

    def compute(self, state: InversionState) -> torch.Tensor:
        probs = state.still_logits.float().softmax(-1)
        return probs.gather(1, state.targets[:, None])[:, 0]
