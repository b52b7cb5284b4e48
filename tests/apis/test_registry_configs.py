"""Every inversion config in registry_configs/ (one per model of the paper,
plus the worked examples) loads, names an https checkpoint or none, becomes a
Runner config, and runs its recipe (the default one, _base_/leaps.py) for two
steps on the CPU with random weights; the default recipe is the main job's,
and _base_/leaps_paper.py is the paper's set-up.

The networks are the configs' own MMAction2 classes and layouts, with widths
and depths shrunk through config overrides where the class allows it, and
fixed input sizes (TimeSformer, UniFormerV2, MViT) shrunk with them, so the
whole file stays fast on two cores.
"""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from conftest import REPO
from leaps_mm.apis import build_runner_config
from leaps_mm.registry import MODELS

CONFIG_DIR = osp.join(REPO, 'registry_configs')
CONFIGS = sorted(glob.glob(osp.join(CONFIG_DIR, '*.py')) +
                 glob.glob(osp.join(CONFIG_DIR, 'examples', '*.py')))
PAPER_MODELS = {
    'r3d_r50', 'r2plus1d_r50', 'csn_r50', 'x3d_xs', 'x3d_s', 'x3d_m', 'x3d_l',
    'timesformer', 'swin_t', 'swin_s', 'swin_b', 'mvitv2_s', 'mvitv2_b',
    'uniformerv2_b', 'uniformerv2_l'}
INPUT_SIZE = (8, 32, 32)  # x*
VERIFIER_INPUT_SIZE = (4, 32, 32)


def config_id(path: str) -> str:
    return osp.relpath(path, CONFIG_DIR)[:-3]


def fixed_input_size(backbone: dict):
    """``(T, H, W)`` a backbone is built for, when it only takes that."""
    kind = backbone.type.split('.')[-1]
    if kind == 'TimeSformer':
        return (backbone.num_frames, backbone.img_size, backbone.img_size)
    if kind == 'UniFormerV2':
        res = backbone.get('input_resolution', 224)
        return (backbone.get('t_size', 8), res, res)
    if kind == 'MViT':  # relative position tables are sized for it
        res = backbone.get('spatial_size', 224)
        return (backbone.get('temporal_size', 16), res, res)
    return None


def shrink(model: dict, target_size):
    """Make the recognizer of a config small; return the target input size
    of the shrunk network ``(T, H, W)`` (None for size-agnostic ones)."""
    backbone, head = model.backbone, model.cls_head
    kind = backbone.type.split('.')[-1]
    if kind == 'X3D':
        # real widths and depths; only the clip is small
        return (min(target_size[0], 8), 32, 32)
    if kind in ('ResNet3d', 'ResNet3dSlowOnly', 'ResNet2Plus1d', 'ResNet3dCSN'):
        backbone.base_channels = 8  # bottleneck output 8 * 8 * 4
        head.in_channels = 256
        return None
    if kind == 'TimeSformer':  # fixed: T = num_frames, H = img_size
        backbone.update(img_size=32, embed_dims=48, num_heads=2,
                        num_transformer_layers=2)
        head.in_channels = 48
        return (backbone.num_frames, 32, 32)
    if kind == 'SwinTransformer3D':
        backbone.arch = dict(embed_dims=16, depths=[2, 2, 2, 2],
                             num_heads=[1, 1, 2, 2])
        head.in_channels = 128
        return (8, 64, 64)
    if kind == 'MViT':  # relative positions are sized for the input
        backbone.update(spatial_size=64, temporal_size=8, arch=dict(
            embed_dims=16, num_layers=6, num_heads=1,
            downscale_indices=[1, 3, 5]))
        model.data_preprocessor.blending = None
        head.in_channels = 128
        return (8, 64, 64)
    if kind == 'UniFormerV2':  # fixed: T = t_size, H = input_resolution
        resolution = 2 * backbone.patch_size
        backbone.update(input_resolution=resolution, t_size=8, width=32,
                        heads=2, n_dim=32, n_head=2)
        head.in_channels = 32
        return (8, resolution, resolution)
    raise AssertionError(f'no test settings for backbone {kind}')


