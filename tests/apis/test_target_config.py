"""`target = dict(from_config=...)`: a recipe applied to another model, with
x*'s clip size and the stimulus pipeline taken from that model's own test
pipeline (registry_configs/examples/recipes/), and the warning when the
stimulus clip, x* and the model's clip differ in length."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
from mmengine.config import Config

from conftest import REPO, STIMULI
from leaps_mm.apis import build_runner_config
from leaps_mm.apis.runner_config import (ClipLengthWarning,
                                         clip_length_message,
                                         pipeline_clip_size, resolve_target)

CONFIGS = osp.join(REPO, 'registry_configs')
RECIPES = osp.join(CONFIGS, 'examples', 'recipes')
MODEL_8X2 = osp.join(RECIPES, 'r3d_8x2_model.py')
OVERLAYS = {'demo/leaps_r3d.py': osp.join(RECIPES, 'leaps_r3d_8x2.py'),
            'baselines/am_3d.py': osp.join(RECIPES, 'am_3d_8x2.py')}
MAIN_JOB = osp.join(CONFIGS, 'demo', 'leaps_r3d.py')
# the configs whose clip lengths disagree on purpose (the paper's x* of 8
# frames on models tested on 32-frame clips) or by an old choice (the
# random-weights demo: 16-frame stimuli, 8-frame x*)
WARNING_CONFIGS = {'csn_r50', 'examples/i3d_r50'}


def runner_config(cfg):
    """The Runner config and the clip-length warnings on the way."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        out = build_runner_config(cfg)
    return out, [str(w.message) for w in caught
                 if issubclass(w.category, ClipLengthWarning)]


def step(pipeline, kind):
    return next(s for s in pipeline if s['type'] == kind)


def overlay(tmp_path, recipe, *lines, name='overlay.py'):
    """An overlay config in ``tmp_path``: ``recipe`` (under
    registry_configs/) as its base, then ``lines``."""
    path = tmp_path / name
    path.write_text('\n'.join(
        [f'_base_ = [{osp.join(CONFIGS, recipe)!r}]', *lines]) + '\n')
    return Config.fromfile(str(path))


def target_line(model=MODEL_8X2, **keys):
    extra = ''.join(f', {k}={v!r}' for k, v in keys.items())
    return (f'target = dict(from_config={model!r}, '
            f"checkpoint='checkpoints/demo/r3d_noise.pth'{extra})")


def test_target_from_config_replaces_the_recipes_model():
    cfg = Config.fromfile(MAIN_JOB)
    cfg.merge_from_dict({
        'target.from_config': 'train_mvit.py',  # relative to the recipe
        'target.checkpoint': 'checkpoints/demo/mvit.pth',
        'leaps.tracking.enabled': False})
    out, warned = runner_config(cfg)
    model = out.model
    assert model.target.backbone.type == 'MViT'
    assert model.target_checkpoint == 'checkpoints/demo/mvit.pth'
    # no test pipeline in train_mvit.py: the recipe's clip and pipeline
    # stay, and agree with the MViT's temporal_size 16
    assert model.input_size == (16, 64, 64) and not warned
    cfg.target = dict(from_config='train_mvit.py', weights='x.pth')
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['weights'\]"):
        build_runner_config(cfg)


@pytest.mark.parametrize('recipe', sorted(OVERLAYS))
def test_a_recipe_on_another_model_is_a_short_overlay(recipe):
    path = OVERLAYS[recipe]
    with open(path) as file:
        code = [line for line in file
                if line.strip() and not line.strip().startswith('#')]
    assert len(code) <= 10, code
    assert any(recipe in line for line in code if '_base_' in line)

    out, warned = runner_config(Config.fromfile(path))
    assert not warned
    # x* and the stimuli follow the target's test pipeline (8 frames at
    # interval 2, 56^2), not the recipe's 16 x 64^2
    model = out.model
    assert model.input_size == (8, 56, 56)
    assert model.get('target_input_size') is None
    assert model.target.backbone.type == 'ResNet3d'
    assert model.target_checkpoint == 'checkpoints/demo/r3d_noise.pth'
    pipeline = out.test_dataloader.dataset.pipeline
    sampler = step(pipeline, 'SampleFrames')
    assert (sampler.clip_len, sampler.frame_interval) == (8, 2)
    assert step(pipeline, 'CenterCrop').crop_size == 56
    # the rest is the recipe's
    recipe_cfg = Config.fromfile(osp.join(CONFIGS, recipe))
    assert [t['type'] for t in model.losses] == [
        t['type'] for t in recipe_cfg.leaps.inverter.losses]
    assert model.verifier_checkpoint == 'checkpoints/demo/r2plus1d.pth'
    assert out.test_dataloader.dataset.ann_file == 'data/stimuli/stimuli.txt'


