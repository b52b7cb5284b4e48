"""FeatureTaps on the real MMAction2 backbones (random weights, shrunk widths
and depths through config overrides, the classes and layouts MMAction2 ships).

``FAMILIES`` holds, per family, the FeatureTaps settings that tap every norm
layer of the backbone for priming and the last block's activation for
coherence, with the time grid ``T'`` and spatial size ``S`` of that
activation worked out from the architecture.
"""
import re

import pytest
import torch
from einops import rearrange
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from leaps_mm.models.taps import FeatureTaps, TokenGrid, to_time_grid
from mm_builders import MMACTION, build, x3d_config
from leaps_mm.models.inverter import build_frozen_recognizer


def conv_grid(x, n):  # BatchNorm input (N, C, T, H, W)
    return rearrange(x, 'n c t h w -> n c t (h w)')


def swin_grid(x, n):  # Swin blocks (N, T', H', W', C)
    return rearrange(x, 'n t h w c -> n c t (h w)')


def mvit_grid(t_prime):  # (N, 1 + T'*H'*W', C), time-major
    return lambda x, n: rearrange(x[:, 1:], 'n (t s) c -> n c t s',
                                  t=t_prime)


def timesformer_grid(t_prime):  # (N, 1 + P*T, C), patch-major (p t)
    return lambda x, n: rearrange(x[:, 1:], 'n (s t) c -> n c t s',
                                  t=t_prime)


def uniformer_grid(x, n):  # CLIP blocks (1 + HW, N*T, C), cls per frame
    return rearrange(x[1:], 's (n t) c -> n c t s', n=n)


