"""Every LEAPS loss term against values worked out by hand on tiny tensors."""
import math

import pytest
import torch
from mmengine.registry import DefaultScope

from leaps_mm.losses import (ClassificationLoss, FeatureDiversityLoss,
                             InputNormLoss, InversionState, LogitMaximization,
                             PrimingLoss, TemporalCoherenceLoss,
                             TotalVariationLoss, jaccard_similarity,
                             resolve_layer_weights)
from leaps_mm.loops import build_job_optimisation
from leaps_mm.losses import StillFrameLoss
from leaps_mm.losses.distances import DISTANCES
from leaps_mm.registry import MODELS
from mm_builders import MMACTION, model_config, x3d_config


def state(**kwargs) -> InversionState:
    kwargs.setdefault('video', torch.zeros(1, 3, 2, 2, 2))
    kwargs.setdefault('targets', torch.zeros(1, dtype=torch.long))
    return InversionState(**kwargs)


def t(*rows):
    return torch.tensor(rows, dtype=torch.float64)


# --- distances ---------------------------------------------------------------
def test_jvs_hand_example():
    a, b = t([1., 2.]), t([2., 1.])
    # a.b = 4, a.a = b.b = 5: JVS = 4 / (5 + 5 - 4)
    assert jaccard_similarity(a, b).item() == pytest.approx(4 / 6)
    assert DISTANCES['jvs'](a, b).item() == pytest.approx(1 - 4 / 6)


def test_jvs_identity_cases():
    a = t([0.3, -1.2, 2.0], [5.0, 0.0, 1.0])
    assert torch.allclose(DISTANCES['jvs'](a, a), torch.zeros(2,
                                                              dtype=a.dtype),
                          atol=1e-7)
    orthogonal = DISTANCES['jvs'](t([1., 0.]), t([0., 3.]))
    assert orthogonal.item() == pytest.approx(1.0)
    opposite = jaccard_similarity(t([1., 1.]), t([-1., -1.]))
    assert opposite.item() == pytest.approx(-2 / 6)  # -2 / (2 + 2 + 2)
    zero = DISTANCES['jvs'](t([0., 0.]), t([0., 0.]))
    assert torch.isfinite(zero).all() and zero.item() == pytest.approx(1.0)


def test_jvs_is_per_row():
    a = t([1., 2.], [1., 0.])
    b = t([2., 1.], [0., 1.])
    assert torch.allclose(DISTANCES['jvs'](a, b), t(1 / 3, 1.0))


@pytest.mark.parametrize('name, expected', [
    ('l1', 2.0),  # |1-2| + |2-1|
    ('l2', math.sqrt(2.0)),
    ('cos', 1 - 4 / 5),  # cos = 4 / (sqrt5 sqrt5)
])
def test_ablation_distances(name, expected):
    assert DISTANCES[name](t([1., 2.]), t([2., 1.])).item() == pytest.approx(
        expected)


# --- priming -----------------------------------------------------------------
def test_layer_weight_rules():
    assert resolve_layer_weights(2.0, 3).tolist() == [2.0, 2.0, 2.0]
    assert resolve_layer_weights([1, 0.5], 2).tolist() == [1.0, 0.5]
    assert resolve_layer_weights('linear', 4).tolist() == [0.25, 0.5, 0.75,
                                                           1.0]
    assert resolve_layer_weights('reverse_linear', 2).tolist() == [1.0, 0.5]
    with pytest.raises(ValueError, match='3 values but 2 layers'):
        resolve_layer_weights([1, 2, 3], 2)
    with pytest.raises(ValueError, match='Unknown layer_weights rule'):
        resolve_layer_weights('quadratic', 2)