@pytest.mark.parametrize('path', CONFIGS, ids=config_id)
def test_config_builds_and_inverts_two_steps(path):
    name = config_id(path)
    cfg = Config.fromfile(path)

    # checkpoint: an OpenMMLab https URL, or none (no zoo weights exist)
    inverter_cfg = cfg.leaps.inverter
    for key in ('target_checkpoint', 'verifier_checkpoint'):
        url = inverter_cfg[key]
        assert url is None or url.startswith('https://'), (key, url)
    assert inverter_cfg.verifier_checkpoint is not None  # X3D-S, leaps.py
    size = inverter_cfg.target_input_size
    if size is not None:
        assert len(size) == 3 and all(isinstance(s, int) for s in size)
    fixed = fixed_input_size(cfg.model.backbone)
    if fixed is not None:  # x* must be interpolated to what it was built for
        assert tuple(size) == fixed, (name, size, fixed)

    runner_cfg = build_runner_config(cfg)
    assert runner_cfg.model.type == 'LEAPSInverter'
    assert runner_cfg.model.target.type.split('.')[-1].startswith(
        'Recognizer')
    assert runner_cfg.test_dataloader.dataset.type == 'StimulusDataset'
    assert runner_cfg.test_cfg.identity.target_checkpoint == (
        inverter_cfg.target_checkpoint)
    assert 'leaps_identity' not in runner_cfg

    # two LEAPS steps, random weights, small sizes
    model_cfg = runner_cfg.model
    target_size = shrink(model_cfg.target, size or INPUT_SIZE)
    if size is None:
        assert target_size is None, f'{name}: set target_input_size'
    model_cfg.update(target_checkpoint=None, verifier_checkpoint=None,
                     input_size=INPUT_SIZE, target_input_size=target_size,
                     verifier_input_size=VERIFIER_INPUT_SIZE)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('leaps_mm'):
        inverter = MODELS.build(model_cfg)

    stimulus = torch.randn((1, 3) + INPUT_SIZE)
    inverter.reset(torch.tensor([3]), stimulus)
    tapped = inverter.target_taps.modules
    assert len(inverter.stimulus_means) == len(tapped), name
    start = inverter.video.detach().clone()
    optimizer = torch.optim.Adam(inverter.parameterization.parameters(), lr=0.2)
    for _ in range(2):
        optimizer.zero_grad()
        losses = inverter(mode='loss')
        assert set(losses) == {'loss_logit', 'loss_prim', 'loss_coh',
                               'loss_tv', 'loss_l2', 'loss_still'}
        for key, value in losses.items():
            assert value.shape == (1, ), key
            assert torch.isfinite(value).all(), (name, key, value)
        assert losses['loss_coh'].item() > 0, f'{name}: no time axis'
        sum(v.sum() for v in losses.values()).backward()
        assert torch.isfinite(inverter.parameterization.latent.grad).all()
        optimizer.step()
        inverter.after_step()
    assert inverter.video.shape == (1, 3) + INPUT_SIZE
    assert not torch.equal(inverter.video.detach(), start)


def test_every_paper_model_has_a_config():
    names = {config_id(p) for p in CONFIGS}
    assert PAPER_MODELS <= names, PAPER_MODELS - names


def _recipe(cfg):
    """The parts of a config that make its objective and x*."""
    inverter, loop = cfg.leaps.inverter, cfg.leaps.loop
    return dict(losses=inverter.losses,
                parameterization=inverter.parameterization,
                transforms=inverter.transforms, iters=loop.iters,
                optim_wrapper=loop.optim_wrapper,
                param_scheduler=loop.param_scheduler)


@pytest.mark.parametrize('name', ['x3d_s', 'swin_b', 'examples/i3d_r50'])
def test_family_config_gets_the_main_jobs_recipe(name):
    """A user's model (a family config, via _base_/leaps.py) gets the main
    job's objective, parameterisation, transforms and schedule, with the
    roll scaled from the main job's 64^2 x* to its own 224^2 one."""
    main = _recipe(Config.fromfile(osp.join(CONFIG_DIR, 'demo',
                                            'leaps_r3d.py')))
    cfg = Config.fromfile(osp.join(CONFIG_DIR, f'{name}.py'))
    family = _recipe(cfg)
    assert tuple(cfg.leaps.inverter.input_size) == (8, 224, 224)
    assert [t['type'] for t in family['transforms']] == [
        t['type'] for t in main['transforms']]
    for mine, theirs in zip(family['transforms'], main['transforms']):
        if mine['type'] == 'RandomRoll':  # pixels, scaled with x*'s side
            assert (theirs['max_shift'], mine['max_shift']) == (4, 14)
        else:
            assert mine == theirs
    for key in ('losses', 'parameterization', 'iters', 'optim_wrapper',
                'param_scheduler'):
        assert family[key] == main[key], key
    assert [t['type'] for t in family['losses']] == [
        'LogitMaximization', 'PrimingLoss', 'TemporalCoherenceLoss',
        'TotalVariationLoss', 'InputNormLoss', 'StillFrameLoss']
    assert family['parameterization'].type == 'FourierVideo'
    assert (family['iters'], family['optim_wrapper'].optimizer.lr) == (
        200, 0.05)
    assert cfg.verifier.backbone.type == 'X3D'  # scores x*, not in the loss


def test_paper_config_is_the_papers_set_up():
    """_base_/leaps_paper.py: eq. 4 with R_feat on the X3D-S verifier,
    pixel x*, no transforms, 2000 Adam steps at lr 0.2, cosine."""
    cfg = Config.fromfile(osp.join(CONFIG_DIR, '_base_', 'leaps_paper.py'))
    paper = _recipe(cfg)
    assert [dict(t) for t in paper['losses']] == [
        dict(type='ClassificationLoss', weight=1.0),
        dict(type='PrimingLoss', distance='jvs', layer_weights=1.0),
        dict(type='TemporalCoherenceLoss', margin=1.0, normalize='mean',
             weight=0.1),
        dict(type='FeatureDiversityLoss', weight=0.1)]
    assert dict(paper['parameterization']) == dict(
        type='PixelVideo', init_std=1.0, colour='rgb', value_range='clip')
    assert paper['transforms'] == []
    assert paper['iters'] == 2000
    assert paper['optim_wrapper'].optimizer.lr == 0.2
    assert paper['param_scheduler'].type == 'CosineAnnealingLR'
    assert tuple(cfg.leaps.inverter.input_size) == (8, 224, 224)
    assert cfg.verifier.backbone.type == 'X3D'
    assert cfg.leaps.inverter.verifier_checkpoint.startswith('https://')
    # the random-weights pipeline demo keeps the paper's set-up
    demo = _recipe(Config.fromfile(osp.join(CONFIG_DIR, 'demo',
                                            'leaps_random_x3d.py')))
    assert demo == dict(paper, iters=60)
