"""Eq. 3: feature diversity from the verifier's BatchNorm statistics."""
import torch

from leaps_mm.registry import MODELS
from .base import InversionState, LossTerm
from .layers import concat_layers, safe_sqrt


@MODELS.register_module()
class FeatureDiversityLoss(LossTerm):
    """R_feat = Σ_k ||μ(a^k(x*)) - running_mean_k||_2
    + ||σ²(a^k(x*)) - running_var_k||_2 over the verifier's BatchNorm layers.

    Args:
        batch_statistics: False (default): μ, σ² per video over time and space,
            so a job never depends on its batch-mates; True: over the whole
            batch, as in DeepInversion (every sample then gets the same value).
        first_layer_multiplier: factor on the first BN layer (official: 10).
        normalize: False (default, eq. 3): the sum over layers of L2 norms
            over channels, which grows with the network's depth and width
            (123 on an R(2+1)D-18 at the start, against a class term of
            2.3); True: each layer's norms divided by ``√C_l`` (root mean
            square over channels) and the mean over layers instead of the
            sum, a term of order 1 on any network.
        weight: the term's weight (r in eq. 4).
    """
    name = 'feat'
    requires = frozenset({'bn_stats'})

    def __init__(self, batch_statistics: bool = False,
                 first_layer_multiplier: float = 1.0,
                 normalize: bool = False,
                 weight: float = 1.0) -> None:
        super().__init__(weight)
        self.batch_statistics = batch_statistics
        self.first_layer_multiplier = first_layer_multiplier
        self.normalize = bool(normalize)

    def compute(self, state: InversionState) -> torch.Tensor:
        if not self.batch_statistics and state.bn_stats:
            return self._per_sample(state)
        total = 0.
        for index, (mean, var, running_mean, running_var) in enumerate(
                state.bn_stats):
            mean, var = mean.float(), var.float()
            if self.batch_statistics:
                batch_mean = mean.mean(0, keepdim=True)
                # total variance = within-sample variance + variance of means
                var = (var + (mean - batch_mean)**2).mean(0, keepdim=True)
                mean = batch_mean
            term = ((mean - running_mean).norm(dim=-1) +
                    (var - running_var).norm(dim=-1))
            if self.normalize:
                term = term / mean.shape[-1] ** 0.5
            if index == 0:
                term = term * self.first_layer_multiplier
            total = total + term
        if self.normalize:
            total = total / len(state.bn_stats)
        return total.expand(state.targets.shape[0])

    def _per_sample(self, state: InversionState) -> torch.Tensor:
        """Every layer at once on channel-concatenated statistics, reduced
        per layer (leaps_mm/losses/layers.py)."""
        means, variances, running_means, running_vars = zip(*state.bn_stats)
        mean, per_layer = concat_layers(means)
        var, _ = concat_layers(variances)
        running_mean, _ = concat_layers(running_means)
        running_var, _ = concat_layers(running_vars)
        terms = (safe_sqrt(per_layer((mean - running_mean).square())) +
                 safe_sqrt(per_layer((var - running_var).square())))  # (N, L)
        if self.normalize:
            channels = torch.tensor([m.shape[-1] for m in means],
                                    dtype=terms.dtype, device=terms.device)
            terms = terms / channels.sqrt()
        if self.first_layer_multiplier != 1:
            terms = torch.cat([terms[:, :1] * self.first_layer_multiplier,
                               terms[:, 1:]], 1)
        reduced = terms.mean(-1) if self.normalize else terms.sum(-1)
        return reduced.expand(state.targets.shape[0])