def test_priming_mean_over_layers_with_lambda():
    x = {'a': t([1., 2.], [0., 0.]), 'b': t([3.], [1.])}
    v = {'a': t([2., 1.], [0., 1.]), 'b': t([1.], [1.])}
    s = state(means=x, stimulus_means=v,
              targets=torch.zeros(2, dtype=torch.long))
    # l1 per layer: a -> [2, 1], b -> [2, 0]
    plain = PrimingLoss(distance='l1')(s)
    assert plain.shape == (2, )
    assert plain.tolist() == pytest.approx([(2 + 2) / 2, (1 + 0) / 2])
    weighted = PrimingLoss(distance='l1', layer_weights=[1.0, 3.0],
                           weight=2.0)(s)
    assert weighted.tolist() == pytest.approx(
        [2 * (2 + 3 * 2) / 2, 2 * (1 + 0) / 2])
    first = PrimingLoss(distance='l1', first_layer_multiplier=10)(s)
    assert first.tolist() == pytest.approx([(20 + 2) / 2, (10 + 0) / 2])
    jvs = PrimingLoss()(s)  # default distance: 1 - JVS
    # sample 0: layer a 1/3; layer b: 3 / (9 + 1 - 3) -> 1 - 3/7
    assert jvs[0].item() == pytest.approx((1 / 3 + 4 / 7) / 2)
    # the stimulus is a constant: calling twice gives the same value
    assert torch.equal(PrimingLoss()(s), jvs)


def test_priming_on_means_and_standard_deviations():
    """statistics='mean_std' compares [μ, σ] per layer: equal means no
    longer make it zero when the spread differs."""
    means = {'a': t([1., 0.])}
    s = state(means=means, stimulus_means=dict(means),
              variances={'a': t([4., 0.])},
              stimulus_variances={'a': t([1., 0.])})
    term = PrimingLoss(distance='l1', statistics='mean_std')
    assert term.requires == {'means', 'variances'}
    assert PrimingLoss().requires == {'means'}
    # σ: [2, 0] against [1, 0]; means equal -> l1 = 1
    assert term(s).item() == pytest.approx(1.0)
    assert PrimingLoss(distance='l1')(s).item() == pytest.approx(0.0)
    # JVS on [1, 0, 2, 0] and [1, 0, 1, 0]: 3 / (5 + 2 - 3)
    jvs = PrimingLoss(statistics='mean_std')(s)
    assert jvs.item() == pytest.approx(1 - 3 / 4)
    with pytest.raises(ValueError, match="statistics must be 'mean'"):
        PrimingLoss(statistics='std')


def test_priming_on_a_space_time_grid_sees_the_order_of_events():
    """grid=(2, 1, 1): cell means per time half. A stimulus whose halves
    are x*'s swapped (the same events in reverse) has the same channel means
    but a grid distance > 0."""
    x = {'a': t([[1., 3.], [0., 2.]])}  # (N=1, C=2, G=2)
    v = {'a': t([[3., 1.], [2., 0.]])}
    s = state(cells=x, stimulus_cells=v, means={'a': x['a'].mean(-1)},
              stimulus_means={'a': v['a'].mean(-1)})
    term = PrimingLoss(distance='l1', grid=(2, 1, 1))
    assert term.requires == {'cells'}
    assert PrimingLoss(distance='l1')(s).item() == pytest.approx(0.0)
    # |1-3| + |3-1| + |0-2| + |2-0|
    assert term(s).item() == pytest.approx(8.0)
    # JVS on [1, 3, 0, 2] and [3, 1, 2, 0]: 6 / (14 + 14 - 6)
    jvs = PrimingLoss(grid=(2, 1, 1))(s)
    assert jvs.item() == pytest.approx(1 - 6 / 22)
    same = state(cells=x, stimulus_cells=dict(x))
    assert term(same).item() == pytest.approx(0.0)
    with pytest.raises(ValueError, match='three positive cell counts'):
        PrimingLoss(grid=(2, 0, 1))
    with pytest.raises(ValueError, match='three positive cell counts'):
        PrimingLoss(grid=(2, 2, 2), statistics='mean_std')


def test_priming_rejects_unknown_distance():
    with pytest.raises(ValueError, match='Unknown priming distance'):
        PrimingLoss(distance='l3')


def test_priming_zero_when_means_equal():
    means = {'a': t([1., 2.]), 'b': t([0.5, 0.25, 3.])}
    for distance in DISTANCES:
        value = PrimingLoss(distance=distance)(
            state(means=means, stimulus_means=dict(means)))
        assert value.item() == pytest.approx(0.0, abs=1e-7), distance


# --- temporal coherence ------------------------------------------------------
FRAMES = [[0., 0.], [0.25, 0.5], [0.5, 0.25]]
# l1: d(0,1) = 0.75, d(1,2) = 0.5, d(0,2) = 0.75


def coherence_input(layout: str) -> torch.Tensor:
    frames = torch.tensor(FRAMES)  # (T=3, 2)
    if layout == 'channels':  # (1, C=2, 3, S=1)
        return frames.t()[None, :, :, None]
    return frames[None, None]  # (1, C=1, 3, S=2)