# Per family: config (MMAction2's), overrides that shrink it, input (T, H, W),
# FeatureTaps kwargs, and the expected coherence activation (N, C, T', S).
FAMILIES = {
    # X3D never strides time: T' = T. 64 / 32 = 2 -> S = 4.
    'x3d_s': dict(
        config=None, input=(8, 64, 64),
        taps=dict(module_types=('BatchNorm3d', ),
                  temporal_layer='backbone.conv5.bn'),
        grid=conv_grid, expect=dict(C=432, T=8, S=4)),
    # SlowOnly R50 (8x8x1): conv1/pool1 time strides 1, no pool2: T' = T.
    'slowonly_r50': dict(
        config='slowonly/slowonly_r50_8xb16-8x8x1-256e_kinetics400-rgb.py',
        overrides=dict(backbone=dict(pretrained=None, base_channels=8),
                       cls_head=dict(in_channels=256)),
        input=(8, 32, 32),
        taps=dict(module_types=('BatchNorm3d', ),
                  temporal_layer='backbone.layer4.2.conv3.bn'),
        grid=conv_grid, expect=dict(C=256, T=8, S=1)),
    # I3D R50: conv1 stride_t 2, pool1 stride_t 2, pool2 (2,1,1): T' = T/8.
    'i3d_r50': dict(
        config='i3d/i3d_imagenet-pretrained-r50_8xb8-32x2x1-100e_'
        'kinetics400-rgb.py',
        overrides=dict(backbone=dict(pretrained=None, pretrained2d=False,
                                     base_channels=8),
                       cls_head=dict(in_channels=256)),
        input=(16, 32, 32),
        taps=dict(module_types=('BatchNorm3d', ),
                  temporal_layer='backbone.layer4.2.conv3.bn'),
        grid=conv_grid, expect=dict(C=256, T=2, S=1)),
    # R(2+1)D-34: temporal strides (1, 2, 2, 2) -> T' = T/8. Its SyncBN
    # becomes mmengine's _BatchNormXd; Conv2plus1d adds plain BatchNorm3d.
    'r2plus1d_r34': dict(
        config='r2plus1d/r2plus1d_r34_8xb8-8x8x1-180e_kinetics400-rgb.py',
        overrides=dict(backbone=dict(pretrained=None, base_channels=8),
                       cls_head=dict(in_channels=64)),
        input=(16, 32, 32),
        taps=dict(module_types=('BatchNorm3d', '_BatchNormXd'),
                  temporal_layer='backbone.layer4.2.conv2.bn'),
        grid=conv_grid, expect=dict(C=64, T=2, S=1)),
    # irCSN-50: temporal strides (1, 2, 2, 2) -> T' = T/8 (BN frozen).
    'ircsn_r50': dict(
        config='csn/ircsn_ig65m-pretrained-r50-bnfrozen_8xb12-32x2x1-58e_'
        'kinetics400-rgb.py',
        overrides=dict(backbone=dict(pretrained=None, base_channels=8),
                       cls_head=dict(in_channels=256)),
        input=(16, 32, 32),
        taps=dict(module_types=('BatchNorm3d', ),
                  temporal_layer='backbone.layer4.2.conv3.bn'),
        grid=conv_grid, expect=dict(C=256, T=2, S=1)),
    # TimeSformer (divided space-time): 2-D patches per frame, T' = T, tokens
    # ordered patch-major; img_size and num_frames are fixed by the config.
    'timesformer': dict(
        config='timesformer/timesformer_divST_8xb8-8x32x1-15e_'
        'kinetics400-rgb.py',
        overrides=dict(backbone=dict(pretrained=None, num_frames=8,
                                     img_size=32, embed_dims=48, num_heads=2,
                                     num_transformer_layers=2),
                       cls_head=dict(in_channels=48)),
        input=(8, 32, 32),
        taps=dict(module_types=('LayerNorm', ),
                  token_grid=dict(cls_token=True, time_major=False),
                  temporal_layer='backbone.norm'),
        grid=timesformer_grid(8), expect=dict(C=48, T=8, S=4)),
    # Video Swin-T: patch (2, 4, 4) halves time; merging is spatial only.
    'swin_t': dict(
        config='swin/swin-tiny-p244-w877_in1k-pre_8xb8-amp-32x2x1-30e_'
        'kinetics400-rgb.py',
        overrides=dict(backbone=dict(
            pretrained=None, pretrained2d=False,
            arch=dict(_delete_=True, embed_dims=16, depths=[2, 2, 6, 2],
                      num_heads=[1, 1, 2, 2])),
                       cls_head=dict(in_channels=128)),
        input=(8, 64, 64),
        taps=dict(module_types=('LayerNorm', ),
                  token_grid=dict(temporal_stride=2),
                  temporal_layer='backbone.norm3'),
        grid=swin_grid, expect=dict(C=128, T=4, S=4)),
    # MViTv2-S: patch embedding stride (2, 4, 4) halves time; q-pooling
    # strides (1, 2, 2) are spatial only.
    'mvitv2_s': dict(
        config='mvit/mvit-small-p244_32xb16-16x4x1-200e_kinetics400-rgb.py',
        overrides=dict(backbone=dict(
            spatial_size=64, temporal_size=8,
            arch=dict(_delete_=True, embed_dims=16, num_layers=16,
                      num_heads=1, downscale_indices=[1, 3, 14])),
                       data_preprocessor=dict(blending=None),
                       cls_head=dict(in_channels=128)),
        input=(8, 64, 64),
        taps=dict(module_types=('LayerNorm', ),
                  token_grid=dict(cls_token=True, temporal_stride=2),
                  temporal_layer='backbone.norm3'),
        grid=mvit_grid(4), expect=dict(C=128, T=4, S=4)),
    # UniFormerV2-B/16: (1, 16, 16) patches, T' = T = t_size; CLIP blocks are
    # sequence-first (1 + HW, N*T, C); ln_pre and the final norm are not.
    # The first global block's ln_1 normalises the learned temporal cls token
    # alone (the same for every input): no use for priming, excluded.
    'uniformerv2_b': dict(
        config='uniformerv2/uniformerv2-base-p16-res224_clip_8xb32-u8_'
        'kinetics400-rgb.py',
        overrides=dict(backbone=dict(
            clip_pretrained=False, pretrained=None, input_resolution=32,
            t_size=8, width=32, heads=2, n_dim=32, n_head=2),
                       cls_head=dict(in_channels=32)),
        input=(8, 32, 32),
        taps=dict(module_types=('LayerNorm', ),
                  exclude=r'transformer\.dec\.0\.ln_1$',
                  token_grid=dict(
                      batch_dim=1, cls_token=True,
                      batch_first_layers=r'\.ln_pre$|transformer\.norm$'),
                  temporal_layer='backbone.transformer.resblocks.11.ln_2'),
        grid=uniformer_grid, expect=dict(C=32, T=8, S=4)),
}


