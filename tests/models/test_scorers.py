"""Scorers in the target's class order: class mapping by name, several judges
per run, and their keys in predictions, on the real demo R3D."""
import os.path as osp
import warnings

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from conftest import REPO
from leaps_mm.apis import build_runner_config
from leaps_mm.datasets.stimulus_dataset import read_class_names
from leaps_mm.models.scorers import (ClassOrderWarning, class_index,
                                     resolve_scorer, scorer_kwargs,
                                     scorer_name)
from leaps_mm.registry import MODELS

DEMO = osp.join(REPO, 'registry_configs', 'demo')
CLASSES = read_class_names(osp.join(REPO, 'data', 'stimuli', 'classes.txt'))
R3D_CONFIG = osp.join(DEMO, 'train_r3d_noise.py')
R3D = osp.join(REPO, 'checkpoints', 'demo', 'r3d_noise.pth')
# scorer class k is target class PERM[k]
PERM = [3, 0, 7, 5, 1, 2, 6, 4]
SIZE = (16, 64, 64)


# --- class_index -------------------------------------------------------------
def test_the_same_order_maps_to_nothing_and_names_are_normalised():
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert class_index(CLASSES, CLASSES) is None
        assert class_index(['move left', 'Move_Right'],
                           ['MOVE_LEFT', 'move  right']) is None


def test_another_order_maps_by_name_with_a_warning():
    names = [CLASSES[p] for p in PERM]
    with pytest.warns(ClassOrderWarning, match='another order'):
        index = class_index(CLASSES, names, 'The judge')
    # target class i is the scorer's class index[i]: names[index[i]] == i's
    assert [names[i] for i in index] == CLASSES
    assert index == [PERM.index(i) for i in range(8)]


def test_a_superset_maps_the_target_classes():
    names = ['walk'] + CLASSES[::-1] + ['run']
    with pytest.warns(ClassOrderWarning):
        assert class_index(CLASSES, names) == list(range(8, 0, -1))


def test_missing_classes_are_named():
    with pytest.raises(ValueError, match="'expand', 'contract'") as error:
        class_index(CLASSES, CLASSES[:6], 'The judge \'x\'')
    assert "The judge 'x'" in str(error.value)


def test_judge_names():
    assert scorer_name(dict(name='my judge!'), 0) == 'my_judge'
    assert scorer_name(dict(from_config='a/train_mvit.py'), 1) == 'train_mvit'
    assert scorer_name(dict(), 2) == 'judge2'
    assert scorer_name(dict(from_config='x/mvit.py'), 3, ['mvit']) == 'mvit_3'
    assert scorer_name(dict(name='reversed'), 1) == 'reversed_1'
    with pytest.raises(ValueError, match='named'):
        scorer_name(dict(name='mvit'), 1, ['mvit'])


def test_resolve_scorer_splits_the_scorer_keys_off():
    spec = resolve_scorer(dict(from_config='train_mvit.py', checkpoint='c.pth',
                               classes=['a'], name='j'),
                          osp.join(DEMO, 'leaps_r3d.py'))
    assert spec['model']['type'] == 'Recognizer3D'
    assert 'classes' not in spec['model'] and 'checkpoint' not in spec['model']
    assert (spec['checkpoint'], spec['classes'], spec['name']) == (
        'c.pth', ['a'], 'j')
    assert spec['from_config'] == osp.join(DEMO, 'train_mvit.py')
    with pytest.raises(FileNotFoundError, match='nowhere.py'):
        resolve_scorer(dict(from_config='nowhere.py'), R3D_CONFIG)


# --- a real recognizer with its classes permuted ----------------------------
@pytest.fixture(scope='module')
def permuted_checkpoint(tmp_path_factory):
    """r3d_noise.pth with its classifier rows permuted: its class k is the
    original's class PERM[k]."""
    state = torch.load(R3D, map_location='cpu', weights_only=False)
    sd = state['state_dict']
    for key in ('cls_head.fc_cls.weight', 'cls_head.fc_cls.bias'):
        sd[key] = sd[key][PERM].clone()
    path = tmp_path_factory.mktemp('ckpt') / 'r3d_permuted.pth'
    torch.save(dict(state_dict=sd), str(path))
    return str(path)


