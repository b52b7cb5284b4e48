"""A model wrapper for distributed sweeps, where each rank optimises its own
jobs: unlike DDP it synchronises nothing (x* differs per rank)."""
from torch import nn

from leaps_mm.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class IndependentJobsWrapper(nn.Module):
    """Holds the inverter as ``.module`` so mmengine treats it as wrapped;
    gradients stay local to each process."""

    def __init__(self, module: nn.Module, **kwargs) -> None:
        super().__init__()
        self.module = module

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)
