"""A model wrapper for distributed sweeps, where each rank optimises its own
jobs: unlike DDP it synchronises nothing (x* differs per rank)."""
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from torch import nn


# Registered in mmengine's root registry: ``Runner.wrap_model`` looks the
# wrapper type up there by plain name, without descending into child scopes.
@MMENGINE_MODEL_WRAPPERS.register_module()
class IndependentJobsWrapper(nn.Module):
    """Holds the inverter as ``.module`` so mmengine treats it as wrapped;
    gradients stay local to each process."""

    def __init__(self, module: nn.Module, **kwargs) -> None:
        super().__init__()
        self.module = module

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)
