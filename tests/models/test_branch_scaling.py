"""RandomBranchScaling: a per-job, per-step ghost of the target for the
objective only."""
from collections import OrderedDict

import pytest
import torch
from torch import nn

from leaps_mm.models import RandomBranchScaling
from mm_builders import make_inverter


def test_hooked_outputs_are_scaled_by_each_jobs_own_factor():
    torch.manual_seed(0)
    net = nn.Sequential(OrderedDict(branch=nn.Linear(4, 4),
                                    other=nn.Linear(4, 4)))
    aug = RandomBranchScaling('^branch$', strength=0.5)
    aug.attach(net)
    assert aug.num_modules == 1
    x = torch.randn(2, 4)
    plain_branch, plain = net.branch(x), net(x)
    with aug.active([torch.Generator().manual_seed(j) for j in (0, 1)]):
        factors, = aug.factors()
        scaled = net.branch(x)
    # one draw per job from its own generator, mapped to [1 - s, 1 + s]
    expected = torch.cat([1 + 0.5 * (2 * torch.rand(
        1, generator=torch.Generator().manual_seed(j)) - 1) for j in (0, 1)])
    assert torch.allclose(factors, expected)
    assert torch.allclose(scaled, plain_branch * factors[:, None])
    # outside the block the network is itself again
    assert aug.factors() == () and torch.equal(net(x), plain)


def test_objective_sees_the_ghost_and_scoring_the_target():
    """With `target_augmentation` the objective's terms change from step to
    step with the draws, while predict_scores (what every record says)
    scores the target as it is."""
    # the stem: a fresh X3D's residual branches are zero-initialised, so
    # scaling them would change nothing yet
    inverter = make_inverter(
        verifier=None, losses=[dict(type='LogitMaximization')],
        target_augmentation=dict(type='RandomBranchScaling',
                                 include=r'^backbone\.conv1_t$',
                                 strength=0.5))
    inverter.reset(torch.tensor([1, 2]), None)
    scores = inverter.predict_scores(probes=())['model']
    ghost = inverter(mode='loss')['loss_logit']
    augmentation, inverter.target_augmentation = (
        inverter.target_augmentation, None)
    plain = inverter(mode='loss')['loss_logit']
    inverter.target_augmentation = augmentation
    assert not torch.allclose(ghost, plain, atol=1e-4)
    assert torch.allclose(inverter.predict_scores(probes=())['model'],
                          scores)


def test_a_pattern_that_matches_nothing_is_named():
    with pytest.raises(ValueError, match='nothing_here'):
        make_inverter(verifier=None, losses=[dict(type='LogitMaximization')],
                      target_augmentation=dict(
                          type='RandomBranchScaling', include='nothing_here'))
    with pytest.raises(ValueError, match='strength'):
        RandomBranchScaling('x', strength=1.0)