def build_family(name):
    family = FAMILIES[name]
    if family['config'] is None:
        return build_frozen_recognizer(x3d_config(num_classes=5))
    overrides = dict(family['overrides'])
    overrides['cls_head'] = dict(overrides['cls_head'], num_classes=5)
    return build(MMACTION + family['config'], overrides)


@pytest.fixture(scope='module', params=list(FAMILIES))
def family(request):
    torch.manual_seed(0)
    name = request.param
    return name, FAMILIES[name], build_family(name)


def norm_layers(model):
    return {n: m for n, m in model.named_modules()
            if n.startswith('backbone.')
            and isinstance(m, (_BatchNorm, nn.LayerNorm))}


def width(module):
    if isinstance(module, _BatchNorm):
        return module.num_features
    return module.normalized_shape[-1]


def raw_inputs(model, names, video):
    """The raw input of each named module for one forward of ``video``."""
    inputs, handles = {}, []
    modules = dict(model.named_modules())
    for name in names:
        handles.append(modules[name].register_forward_pre_hook(
            lambda _m, args, name=name: inputs.__setitem__(
                name, args[0].detach().clone())))
    try:
        with torch.no_grad():
            model.extract_feat(video[:, None], stage='head')
    finally:
        for handle in handles:
            handle.remove()
    return inputs


def manual_mean(x, module):
    """Channel mean of a one-sample activation over everything else."""
    channel_dim = 1 if isinstance(module, _BatchNorm) else -1
    return x.movedim(channel_dim, -1).reshape(-1, x.shape[channel_dim]).mean(0)


def test_taps_every_norm_layer_with_per_sample_means_and_time_grid(family):
    name, settings, model = family
    assert not any(isinstance(m, nn.SyncBatchNorm) for m in model.modules())
    video = torch.randn((2, 3) + settings['input'])
    taps = FeatureTaps(model, **settings['taps'])
    try:
        # priming taps every BatchNorm/LayerNorm of the backbone (but those
        # excluded on purpose)
        norms = norm_layers(model)
        exclude = settings['taps'].get('exclude')
        if exclude:
            dropped = {n for n in norms if re.search(exclude, n)}
            assert len(dropped) == 1
            norms = {n: m for n, m in norms.items() if n not in dropped}
        assert set(taps.modules) == set(norms), name
        with torch.no_grad(), taps.capture(
                2, video.shape[2], want=('means', 'temporal')) as captured:
            model.extract_feat(video[:, None], stage='head')
    finally:
        taps.remove()
    assert set(captured.means) == set(norms)

    # every layer: (N, C) with C the layer's width, equal to the mean over
    # all non-channel axes of each sample run alone, different per sample
    alone = [raw_inputs(model, norms, video[i:i + 1]) for i in range(2)]
    for layer, module in norms.items():
        means = captured.means[layer]
        assert means.shape == (2, width(module)), layer
        for i in range(2):
            expected = manual_mean(alone[i][layer], module)
            assert torch.allclose(means[i], expected, rtol=1e-4,
                                  atol=1e-5), (layer, i)
        assert not torch.allclose(means[0], means[1]), layer

    # coherence: the last block's activation as (N, C, T', S)
    expect = settings['expect']
    z = captured.temporal
    assert z is not None, name
    assert z.shape == (2, expect['C'], expect['T'], expect['S']), name
    raw = raw_inputs(model, [settings['taps']['temporal_layer']], video)
    manual = settings['grid'](raw[settings['taps']['temporal_layer']], 2)
    assert torch.allclose(z, manual, rtol=1e-4, atol=1e-5), name
    assert not torch.allclose(z[0], z[1])