def test_a_real_stimulus_becomes_a_clip_of_the_targets_length():
    from mmengine.registry import DefaultScope

    from leaps_mm.registry import DATASETS
    out, _ = runner_config(Config.fromfile(OVERLAYS['demo/leaps_r3d.py']))
    with DefaultScope.overwrite_default_scope('leaps_mm'):
        dataset = DATASETS.build(out.test_dataloader.dataset)
    assert len(dataset) == 16
    sample = dataset[0]
    assert tuple(sample['inputs'].shape) == (1, 3, 8, 56, 56)
    # every second frame of the 16-frame stimulus
    results = dataset.get_data_info(0)
    for transform in dataset.pipeline.transforms:
        results = transform(results)
        if 'frame_inds' in results:
            break
    assert results['total_frames'] == 16
    assert list(np.diff(results['frame_inds'])) == [2] * 7


def test_keys_in_target_are_explicit(tmp_path):
    # x_size: x* as given, fed as is
    cfg = resolve_target(overlay(tmp_path, 'demo/leaps_r3d.py',
                                 target_line(x_size=(4, 32, 32))))
    assert cfg.leaps.inverter.input_size == (4, 32, 32)
    assert step(cfg.test_pipeline, 'SampleFrames').clip_len == 8
    # input_size: the model is fed that size; x* stays the recipe's and
    # is interpolated to it
    cfg = resolve_target(overlay(tmp_path, 'demo/leaps_r3d.py',
                                 target_line(input_size=(8, 56, 56))))
    assert cfg.leaps.inverter.input_size == (16, 64, 64)
    assert cfg.leaps.inverter.target_input_size == (8, 56, 56)
    assert not runner_config(cfg)[1]
    # 'recipe' keeps the recipe's value: the 16-frame pipeline and x*
    cfg = resolve_target(overlay(tmp_path, 'demo/leaps_r3d.py', target_line(
        pipeline='recipe', x_size='recipe')))
    assert cfg.leaps.inverter.input_size == (16, 64, 64)
    assert step(cfg.test_pipeline, 'SampleFrames').clip_len == 16
    # a pipeline of its own
    mine = [dict(type='PyAVInit'), dict(type='SampleFrames', clip_len=4,
                                        frame_interval=1, num_clips=1)]
    cfg = resolve_target(overlay(tmp_path, 'demo/leaps_r3d.py',
                                 target_line(pipeline=mine)))
    assert cfg.test_pipeline == mine
    for keys, match in ((dict(x_size=(8, 56)), r'target\.x_size=\(8, 56\)'),
                        (dict(input_size='model'), r'target\.input_size'),
                        (dict(pipeline=3), r'target\.pipeline')):
        with pytest.raises(ValueError, match=match):
            resolve_target(overlay(tmp_path, 'demo/leaps_r3d.py',
                                   target_line(**keys)))


def test_a_recipe_that_interpolates_x_keeps_its_x(tmp_path):
    """A recipe whose x* is smaller than the model's input (it sets
    target_input_size) keeps its x*, now interpolated to the new model's
    clip."""
    cfg = overlay(tmp_path, 'demo/leaps_r3d.py', target_line(),
                  'leaps = dict(inverter=dict(input_size=(4, 32, 32), '
                  'target_input_size=(16, 64, 64)))')
    out, warned = runner_config(cfg)
    assert out.model.input_size == (4, 32, 32)
    assert out.model.target_input_size == (8, 56, 56)
    assert not warned
    # a family config (X3D-S's): x* 8 x 224^2 interpolated to
    # 13 x 182^2, on the 8 x 56^2 model
    cfg = resolve_target(overlay(tmp_path, 'x3d_s.py', target_line()))
    assert cfg.leaps.inverter.input_size == (8, 224, 224)
    assert cfg.leaps.inverter.target_input_size == (8, 56, 56)
    assert step(cfg.test_pipeline, 'SampleFrames').frame_interval == 2


def test_the_dataloader_pipeline_and_a_fixed_resize(tmp_path):
    """A model config whose test pipeline is only in test_dataloader, with
    a Resize to a fixed (w, h) and no crop."""
    model = tmp_path / 'model_4x4.py'
    model.write_text(
        f"_base_ = [{osp.join(CONFIGS, 'demo', 'train_r3d.py')!r}]\n"
        'test_dataloader = dict(dataset=dict(_delete_=True, '
        "type='VideoDataset', ann_file='', pipeline=[dict(type='PyAVInit'), "
        "dict(type='SampleFrames', clip_len=4, frame_interval=4, "
        "num_clips=1, test_mode=True), dict(type='PyAVDecode'), "
        "dict(type='Resize', scale=(48, 40), keep_ratio=False), "
        "dict(type='FormatShape', input_format='NCTHW'), "
        "dict(type='PackActionInputs')]))\n")
    cfg = overlay(tmp_path, 'baselines/am_3d.py', target_line(str(model)))
    out, warned = runner_config(cfg)
    assert out.model.input_size == (4, 40, 48) and not warned
    assert step(out.test_dataloader.dataset.pipeline,
                'SampleFrames').frame_interval == 4
    assert pipeline_clip_size([dict(type='Resize', scale=(-1, 64))]) == (
        None, None, None)
    assert pipeline_clip_size([dict(type='ThreeCrop', crop_size=(60, 50))]
                              ) == (None, 50, 60)