@pytest.mark.parametrize('layout', ['channels', 'space'])
def test_coherence_hand_values(layout):
    z = coherence_input(layout)
    raw = TemporalCoherenceLoss(margin=1.0, normalize='none')(
        state(temporal=z))
    # consecutive pairs add d; (0, 2) adds max(0, 1 - 0.75)
    assert raw.item() == pytest.approx(0.75 + 0.5 + 0.25)
    mean = TemporalCoherenceLoss(margin=1.0, normalize='mean')(
        state(temporal=z))
    # per-element distances are halved (C*S = 2 elements)
    assert mean.item() == pytest.approx(0.375 + 0.25 + (1 - 0.375))
    # a margin below d(0, 2) switches the hinge off; the weight scales
    small = TemporalCoherenceLoss(margin=0.5, normalize='none', weight=3.0)(
        state(temporal=z))
    assert small.item() == pytest.approx(3 * (0.75 + 0.5))


def test_coherence_default_is_mean_and_per_sample():
    z = torch.cat([coherence_input('space'), torch.zeros(1, 1, 3, 2)])
    value = TemporalCoherenceLoss()(
        state(temporal=z, targets=torch.zeros(2, dtype=torch.long)))
    # a static video: consecutive pairs 0, the (0, 2) hinge pays the margin
    assert value.tolist() == pytest.approx([1.25, 1.0])


def test_coherence_errors():
    with pytest.raises(ValueError, match='normalize'):
        TemporalCoherenceLoss(normalize='max')
    with pytest.raises(RuntimeError, match='temporal_layer'):
        TemporalCoherenceLoss()(state())


# --- feature diversity -------------------------------------------------------
RUNNING = [(t(0., 0.), t(1., 1.)), (t(1.), t(2.))]


def bn_stats(means, variances):
    return [(m, v, rm, rv)
            for (m, v), (rm, rv) in zip(zip(means, variances), RUNNING)]


def test_diversity_per_sample():
    stats = bn_stats(means=[t([3., 4.], [0., 0.]), t([1.], [2.])],
                     variances=[t([1., 1.], [1., 3.]), t([2.], [2.])])
    s = state(bn_stats=stats, targets=torch.zeros(2, dtype=torch.long))
    # sample 0: |(3,4)| + |(0,0)| + 0 + 0 = 5; sample 1: 0 + |(0,2)| + 1 + 0
    assert FeatureDiversityLoss()(s).tolist() == pytest.approx([5.0, 3.0])
    first = FeatureDiversityLoss(first_layer_multiplier=10, weight=0.5)(s)
    assert first.tolist() == pytest.approx([0.5 * 50, 0.5 * 21])
    # normalize: per layer / sqrt(channels) (layer 1 has 2, layer 2 one),
    # then the mean over the two layers
    normalized = FeatureDiversityLoss(normalize=True)(s)
    assert normalized.tolist() == pytest.approx(
        [(5 / math.sqrt(2) + 0) / 2, (2 / math.sqrt(2) + 1) / 2])
    pooled = FeatureDiversityLoss(normalize=True, batch_statistics=True)(s)
    # pooled layer 1: |(1.5, 2) - 0| + |(3.25, 6) - 1| = 2.5 + hypot(2.25,
    # 5); layer 2: |1.5 - 1| + |2.25 - 2|
    assert pooled.tolist() == pytest.approx(
        [((2.5 + math.hypot(2.25, 5.0)) / math.sqrt(2) + 0.75) / 2] * 2)


def test_diversity_batch_statistics_pool_the_batch():
    acts = [torch.randn(2, 2, 7, dtype=torch.float64),
            torch.randn(2, 1, 5, dtype=torch.float64) + 1]
    stats = bn_stats(means=[a.mean(-1) for a in acts],
                     variances=[a.var(-1, unbiased=False) for a in acts])
    s = state(bn_stats=stats, targets=torch.zeros(2, dtype=torch.long))
    value = FeatureDiversityLoss(batch_statistics=True)(s)
    expected = 0.
    for a, (rm, rv) in zip(acts, RUNNING):  # whole-batch statistics
        pooled = a.transpose(0, 1).flatten(1)
        expected += ((pooled.mean(1) - rm).norm() +
                     (pooled.var(1, unbiased=False) - rv).norm())
    assert value.tolist() == pytest.approx([expected.item()] * 2)
    # the hand example of test_diversity_per_sample, pooled
    stats = bn_stats(means=[t([3., 4.], [0., 0.]), t([1.], [2.])],
                     variances=[t([1., 1.], [1., 3.]), t([2.], [2.])])
    value = FeatureDiversityLoss(batch_statistics=True)(
        state(bn_stats=stats, targets=torch.zeros(2, dtype=torch.long)))
    # layer 1: mean (1.5, 2), var (1 + 2.25, 2 + 4); layer 2: 1.5, 2 + 0.25
    layer1 = 2.5 + math.hypot(2.25, 5.0)
    assert value.tolist() == pytest.approx([layer1 + 0.75] * 2)