def test_variances_per_sample_beside_the_means(family):
    """``want=('means', 'variances')``: every layer's channel variances
    (biased, over all non-channel axes) of each sample run alone, fused
    BatchNorm layers included; without ``'variances'`` none are kept."""
    name, settings, model = family
    video = torch.randn((2, 3) + settings['input'])
    taps = FeatureTaps(model, **settings['taps'])
    try:
        with torch.no_grad(), taps.capture(
                2, video.shape[2], want=('means', 'variances')) as got:
            model.extract_feat(video[:, None], stage='head')
        with torch.no_grad(), taps.capture(
                2, video.shape[2], want=('means', )) as plain:
            model.extract_feat(video[:, None], stage='head')
    finally:
        taps.remove()
    assert plain.variances == {}
    assert set(got.variances) == set(got.means) == set(plain.means)
    alone = [raw_inputs(model, list(got.means), video[i:i + 1])
             for i in range(2)]
    modules = dict(model.named_modules())
    for layer, variances in got.variances.items():
        assert torch.equal(got.means[layer], plain.means[layer]), layer
        channel_dim = 1 if isinstance(modules[layer], _BatchNorm) else -1
        for i in range(2):
            x = alone[i][layer]
            flat = x.movedim(channel_dim, -1).reshape(-1, x.shape[channel_dim])
            expected = flat.var(0, unbiased=False)
            # E[x²] - E[x]² in fp32: the error scales with E[x²]
            scale = flat.square().mean(0)
            assert ((variances[i] - expected).abs()
                    <= 1e-4 * scale + 1e-6).all(), (name, layer, i)


def test_cells_are_means_over_a_space_time_grid(family):
    """``want=('cells', )``: per layer with a space-time layout, channel
    means over grid cells ``(N, C, g)``. One cell is the channel mean
    (where no class token is left out of the grid); the coherence layer's
    two time halves are the means of its ``(N, C, T', S)`` grid over each
    half."""
    name, settings, model = family
    video = torch.randn((2, 3) + settings['input'])
    taps = FeatureTaps(model, **settings['taps'])
    layer = settings['taps']['temporal_layer']
    try:
        with torch.no_grad(), taps.capture(
                2, video.shape[2], want=('means', 'cells'),
                cells=(1, 1, 1)) as one:
            model.extract_feat(video[:, None], stage='head')
        with torch.no_grad(), taps.capture(
                2, video.shape[2], want=('cells', ), cells=(2, 1, 1)) as two:
            model.extract_feat(video[:, None], stage='head')
    finally:
        taps.remove()
    assert layer in one.cells and not two.means, name
    cls_token = settings['taps'].get('token_grid', {}).get('cls_token')
    for key, cells in one.cells.items():
        assert cells.shape == one.means[key].shape + (1, ), (name, key)
        assert cls_token or torch.allclose(cells[..., 0], one.means[key], rtol=1e-4,
                              atol=1e-5), (name, key)
    z = settings['grid'](raw_inputs(model, [layer], video)[layer], 2)
    half = z.shape[2] // 2
    expected = torch.stack([z[:, :, :half].mean((2, 3)),
                            z[:, :, half:].mean((2, 3))], -1)
    assert two.cells[layer].shape == (2, z.shape[1], 2), name
    assert torch.allclose(two.cells[layer], expected, rtol=1e-4,
                          atol=1e-5), name


def test_default_temporal_layer_is_the_last_with_a_time_axis():
    """Without ``temporal_layer`` the last tapped layer in execution order
    whose input has a time axis is used (X3D: ``conv5.bn``)."""
    model = build_family('x3d_s')
    video = torch.randn(2, 3, 8, 32, 32)
    taps = FeatureTaps(model, module_types=('BatchNorm3d', ))
    with torch.no_grad(), taps.capture(2, 8, want=('temporal', )) as got:
        model.extract_feat(video[:, None], stage='head')
    taps.remove()
    raw = raw_inputs(model, ['backbone.conv5.bn'], video)['backbone.conv5.bn']
    assert torch.equal(got.temporal, conv_grid(raw, 2))
    assert not got.means and not got.bn_stats  # only what was asked for


def test_bn_stats_per_sample_and_running_statistics():
    model = build_family('x3d_s')
    video = torch.randn(2, 3, 8, 32, 32)
    taps = FeatureTaps(model, module_types=('BatchNorm3d', ), include=None)
    with torch.no_grad(), taps.capture(2, 8, want=('bn_stats', )) as got:
        model.extract_feat(video[:, None], stage='head')
    taps.remove()
    bns = {n: m for n, m in model.named_modules() if isinstance(m, _BatchNorm)}
    assert len(got.bn_stats) == len(bns)
    first = next(iter(bns))
    raw = raw_inputs(model, [first], video)[first]  # (N, C, T, H, W)
    mean, var, running_mean, running_var = got.bn_stats[0]
    flat = raw.transpose(0, 1).flatten(2)  # (C, N, THW)
    assert torch.allclose(mean, flat.mean(-1).t(), atol=1e-5)
    assert torch.allclose(var, flat.var(-1, unbiased=False).t(), atol=1e-5)
    assert running_mean is bns[first].running_mean
    assert running_var is bns[first].running_var