def test_disagreeing_clip_lengths_warn_naming_the_numbers_and_keys(tmp_path):
    # the user's case: the recipe's 16-frame stimuli and x* kept for an
    # 8-frame model
    cfg = overlay(tmp_path, 'demo/leaps_r3d.py',
                  target_line(pipeline='recipe', x_size='recipe'))
    _, warned = runner_config(cfg)
    assert len(warned) == 1
    message = warned[0]
    assert '\n' not in message
    for text in ('stimulus clip has 16 frames', 'x* has 16 frames',
                 "model's own clip has 8 frames", 'r3d_8x2_model.py',
                 'target.pipeline', 'target.x_size', 'target.input_size'):
        assert text in message, (text, message)
    # any config: x* shorter than the recipe's stimulus clip
    cfg = Config.fromfile(MAIN_JOB)
    cfg.merge_from_dict({'leaps.inverter.input_size': (8, 64, 64)})
    _, warned = runner_config(cfg)
    assert len(warned) == 1
    for text in ('16 frames (the SampleFrames clip_len of test_pipeline)',
                 'x* has 8 frames (leaps.inverter.input_size)',
                 'leaps.inverter.target_input_size'):
        assert text in warned[0], (text, warned[0])
    # interpolated x* is judged by what the model is fed
    cfg.merge_from_dict({'leaps.inverter.target_input_size': (16, 64, 64)})
    assert not runner_config(cfg)[1]
    cfg.merge_from_dict({'leaps.inverter.target_input_size': (12, 64, 64)})
    assert 'interpolated to 12' in runner_config(cfg)[1][0]
    # a backbone built for one clip length
    cfg = resolve_target(overlay(tmp_path, 'demo/leaps_r3d.py', target_line(
        osp.join(CONFIGS, 'demo', 'train_mvit.py'))))
    assert clip_length_message(cfg, cfg.test_pipeline) is None
    cfg.model.backbone.temporal_size = 8
    message = clip_length_message(cfg, cfg.test_pipeline)
    assert "model's own clip has 8 frames (model.backbone.temporal_size)" \
        in message


def test_which_registry_configs_warn():
    """Every inversion config under registry_configs/ builds its Runner
    config; only those in WARNING_CONFIGS warn about clip lengths."""
    warned, built = set(), 0
    for path in sorted(glob.glob(osp.join(CONFIGS, '**', '*.py'),
                                 recursive=True)):
        cfg = Config.fromfile(path)
        if 'leaps' not in cfg or ('model' not in cfg and
                                  'target' not in cfg):
            continue  # _base_/leaps*.py, grids, training configs
        out, messages = runner_config(cfg)
        assert out.model.type == 'LEAPSInverter'
        built += 1
        if messages:
            warned.add(osp.relpath(path, CONFIGS)[:-3])
    assert built >= 30
    assert warned == WARNING_CONFIGS


def test_a_model_config_cannot_be_a_second_base(tmp_path):
    """What docs/reference.md says: mmengine refuses a model config beside
    the recipe in `_base_` (they share keys), hence target.from_config."""
    path = tmp_path / 'two_bases.py'
    path.write_text(f'_base_ = [{MAIN_JOB!r}, {MODEL_8X2!r}]\n')
    with pytest.raises(KeyError, match='Duplicate key'):
        Config.fromfile(str(path))


@pytest.mark.slow
def test_the_overlay_inverts_two_steps(tmp_path):
    stimulus = osp.join(STIMULI, 'expand', '0.mp4')
    command = [sys.executable, osp.join(REPO, 'tools', 'invert.py'),
               OVERLAYS['demo/leaps_r3d.py'], '--stimulus', stimulus,
               '--target', 'expand', '--work-dir', str(tmp_path / 'run'),
               '--no-mlflow', '--cfg-options', 'leaps.loop.iters=2']
    start = time.time()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True,
                          env=dict(os.environ, OMP_WAIT_POLICY='PASSIVE'),
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert 'clip lengths disagree' not in done.stdout + done.stderr
    (job, ) = [d for d in os.listdir(tmp_path / 'run')
               if osp.isfile(tmp_path / 'run' / d / 'result.json')]
    with open(tmp_path / 'run' / job / 'result.json') as file:
        result = json.load(file)
    assert result['iterations'] == 2
    assert np.load(tmp_path / 'run' / job / 'synth.npy').shape == (8, 56, 56,
                                                                    3)
    print(f'two steps end to end: {time.time() - start:.1f} s')