# --- classification and input priors ----------------------------------------
def test_cross_entropy_and_logit_maximisation():
    logits = t([2., 0., 0.], [0., 1., 3.])
    targets = torch.tensor([0, 1])
    s = state(logits=logits, targets=targets)
    ce = ClassificationLoss()(s)
    assert ce.tolist() == pytest.approx([
        -math.log(math.e**2 / (math.e**2 + 2)),
        -math.log(math.e / (1 + math.e + math.e**3))])
    assert ClassificationLoss(weight=2.)(s).tolist() == pytest.approx(
        (2 * ce).tolist())
    assert LogitMaximization()(s).tolist() == pytest.approx([-2.0, -1.0])


def test_total_variation_and_input_norm():
    video = torch.arange(8.).reshape(1, 1, 2, 2, 2)  # steps t: 4, h: 2, w: 1
    s = state(video=video)
    assert TotalVariationLoss()(s).item() == pytest.approx(4 + 2 + 1)
    assert TotalVariationLoss(time_weight=0.5)(s).item() == pytest.approx(5.)
    assert InputNormLoss()(s).item() == pytest.approx(140 / 8)
    flat = state(video=torch.full((2, 3, 2, 3, 3), 2.),
                 targets=torch.zeros(2, dtype=torch.long))
    assert TotalVariationLoss()(flat).tolist() == [0.0, 0.0]
    assert InputNormLoss(weight=0.5)(flat).tolist() == [2.0, 2.0]


def test_total_variation_gradient():
    """The hand-written backward: by hand on a line of three values, and
    against autograd on the plain formula for a random batch."""
    line = torch.tensor([0., 2., 1.]).reshape(1, 1, 1, 1, 3).requires_grad_()
    TotalVariationLoss()(state(video=line)).sum().backward()
    # mean(|2 - 0|, |1 - 2|): d/dx = (-1, 1 + 1, -1) / 2
    assert line.grad.flatten().tolist() == [-0.5, 1.0, -0.5]

    video = torch.randn(2, 3, 4, 5, 6,
                        generator=torch.Generator().manual_seed(0))
    x = video.clone().requires_grad_()
    tv = TotalVariationLoss(time_weight=0.5, weight=3.0)
    (tv(state(video=x)) * torch.tensor([1.0, -2.0])).sum().backward()
    y = video.clone().requires_grad_()
    plain = 3.0 * (
        0.5 * (y[:, :, 1:] - y[:, :, :-1]).abs().flatten(1).mean(1)
        + (y[..., 1:, :] - y[..., :-1, :]).abs().flatten(1).mean(1)
        + (y[..., 1:] - y[..., :-1]).abs().flatten(1).mean(1))
    (plain * torch.tensor([1.0, -2.0])).sum().backward()
    assert torch.allclose(x.grad, y.grad)


# --- gradients ---------------------------------------------------------------
def test_gradients_reach_the_inputs():
    g = torch.Generator().manual_seed(0)

    def leaf(*shape):
        return torch.randn(*shape, generator=g).requires_grad_()

    video, logits = leaf(2, 3, 3, 4, 4), leaf(2, 5)
    means = {'a': leaf(2, 4), 'b': leaf(2, 6)}
    stimulus = {k: torch.randn(v.shape, generator=g) for k, v in means.items()}
    temporal = leaf(2, 4, 3, 5)
    bn_mean, bn_var = leaf(2, 4), leaf(2, 4)
    s = InversionState(
        video=video, targets=torch.tensor([1, 3]), logits=logits, means=means,
        stimulus_means=stimulus, temporal=temporal,
        bn_stats=[(bn_mean, bn_var, torch.zeros(4), torch.ones(4))])
    terms = [ClassificationLoss(), LogitMaximization(), TotalVariationLoss(),
             InputNormLoss(), TemporalCoherenceLoss(), FeatureDiversityLoss()]
    terms += [PrimingLoss(distance=d) for d in DISTANCES]
    for term in terms:
        value = term(s)
        assert value.shape == (2, ), type(term).__name__
        value.sum().backward()
    for name, tensor in [('video', video), ('logits', logits),
                         ('means.a', means['a']), ('means.b', means['b']),
                         ('temporal', temporal), ('bn_mean', bn_mean),
                         ('bn_var', bn_var)]:
        assert tensor.grad is not None, name
        assert tensor.grad.abs().sum() > 0, name


