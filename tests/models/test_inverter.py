"""LEAPSInverter on small, randomly initialised MMAction2 X3Ds: the full LEAPS
objective (eq. 4) optimised for a few Adam steps."""
import copy

import pytest
import torch
from mmengine.registry import DefaultScope
from torch.nn.modules.batchnorm import _BatchNorm

from leaps_mm.registry import MODELS
from mm_builders import (INVERTER_LOSSES as LOSSES, INVERTER_SIZE as SIZE,
                         NUM_CLASSES, losses_and_grad, make_inverter, total,
                         x3d_config)

@pytest.fixture(scope='module')
def inverter():
    return make_inverter()


def stimulus(n, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn((n, 3) + SIZE, generator=g).clamp(-2, 2)


def test_terms_are_named_and_per_sample(inverter):
    inverter.reset(torch.tensor([1, 3]), stimulus(2))
    terms = inverter(mode='loss')
    assert set(terms) == {'loss_ce', 'loss_prim', 'loss_coh', 'loss_feat'}
    for name, value in terms.items():
        assert value.shape == (2, ), name
        assert torch.isfinite(value).all(), name
    # the stimulus means are computed once per job, for every tapped layer
    assert set(inverter.stimulus_means) == set(inverter.target_taps.modules)
    assert all(not v.requires_grad for v in inverter.stimulus_means.values())


def test_adam_lowers_the_loss_and_raises_the_target_probability(inverter):
    torch.manual_seed(0)
    inverter.reset(torch.tensor([0]), stimulus(1))
    # the class the model finds least likely in the initial noise
    target = inverter.predict_scores()['model'][0].argmin().item()
    inverter.reset(torch.tensor([target]), stimulus(1))
    before_scores = inverter.predict_scores()
    with torch.no_grad():
        before = {k: v.item() for k, v in inverter(mode='loss').items()}
    optimizer = torch.optim.Adam(inverter.parameterization.parameters(), lr=0.1)
    for _ in range(30):
        optimizer.zero_grad()
        total(inverter(mode='loss')).backward()
        optimizer.step()
        inverter.after_step()
    after_scores = inverter.predict_scores()
    with torch.no_grad():
        after = {k: v.item() for k, v in inverter(mode='loss').items()}
    # (seed 0: total 10.3 -> 1.5; p(target) 0.0002 -> 0.74)
    assert sum(after.values()) < 0.5 * sum(before.values()), (before, after)
    for term in ('loss_ce', 'loss_prim', 'loss_feat'):
        assert after[term] < before[term], (term, before, after)
    p_before = before_scores['model'][0, target].item()
    p_after = after_scores['model'][0, target].item()
    assert p_before < 0.05 and p_after > 0.5, (p_before, p_after)
    assert after_scores['model'][0].argmax().item() == target
    # scores are probabilities of the target and of the verifier
    for scores in (after_scores['model'], after_scores['verifier']):
        assert scores.shape == (1, NUM_CLASSES)
        assert torch.allclose(scores.sum(-1), torch.ones(1))


def test_only_x_star_is_trained(inverter):
    inverter.reset(torch.tensor([0, 4]), stimulus(2))
    trainable = [n for n, p in inverter.named_parameters() if p.requires_grad]
    assert trainable == ['parameterization.latent']
    inverter.train()
    assert inverter.training
    for net in (inverter.target, inverter.verifier):
        assert not any(m.training for m in net.modules())
    bns = [m for m in inverter.modules() if isinstance(m, _BatchNorm)]
    running = [(m.running_mean.clone(), m.running_var.clone()) for m in bns]
    total(inverter(mode='loss')).backward()
    latent = inverter.parameterization.latent
    assert latent.grad is not None
    assert latent.grad.abs().sum() > 0
    for net in (inverter.target, inverter.verifier):
        assert all(p.grad is None for p in net.parameters())
    # eval mode: BatchNorm statistics never move
    for m, (mean, var) in zip(bns, running):
        assert torch.equal(m.running_mean, mean)
        assert torch.equal(m.running_var, var)
    latent.grad = None


def test_a_job_is_the_same_alone_and_in_a_batch(inverter):
    g = torch.Generator().manual_seed(3)
    videos = torch.randn((2, 3) + SIZE, generator=g).clamp(-2, 2)
    stim = stimulus(2, seed=4)
    targets = torch.tensor([1, 3])
    alone, grad_alone = losses_and_grad(inverter, targets[:1], stim[:1],
                                        videos[:1])
    batch, grad_batch = losses_and_grad(inverter, targets, stim, videos)
    for name in alone:
        assert torch.allclose(alone[name][0], batch[name][0], rtol=1e-4,
                              atol=1e-5), name
    assert torch.allclose(grad_alone[0], grad_batch[0], rtol=1e-3,
                          atol=1e-6)
    # the batch-mate is a different job: its values differ
    assert not torch.allclose(batch['loss_prim'][0], batch['loss_prim'][1])


def test_batch_statistics_couple_the_jobs():
    """DeepInversion's whole-batch BN statistics (an option) make a job's
    value depend on its batch-mates, unlike the default."""
    inverter = make_inverter(losses=[
        dict(type='FeatureDiversityLoss', batch_statistics=True)])
    g = torch.Generator().manual_seed(3)
    videos = torch.randn((2, 3) + SIZE, generator=g).clamp(-2, 2)
    targets = torch.tensor([1, 3])
    alone, _ = losses_and_grad(inverter, targets[:1], None, videos[:1])
    batch, _ = losses_and_grad(inverter, targets, None, videos)
    assert not torch.allclose(alone['loss_feat'][0], batch['loss_feat'][0])
    assert batch['loss_feat'][0] == batch['loss_feat'][1]


def test_to_uint8_and_normalize_round_trip(inverter):
    g = torch.Generator().manual_seed(5)
    pixels = torch.randint(0, 256, (2, 3) + SIZE, generator=g)
    frames = inverter.to_uint8(inverter.normalize(pixels))
    assert frames.shape == (2, ) + SIZE + (3, )
    assert frames.dtype == torch.uint8
    assert torch.equal(frames, pixels.permute(0, 2, 3, 4, 1).to(torch.uint8))
    inverter.reset(torch.tensor([0]), stimulus(1))
    assert inverter.to_uint8().shape == (1, ) + SIZE + (3, )


def test_clipping_keeps_x_star_in_the_valid_range(inverter):
    low, high = (0 - 114.75) / 57.38, (255 - 114.75) / 57.38
    inverter.reset(torch.tensor([0]), stimulus(1))
    video = inverter.video.detach()
    assert video.min() >= low - 1e-6 and video.max() <= high + 1e-6
    # unit-std noise reaches past both ends: the bounds are actually hit
    assert video.min() == pytest.approx(low)
    assert video.max() == pytest.approx(high)
    with torch.no_grad():
        inverter.parameterization.latent.mul_(10)
    inverter.after_step()
    video = inverter.video.detach()
    assert video.min() == pytest.approx(low)
    assert video.max() == pytest.approx(high)
    frames = inverter.to_uint8()
    assert frames.min() == 0 and frames.max() == 255


def test_clipping_can_be_switched_off():
    inverter = make_inverter(losses=[dict(type='ClassificationLoss')],
                             verifier=None, parameterization=dict(
                                 type='PixelVideo', value_range=None,
                                 init_std=5.0))
    inverter.reset(torch.tensor([0]), None)
    assert inverter.video.abs().max() > 5


def test_judge_only_scores_and_never_enters_the_loss():
    """A judge adds 'judge' scores to predictions, never runs in the loss and
    gets no gradient."""
    judged = make_inverter([dict(type='ClassificationLoss')], verifier=None,
                           judge=x3d_config(num_classes=3, gamma_d=0.5,
                                            gamma_b=1.0, head_std=0.1))
    calls = []
    judged.judge.backbone.register_forward_hook(lambda *args: calls.append(1))
    judged.reset(torch.tensor([1]), stimulus(1))
    total(judged(mode='loss')).backward()
    assert not calls
    assert judged.parameterization.latent.grad is not None
    assert all(p.grad is None for p in judged.judge.parameters())
    scores = judged.predict_scores(probes=())  # no motion probes
    assert calls == [1]
    # the first judge under 'judge' and its name (index 0 without a config)
    assert set(scores) == {'model', 'judge', 'judge_judge0'}
    assert scores['judge'].shape == (1, 3)
    assert torch.allclose(scores['judge'].sum(-1), torch.ones(1))


TRANSFORMS = [dict(type='RandomRoll', max_shift=3),
              dict(type='RandomScale', scale=(0.9, 1.1)),
              dict(type='RandomGaussianBlur', sigma=(0.5, 1.0), p=0.5)]


def adam_steps(inverter, optimizer, steps):
    for _ in range(steps):
        optimizer.zero_grad()
        total(inverter(mode='loss')).backward()
        optimizer.step()
        inverter.after_step()
    return inverter.video.detach().clone()


@pytest.mark.parametrize('parameterization', [
    dict(type='PixelVideo'),
    dict(type='FourierVideo', value_range='sigmoid', colour='decorrelated'),
    dict(type='GeneratorVideo', widths=(4, 4), code_channels=2)])
def test_a_job_runs_the_same_alone_and_in_a_batch_with_transforms(
        parameterization):
    """Latents, transforms and optimiser state are all per job: job 1 of a
    batch of two ends where it ends alone."""
    inverter = make_inverter(parameterization=parameterization,
                             transforms=TRANSFORMS)
    stim = stimulus(2, seed=4)

    def run(jobs):
        inverter.reset(torch.tensor([1, 3])[jobs], stim[jobs],
                       generator=[torch.Generator().manual_seed(7 + j)
                                  for j in jobs])
        optimizer = torch.optim.Adam(inverter.parameterization.parameters(),
                                     lr=0.1)
        return adam_steps(inverter, optimizer, 4)

    batch, alone = run([0, 1]), run([1])
    # The networks' kernels round differently per batch size (losses differ
    # by ~1e-7) and Adam's first steps, ~lr * sign(g), amplify that to
    # ~1e-4 where g is near 0; a job that saw its batch-mate would be off by
    # far more than 1e-3.
    assert torch.allclose(batch[1:], alone, atol=1e-3)
    assert not torch.allclose(batch[0], batch[1], atol=1e-2)


@pytest.mark.parametrize('parameterization', [
    dict(type='LowResVideo', factor=(1, 2, 2)),
    # coarse-to-fine: the band's step count is part of the job's state
    dict(type='FourierVideo', band_start=0.5, band_steps=5),
    # the decoder's weights and its fixed code
    dict(type='GeneratorVideo', widths=(4, 4), code_channels=2)])
def test_job_state_continues_a_job_exactly(parameterization):
    """Saving the job state (latents, generators) and the optimiser state
    mid-way and restoring them into a fresh reset gives the same x* as an
    uninterrupted run."""
    inverter = make_inverter(parameterization=parameterization,
                             transforms=TRANSFORMS)
    targets, stim = torch.tensor([2]), stimulus(1)

    def start():
        inverter.reset(targets, stim,
                       generator=[torch.Generator().manual_seed(5)])
        return torch.optim.Adam(inverter.parameterization.parameters(),
                                lr=0.1)

    optimizer = start()
    adam_steps(inverter, optimizer, 3)
    # deep copy: the optimiser's state_dict holds live references
    saved = inverter.job_state(), copy.deepcopy(optimizer.state_dict())
    uninterrupted = adam_steps(inverter, optimizer, 3)

    optimizer = start()
    inverter.load_job_state(saved[0])
    optimizer.load_state_dict(saved[1])
    resumed = adam_steps(inverter, optimizer, 3)
    assert torch.allclose(resumed, uninterrupted, atol=1e-6)


def test_transform_draws_average_the_objective_over_draws():
    """``transform_draws=2``: each term is the mean of the terms on two
    independent transform draws, the draws one-draw steps would take."""
    inverter = make_inverter(transforms=TRANSFORMS, transform_draws=2)
    targets, stim = torch.tensor([1, 2]), stimulus(2)

    def reset():
        inverter.reset(targets, stim,
                       generator=[torch.Generator().manual_seed(3 + j)
                                  for j in range(2)])

    reset()
    averaged = inverter(mode='loss')
    reset()
    inverter.transform_draws = 1
    first, second = inverter(mode='loss'), inverter(mode='loss')
    assert any(not torch.allclose(first[k], second[k]) for k in first)
    for key, value in averaged.items():
        assert torch.allclose(value, (first[key] + second[key]) / 2,
                              atol=1e-5), key
    with pytest.raises(ValueError, match='transform_draws'):
        make_inverter(transform_draws=0)


def test_feature_statistics_read_x_star_before_the_pixel_noise():
    """R_feat (the verifier's BatchNorm statistics) reads x* under the
    geometric transforms of the step but before pixel noise, which only the
    class evidence has to survive; the target's terms see the noise."""
    losses = [dict(type='ClassificationLoss'),
              dict(type='FeatureDiversityLoss', weight=0.01)]
    roll = dict(type='RandomRoll', max_shift=3)
    noisy = make_inverter(losses=losses, transforms=[
        roll, dict(type='RandomGaussianNoise', std=(3.0, 3.0))])
    clean = make_inverter(losses=losses, transforms=[roll])
    targets, video = torch.tensor([1, 2]), stimulus(2, seed=5)
    with_noise, _ = losses_and_grad(noisy, targets, None, video)
    without, _ = losses_and_grad(clean, targets, None, video)
    assert torch.allclose(with_noise['loss_feat'], without['loss_feat'])
    assert not torch.allclose(with_noise['loss_ce'], without['loss_ce'])


@pytest.mark.parametrize('priming', [dict(), dict(grid=(2, 2, 2))])
def test_priming_input_clean_reads_x_star_before_the_pixel_noise(priming):
    """priming_input='clean': x*'s priming statistics come from a second
    target forward on x* before the pixel noise (the same under noise std 3
    as without it; the default reads the noisy x*), while the class term
    still sees the noise."""
    losses = [dict(type='ClassificationLoss'),
              dict(type='PrimingLoss', **priming)]
    roll = dict(type='RandomRoll', max_shift=3)
    noise = dict(type='RandomGaussianNoise', std=(3.0, 3.0))
    noisy = make_inverter(losses=losses, transforms=[roll, noise],
                          priming_input='clean')
    default = make_inverter(losses=losses, transforms=[roll, noise])
    clean = make_inverter(losses=losses, transforms=[roll])
    targets, stim = torch.tensor([1, 2]), stimulus(2, seed=3)
    video = stimulus(2, seed=5)
    with_noise, grad = losses_and_grad(noisy, targets, stim, video)
    read_noisy, _ = losses_and_grad(default, targets, stim, video)
    without, _ = losses_and_grad(clean, targets, stim, video)
    assert torch.allclose(with_noise['loss_prim'], without['loss_prim'],
                          atol=1e-6)
    assert not torch.allclose(read_noisy['loss_prim'], without['loss_prim'])
    assert torch.allclose(with_noise['loss_ce'], read_noisy['loss_ce'])
    assert not torch.allclose(with_noise['loss_ce'], without['loss_ce'])
    assert grad.abs().sum() > 0
    # two target forwards a step: noisy x* (class term), clean x* (priming)
    calls = []
    handle = noisy.target.backbone.register_forward_hook(
        lambda *_: calls.append(1))
    noisy(mode='loss')
    handle.remove()
    assert len(calls) == 2
    with pytest.raises(ValueError, match='priming_input'):
        make_inverter(priming_input='noisy')


def assert_priming_falls(inverter, video):
    """20 Adam steps from a fresh x* lower ``loss_prim`` by 30 % or more for
    every job."""
    inverter.reset(torch.tensor([1, 3]), video)
    optimizer = torch.optim.Adam(inverter.parameterization.parameters(),
                                 lr=0.05)
    first = None
    for _ in range(20):
        optimizer.zero_grad()
        terms = inverter(mode='loss')
        first = terms['loss_prim'].detach() if first is None else first
        total(terms).backward()
        optimizer.step()
    assert (terms['loss_prim'] < 0.7 * first).all(), (first, terms)


def test_priming_on_standard_deviations_is_zero_on_the_stimulus_and_falls():
    """PrimingLoss(statistics='mean_std'): the stimulus's channel variances
    are kept per job beside its means; x* equal to the stimulus scores 0,
    and Adam from noise lowers the term."""
    inverter = make_inverter(
        losses=[dict(type='PrimingLoss', statistics='mean_std')],
        parameterization=dict(type='PixelVideo', init_std=0.5))
    video = stimulus(2)
    inverter.reset(torch.tensor([1, 3]), video)
    assert set(inverter.stimulus_variances) == set(inverter.stimulus_means)
    with torch.no_grad():
        inverter.parameterization.latent.copy_(video)
        assert inverter(mode='loss')['loss_prim'].abs().max() < 1e-4
    assert_priming_falls(inverter, video)


def test_priming_on_a_grid_sees_time_reversal_and_falls():
    """PrimingLoss(grid=(2, 2, 2)): the stimulus's cell means are kept per
    job; x* equal to the stimulus scores 0, the stimulus played backwards
    does not, and Adam from noise lowers the term."""
    inverter = make_inverter(
        losses=[dict(type='PrimingLoss', grid=(2, 2, 2))],
        parameterization=dict(type='PixelVideo', init_std=0.5))
    video = stimulus(2)
    inverter.reset(torch.tensor([1, 3]), video)
    assert inverter.stimulus_cells and not inverter.stimulus_means
    assert all(v.shape[-1] == 8 for v in inverter.stimulus_cells.values())
    with torch.no_grad():
        inverter.parameterization.latent.copy_(video)
        assert inverter(mode='loss')['loss_prim'].abs().max() < 1e-4
        inverter.parameterization.latent.copy_(video.flip(2))
        assert (inverter(mode='loss')['loss_prim'] > 1e-3).all()
    assert_priming_falls(inverter, video)