def demo_video(seed=0):
    """Motion clips of the procedural generator as pixels (N, C, T, H, W)."""
    from leaps_mm.datasets.motion import render_motion_sample
    import numpy as np
    clips = [render_motion_sample(c, np.random.default_rng(seed + c),
                                  num_frames=16, size=64).video
             for c in range(8)]
    return torch.from_numpy(np.stack(clips)).permute(0, 4, 1, 2, 3).float()


def r3d_model():
    return Config.fromfile(R3D_CONFIG).model.to_dict()


def make_inverter(**kwargs):
    cfg = dict(type='LEAPSInverter', target=r3d_model(), target_checkpoint=R3D,
               losses=[dict(type='ClassificationLoss')], input_size=SIZE,
               taps=dict(module_types=('BatchNorm3d', ), include=None))
    cfg.update(kwargs)
    with DefaultScope.overwrite_default_scope('leaps_mm'):
        return MODELS.build(cfg)


def test_permuted_judge_is_mapped_back_to_the_unpermuted_scores(
        permuted_checkpoint):
    permuted_names = [CLASSES[p] for p in PERM]
    with pytest.warns(ClassOrderWarning, match="judge 'permuted'"):
        inverter = make_inverter(class_names=CLASSES, judges=[
            dict(model=r3d_model(), checkpoint=R3D, name='plain'),
            dict(model=r3d_model(), checkpoint=permuted_checkpoint,
                 classes=permuted_names, name='permuted'),
            dict(model=r3d_model(), checkpoint=permuted_checkpoint,
                 name='unmapped')])
    assert inverter.judge_names == ['plain', 'permuted', 'unmapped']
    assert inverter.judge is inverter.judges['plain']
    inverter.reset(torch.arange(8), None)
    with torch.no_grad():  # x* := the real clips, so the scores are peaked
        inverter.parameterization.latent.copy_(inverter.normalize(
            demo_video()))
    scores = inverter.predict_scores(probes=())
    assert list(scores) == ['model', 'judge', 'judge_plain',
                            'judge_permuted', 'judge_unmapped']
    assert torch.allclose(scores['judge_plain'], scores['model'], atol=1e-6)
    assert torch.allclose(scores['judge_permuted'], scores['judge_plain'],
                          atol=1e-6)
    assert torch.equal(scores['judge'], scores['judge_plain'])
    # unmapped, the same model's scores come out permuted: wrong classes
    unmapped = scores['judge_unmapped'].argmax(-1)  # its own class k
    assert torch.equal(torch.tensor(PERM)[unmapped],  # target class PERM[k]
                       scores['model'].argmax(-1))
    assert not torch.equal(scores['judge_unmapped'].argmax(-1),
                           scores['model'].argmax(-1))
    # the trained model knows these clips
    assert (scores['model'].argmax(-1) == torch.arange(8)).sum() >= 6


def test_scorer_class_errors(permuted_checkpoint):
    with pytest.raises(ValueError, match="no class named 'contract'"):
        make_inverter(class_names=CLASSES, verifier=r3d_model(),
                      verifier_checkpoint=R3D,
                      verifier_classes=CLASSES[:7] + ['shrink'])
    with pytest.raises(ValueError, match='lists 7'):  # 8 logits, 7 names
        make_inverter(class_names=CLASSES, judge=r3d_model(),
                      judge_classes=CLASSES[:7])
    with pytest.raises(ValueError, match='class names are unknown'):
        make_inverter(judge=r3d_model(), judge_classes=CLASSES)
    wide = r3d_model()
    wide['cls_head']['num_classes'] = 10
    with pytest.raises(ValueError, match='10 classes but the target has 8'):
        make_inverter(class_names=CLASSES, judges=[dict(model=wide)])
    # a 10-class judge whose label file holds the 8 target classes is fine
    with pytest.warns(ClassOrderWarning):
        inverter = make_inverter(class_names=CLASSES, judges=[dict(
            model=wide, classes=['a'] + CLASSES[::-1] + ['b'])],
            motion_probes=())
    inverter.reset(torch.arange(2), None)
    assert inverter.predict_scores()['judge'].shape == (2, 8)