def test_losses_build_from_the_registry():
    with DefaultScope.overwrite_default_scope('leaps_mm'):
        built = [MODELS.build(dict(type=name)) for name in (
            'PrimingLoss', 'TemporalCoherenceLoss', 'FeatureDiversityLoss',
            'ClassificationLoss', 'LogitMaximization', 'TotalVariationLoss',
            'InputNormLoss')]
    assert [b.name for b in built] == ['prim', 'coh', 'feat', 'ce', 'logit',
                                       'tv', 'l2']


# --- the verifier must have BatchNorm ---------------------------------------
def inverter_cfg(verifier):
    return dict(
        type='LEAPSInverter',
        target=x3d_config(gamma_d=0.5),
        verifier=verifier,
        losses=[dict(type='ClassificationLoss'),
                dict(type='FeatureDiversityLoss')],
        input_size=(4, 32, 32))


def test_diversity_needs_a_verifier():
    with DefaultScope.overwrite_default_scope('leaps_mm'):
        with pytest.raises(ValueError, match='needs `model.verifier`'):
            MODELS.build(inverter_cfg(None))


def test_diversity_needs_a_batchnorm_verifier():
    timesformer = model_config(
        MMACTION + 'timesformer/timesformer_divST_8xb8-8x32x1-15e_'
        'kinetics400-rgb.py',
        dict(backbone=dict(pretrained=None, num_frames=4, img_size=32,
                           embed_dims=16, num_heads=2,
                           num_transformer_layers=1),
             cls_head=dict(in_channels=16, num_classes=5)))
    with DefaultScope.overwrite_default_scope('leaps_mm'):
        with pytest.raises(ValueError) as error:
            MODELS.build(inverter_cfg(timesformer))
    message = str(error.value)
    assert 'TimeSformer' in message and 'BatchNorm' in message
    assert 'X3D' in message and 'FeatureDiversityLoss' in message


# --- the still-frame prior ---------------------------------------------------
def test_still_frame_loss_is_the_target_probability_of_the_still():
    logits = t([0.0, math.log(3.0)], [2.0, 2.0]).float()
    out = StillFrameLoss(weight=2.0)(state(
        still_logits=logits, targets=torch.tensor([1, 0]),
        video=torch.zeros(2, 3, 2, 2, 2)))
    # softmax: [1/4, 3/4] and [1/2, 1/2]; target 1 and 0; times the weight
    assert torch.allclose(out, torch.tensor([1.5, 1.0]))


def test_still_is_one_frame_of_each_job_repeated_and_the_loss_falls():
    torch.manual_seed(0)  # the random X3D, whatever ran before
    cfg = dict(type='LEAPSInverter', target=x3d_config(head_std=1.0),
               losses=[dict(type='StillFrameLoss')], input_size=(4, 32, 32))
    with DefaultScope.overwrite_default_scope('leaps_mm'):
        inverter = MODELS.build(cfg)
    inverter.reset(torch.tensor([1, 2]), None)
    video = torch.arange(2 * 4, dtype=torch.float).reshape(2, 1, 4, 1, 1)
    still = inverter._still(video.expand(2, 3, 4, 2, 2))
    for j in range(2):  # every frame of job j is one frame of job j
        frame = still[j, 0, 0, 0, 0]
        assert (still[j] == frame).all() and frame in video[j, 0, :, 0, 0]
    optim_wrapper, scheduler = build_job_optimisation(inverter, 15)
    first = inverter.step(optim_wrapper)['loss_still']
    for _ in range(14):
        last = inverter.step(optim_wrapper)['loss_still']
    assert (last < first).all()