def test_taps_are_idle_outside_a_capture_and_removable():
    """BatchNorm layers take their sums inside the layer (an instance
    ``forward``), other layers by a forward pre-hook; outside a capture the
    network computes what it computed before, and ``remove`` restores it."""
    model = build_family('x3d_s')
    video = torch.randn(1, 1, 3, 4, 32, 32)
    with torch.no_grad():
        before = model.extract_feat(video, stage='head')[0]

    def fused():
        return {n for n, m in model.named_modules() if 'forward' in vars(m)}

    def hooked():
        return {n for n, m in model.named_modules() if m._forward_pre_hooks}

    # Conv3d: a kind other than BatchNorm, so tapped by a hook
    taps = FeatureTaps(model, module_types=('BatchNorm3d', 'Conv3d'))
    with torch.no_grad():
        after = model.extract_feat(video, stage='head')[0]
    assert taps._active is None and torch.equal(after, before)
    batchnorms = {n for n, m in taps.modules.items()
                  if isinstance(m, _BatchNorm)}
    assert fused() == batchnorms and hooked() == set(taps.modules) - batchnorms
    taps.remove()
    assert not fused() and not hooked()

    taps = FeatureTaps(model, fuse_batchnorm=False)
    assert not fused() and hooked() == set(taps.modules)
    taps.remove()
    assert not hooked()


def test_batchnorm_statistics_and_gradients_are_the_same_fused_or_not():
    """The sums taken inside BatchNorm layers give the statistics and video
    gradients of the hooks' separate sums (means, BatchNorm means and
    variances), also for a layer in training mode, which is not fused."""
    model = build_family('x3d_s')
    model.backbone.layer1[0].conv2.bn.train()  # takes the hooks' path
    video = torch.randn(2, 3, 4, 32, 32)
    results = []
    for fuse in (True, False):
        x = video.clone().requires_grad_()
        taps = FeatureTaps(model, fuse_batchnorm=fuse)
        try:
            with taps.capture(2, 4, want=('means', 'bn_stats')) as got:
                model.extract_feat(x[:, None], stage='head')
        finally:
            taps.remove()
        g = torch.Generator().manual_seed(0)
        loss = sum((mean * torch.randn(mean.shape, generator=g)).sum()
                   for mean in got.means.values())
        for mean, var, _, _ in got.bn_stats:
            loss = loss + (var * torch.randn(var.shape, generator=g)).sum()
        grad, = torch.autograd.grad(loss, x)
        results.append((loss.detach(), grad))
    (loss_fused, grad_fused), (loss_hooks, grad_hooks) = results
    assert torch.allclose(loss_fused, loss_hooks, rtol=1e-5)
    scale = grad_hooks.abs().max()
    assert scale > 0
    assert (grad_fused - grad_hooks).abs().max() <= 1e-4 * scale


def test_taps_config_errors():
    model = build_family('x3d_s')
    with pytest.raises(ValueError, match='No module of type'):
        FeatureTaps(model, module_types=('LayerNorm', ))
    with pytest.raises(ValueError, match='temporal_layer'):
        FeatureTaps(model, temporal_layer='backbone.nothing')
    taps = FeatureTaps(model, exclude=r'layer[1-4]\.')
    assert set(taps.modules) == {'backbone.conv1_t.bn', 'backbone.conv5.bn'}
    taps.remove()


