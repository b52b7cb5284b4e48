"""Random residual-branch scaling of the target while x* is optimised."""
import re
from contextlib import contextmanager
from typing import Iterator, List, Sequence, Tuple

import torch
from torch import nn

from leaps_mm.registry import MODELS


@MODELS.register_module()
class RandomBranchScaling:
    """While active, the output of every module of the target whose
    qualified name matches ``include`` (a residual block's branch before it
    is added to the skip: ResNet3d's ``conv2``, MViT's ``attn`` and ``mlp``)
    is multiplied by a factor drawn for each job and step from
    ``U(1 - strength, 1 + strength)``. Each step's objective then sees a
    slightly different network around the target (a "ghost" of it), so x*
    gathers evidence that does not hinge on the exact weights of one model.
    Scoring, the stimulus's features and the still frame use the network as
    it is.

    Args:
        include: regex over the target's module names (``re.search``).
        strength: half-width of the factor's range, in ``[0, 1)``.
    """

    def __init__(self, include: str, strength: float = 0.3) -> None:
        if not 0 <= strength < 1:
            raise ValueError('RandomBranchScaling.strength must be in [0, 1), '
                             f'got {strength!r}.')
        self.include = include
        self.strength = float(strength)
        self._factors: List[torch.Tensor] = []

    def attach(self, network: nn.Module) -> None:
        """Hook the matching modules of ``network``; an error names the
        regex when none matches."""
        pattern = re.compile(self.include)
        modules = [m for name, m in network.named_modules()
                   if name and pattern.search(name)]
        if not modules:
            raise ValueError(
                f'RandomBranchScaling.include {self.include!r} matches no '
                f'module of the target ({type(network).__name__}); list the '
                "names with [n for n, _ in model.named_modules()].")
        self.num_modules = len(modules)
        for index, module in enumerate(modules):
            module.register_forward_hook(self._hook(index))

    def _hook(self, index: int):
        def scale(module: nn.Module, args: tuple, output):
            if not self._factors:
                return None
            first = output[0] if isinstance(output, tuple) else output
            factor = self._factors[index].to(first)
            # batch-major merged leading dims, (N*k, ...): k rows per job
            factor = factor.repeat_interleave(first.shape[0] // len(factor))
            factor = factor.view(-1, *(1, ) * (first.dim() - 1))
            scaled = first * factor
            return ((scaled, ) + tuple(output[1:])
                    if isinstance(output, tuple) else scaled)
        return scale

    @contextmanager
    def active(self, generators: Sequence[torch.Generator]
               ) -> Iterator[None]:
        """Scale the branches inside the block: one factor per job (from its
        generator) and hooked module, ``(N,)`` each."""
        draws = torch.stack([torch.rand(self.num_modules, generator=g)
                             for g in generators], 1)  # (modules, N)
        self._factors = list(1 + self.strength * (2 * draws - 1))
        try:
            yield
        finally:
            self._factors = []

    def factors(self) -> Tuple[torch.Tensor, ...]:
        """The factors in use, ``(N,)`` per module (empty when inactive)."""
        return tuple(self._factors)