# --- configs -----------------------------------------------------------------
def test_runner_config_passes_judges_classes_and_names(tmp_path):
    labels = tmp_path / 'mvit_classes.txt'
    labels.write_text('\n'.join(CLASSES[::-1]) + '\n')
    cfg = Config.fromfile(osp.join(DEMO, 'leaps_r3d.py'))
    cfg.judges = [dict(from_config=osp.join(DEMO, 'train_mvit.py'),
                       checkpoint='checkpoints/demo/mvit.pth',
                       classes=str(labels)),
                  dict(from_config='train_r2plus1d.py', name='r21d')]
    model = build_runner_config(cfg).model
    assert model.class_names == 'data/stimuli/classes.txt'
    assert model.judge_name == 'mvit'  # the demo config names it
    assert model.judge_checkpoint == 'checkpoints/demo/mvit.pth'
    first, second = model.judges
    assert first['classes'] == str(labels) and first['name'] is None
    assert first['model']['backbone']['type'] == 'MViT'
    assert second['name'] == 'r21d'
    assert second['from_config'] == osp.join(DEMO, 'train_r2plus1d.py')
    # a judge named after its config file when the config names none
    del cfg.judge['name']
    assert scorer_kwargs(cfg)['judge_name'] == 'train_mvit'
    cfg.judges = dict(from_config='x.py')
    with pytest.raises(ValueError, match='must be a list'):
        scorer_kwargs(cfg)


def test_kinetics_names_and_a_verifier_label_file_in_a_config(tmp_path):
    from leaps_mm.models.scorers import load_class_names
    kinetics = load_class_names('kinetics400')
    assert len(kinetics) == 400 and kinetics[0] == 'abseiling'
    with pytest.warns(ClassOrderWarning):
        assert class_index([kinetics[5], kinetics[2]], kinetics) == [5, 2]

    labels = tmp_path / 'r21d_classes.txt'
    labels.write_text('\n'.join(CLASSES[::-1]))
    cfg = Config.fromfile(osp.join(DEMO, 'leaps_r3d.py'))
    cfg.verifier['classes'] = str(labels)
    model = build_runner_config(cfg).model
    assert model.verifier_classes == str(labels)
    assert 'classes' not in model.verifier
    # a 10-class verifier with its own 10-name label file passes the
    # label-file count check (it is mapped by name instead)
    cfg.verifier = dict(r3d_model(), classes=['x', 'y'] + CLASSES)
    cfg.verifier['cls_head']['num_classes'] = 10
    model = build_runner_config(cfg).model
    assert model.verifier['cls_head']['num_classes'] == 10
    with pytest.warns(ClassOrderWarning):
        with DefaultScope.overwrite_default_scope('leaps_mm'):
            inverter = MODELS.build(dict(
                model.to_dict(), target_checkpoint=None,
                verifier_checkpoint=None, judge=None, input_size=(4, 32, 32),
                losses=[dict(type='ClassificationLoss')]))
    assert inverter.scorers['verifier'].index == list(range(2, 10))


def test_classes_from_the_checkpoint_meta(permuted_checkpoint, tmp_path):
    """tools/train.py writes the class names into the checkpoint's meta."""
    state = torch.load(permuted_checkpoint, weights_only=False)
    state['meta'] = dict(dataset_meta=dict(
        classes=[CLASSES[p] for p in PERM]))
    with_names = tmp_path / 'r3d_permuted_named.pth'
    torch.save(state, str(with_names))
    with pytest.warns(ClassOrderWarning):
        inverter = make_inverter(class_names=CLASSES, motion_probes=(),
                                 judges=[dict(model=r3d_model(),
                                              checkpoint=str(with_names),
                                              classes='checkpoint')])
    assert inverter.scorers['judge_judge0'].index == [
        PERM.index(i) for i in range(8)]
    # the demo checkpoints carry the demo's names, in the target's order
    with warnings.catch_warnings():
        warnings.simplefilter('error', ClassOrderWarning)
        make_inverter(class_names=CLASSES, judge=r3d_model(),
                      judge_checkpoint=R3D, judge_classes='checkpoint')
    with pytest.raises(ValueError, match='has no class names'):
        make_inverter(class_names=CLASSES, judge=r3d_model(),
                      judge_checkpoint=permuted_checkpoint,
                      judge_classes='checkpoint')