def test_token_grid_orders_and_sequence_first():
    n, t, s, c = 2, 3, 4, 5
    grid = torch.randn(n, c, t, s)
    cls = torch.randn(n, 1, c)
    time_major = torch.cat([cls, rearrange(grid, 'n c t s -> n (t s) c')], 1)
    space_major = torch.cat([cls, rearrange(grid, 'n c t s -> n (s t) c')], 1)
    assert torch.equal(to_time_grid(time_major, n, 2 * t, True, TokenGrid(
        cls_token=True, temporal_stride=2)), grid)
    assert torch.equal(to_time_grid(space_major, n, t, True, TokenGrid(
        cls_token=True, time_major=False)), grid)
    seq_first = rearrange(grid, 'n c t s -> s (n t) c')
    seq_first = torch.cat([torch.randn(1, n * t, c), seq_first])
    assert torch.equal(to_time_grid(seq_first, n, t, True, TokenGrid(
        batch_dim=1, cls_token=True)), grid)
    # token counts that do not split into T' frames: no grid
    assert to_time_grid(time_major[:, 1:], n, 5, True, TokenGrid()) is None


@pytest.mark.parametrize('name, layer, t_prime', [
    ('r2plus1d_r34', 'backbone.layer4.2.conv2.bn', 1),
    ('r2plus1d_r34', 'backbone.layer4.0.conv1.bn', 1),
    ('r2plus1d_r34', 'backbone.layer4.0.conv1.conv.bn_s', 2),
    ('r2plus1d_r34', 'backbone.layer3.5.conv2.bn', 2),
    ('ircsn_r50', 'backbone.layer4.2.conv3.bn', 1),
    ('ircsn_r50', 'backbone.layer4.0.conv1.bn', 2),
    ('i3d_r50', 'backbone.layer4.2.conv3.bn', 1),
    ('i3d_r50', 'backbone.layer1.2.conv3.bn', 2),
])
def test_time_grid_at_the_papers_8_frames(name, layer, t_prime):
    """At 8 input frames the ResNets with temporal strides have T' = 1 in
    their last stage, where coherence (eq. 2) has no frame pair: pick a layer
    with T' >= 2 (or feed more frames) for those."""
    model = build_family(name)
    taps = FeatureTaps(model, module_types=('BatchNorm3d', '_BatchNormXd'),
                       temporal_layer=layer)
    with torch.no_grad(), taps.capture(1, 8, want=('temporal', )) as got:
        model.extract_feat(torch.randn(1, 1, 3, 8, 32, 32), stage='head')
    taps.remove()
    assert got.temporal.shape[2] == t_prime


def test_means_carry_the_gradient_of_torchs_own_mean(family):
    """The gradient w.r.t. each video of a loss on the tapped means equals
    that of the same loss on ``torch.mean`` of the raw inputs, the sample
    run alone."""
    name, settings, model = family
    video = torch.randn((2, 3) + settings['input'])
    x = video.clone().requires_grad_()
    taps = FeatureTaps(model, **settings['taps'])
    try:
        with taps.capture(2, video.shape[2], want=('means', )) as got:
            model.extract_feat(x[:, None], stage='head')
    finally:
        taps.remove()
    g = torch.Generator().manual_seed(1)
    weights = {layer: torch.randn(mean.shape[-1], generator=g)
               for layer, mean in got.means.items()}
    grad, = torch.autograd.grad(
        sum((got.means[layer] * w).sum() for layer, w in weights.items()), x)
    modules = dict(model.named_modules())
    for i in range(2):
        alone = video[i:i + 1].clone().requires_grad_()
        means = {}
        handles = [modules[layer].register_forward_pre_hook(
            lambda _m, args, layer=layer: means.__setitem__(
                layer, manual_mean(args[0], modules[layer])))
            for layer in weights]
        try:
            model.extract_feat(alone[:, None], stage='head')
        finally:
            for handle in handles:
                handle.remove()
        ref, = torch.autograd.grad(
            sum((means[layer] * w).sum() for layer, w in weights.items()),
            alone)
        scale = ref.abs().max()
        assert scale > 0, name
        assert (grad[i] - ref[0]).abs().max() <= 1e-4 * scale, name


def test_batchnorm_on_features_without_space_or_time():
    """A BatchNorm1d on ``(N, C)`` features (nothing to sum over) keeps
    the general path: its mean is the input itself."""
    net = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3)).eval()
    net.requires_grad_(False)
    taps = FeatureTaps(net, module_types=('BatchNorm1d', ), include=None)
    x = torch.randn(2, 4)
    with torch.no_grad(), taps.capture(2, 1) as got:
        out = net(x)
    taps.remove()
    assert torch.allclose(got.means['1'], net[0](x))
    assert torch.allclose(out, net(x))
