"""Motion probes (reversed, static, shuffled x*), partner rates, and
tools/evaluate.py re-scoring a work dir with judges that were not in the
run, on the demo recognizers and the procedural motion clips."""
import json
import os.path as osp
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from conftest import REPO, STIMULI, run_tool
from leaps_mm.datasets.motion import render_motion_sample
from leaps_mm.datasets.stimulus_dataset import read_class_names
from leaps_mm.evaluation import InversionMetric
from leaps_mm.evaluation.motion import (MOTION_PROBES, partner_indices,
                                        partner_rate, reverse_time,
                                        shuffle_frames, shuffle_permutation,
                                        static_first_frame)
from leaps_mm.evaluation.record_metrics import record_metrics, scorer_keys
from leaps_mm.registry import MODELS

sys.path.insert(0, osp.join(REPO, 'tools'))
import evaluate  # noqa: E402
import invert  # noqa: E402

DEMO = osp.join(REPO, 'registry_configs', 'demo')
CLASSES = read_class_names(osp.join(STIMULI, 'classes.txt'))
PARTNERS = {'move left': 'move right', 'move up': 'move down',
            'rotate clockwise': 'rotate counterclockwise',
            'expand': 'contract'}
R3D_CONFIG = osp.join(DEMO, 'train_r3d_noise.py')
R3D = osp.join(REPO, 'checkpoints', 'demo', 'r3d_noise.pth')
PERM = [3, 0, 7, 5, 1, 2, 6, 4]  # permuted class k is class PERM[k]


def video(n=2, t=5):
    """``(N, C, T, H, W)`` whose pixel values say their frame: v[n,c,t] = 10n
    + t (constant over C, H, W)."""
    values = 10 * torch.arange(n)[:, None] + torch.arange(t)[None]
    return values[:, None, :, None, None].float().expand(n, 3, t, 4, 4)


# --- the transforms ----------------------------------------------------------
def test_reversed_is_the_flip_over_time():
    v = video()
    out = reverse_time(v)
    assert out.shape == v.shape
    assert out[:, 0, :, 0, 0].tolist() == [[4, 3, 2, 1, 0],
                                           [14, 13, 12, 11, 10]]
    assert torch.equal(reverse_time(out), v)


def test_static_repeats_frame_zero():
    out = static_first_frame(video())
    assert out.shape == (2, 3, 5, 4, 4)
    assert out[:, 0, :, 0, 0].tolist() == [[0] * 5, [10] * 5]
    out[0, 0, 1] = -1  # a copy, not a view of frame 0
    assert out[0, 0, 0, 0, 0] == 0


def test_shuffled_is_a_fixed_permutation_of_the_frames():
    v = video(t=16)
    order = shuffle_permutation(16)
    assert sorted(order.tolist()) == list(range(16))
    assert order.tolist() != list(range(16))
    out = shuffle_frames(v)
    assert out[0, 0, :, 0, 0].tolist() == order.float().tolist()
    assert out[1, 0, :, 0, 0].tolist() == (order + 10).float().tolist()
    assert torch.equal(shuffle_frames(v), out)  # the same every call
    assert not torch.equal(shuffle_frames(v, seed=1), out)
    # never the identity, even when a seed's first draw is
    for t in (2, 3):
        assert shuffle_permutation(t).tolist() != list(range(t))
    assert set(MOTION_PROBES) == {'reversed', 'static', 'shuffled'}


# --- partners and metrics from records ---------------------------------------
def test_partner_map_is_symmetric_and_checked():
    index = partner_indices(PARTNERS, CLASSES)
    assert index == {0: 1, 1: 0, 2: 3, 3: 2, 4: 5, 5: 4, 6: 7, 7: 6}
    assert partner_indices({'Move_Left': 'move right'},
                           CLASSES) == {0: 1, 1: 0}
    with pytest.raises(ValueError, match="'spin'"):
        partner_indices({'move left': 'spin'}, CLASSES)
    with pytest.raises(ValueError, match='two partners'):
        partner_indices({'move left': 'move right', 'move up': 'move left'},
                        CLASSES)


def test_partner_rate_of_a_known_case():
    partners = {0: 1, 1: 0, 4: 5, 5: 4}
    # targets 0, 1, 4 have partners; 6 has none and does not count
    targets = [0, 1, 4, 6]
    preds = [1, 0, 4, 7]  # hits: 0->1, 1->0; 4 stays 4
    assert partner_rate(preds, targets, partners) == pytest.approx(200 / 3)
    assert partner_rate([7], [6], partners) is None


def records_of_a_known_case():
    """Four videos, targets 0, 1, 4, 6; model right on 3; reversed copies
    flip to the partner on 3 of 4; static ones all predict class 2."""
    records = []
    for target, pred, rev in ((0, 0, 1), (1, 1, 0), (4, 4, 5), (6, 2, 6)):
        records.append(dict(
            target=target, model_pred=pred, model_prob_target=0.5,
            model_probs=np.eye(8)[pred].tolist(),
            model_reversed_pred=rev, model_reversed_prob_target=0.25,
            model_static_pred=2, model_static_prob_target=0.125,
            judge_pred=target, judge_prob_target=1.0,
            judge_j2_pred=rev, judge_j2_prob_target=0.0))
    return records


def test_record_metrics_by_hand():
    records = records_of_a_known_case()
    assert scorer_keys(records[0]) == ['model', 'judge', 'judge_j2']
    metrics = record_metrics(records, partner_indices(PARTNERS, CLASSES))
    assert metrics['top1_model'] == 75.0
    assert metrics['prob_target_model'] == 0.5
    assert metrics['top1_model_reversed'] == 25.0  # video 4 (target 6)
    assert metrics['prob_target_model_reversed'] == 0.25
    assert metrics['top1_model_static'] == 0.0
    assert metrics['partner_rate_model'] == 75.0  # 1, 0, 5 are partners
    assert 'top1_model_shuffled' not in metrics  # not recorded
    assert metrics['top1_judge'] == 100.0
    assert metrics['top1_judge_j2'] == 25.0
    assert 'partner_rate_judge' not in metrics  # no reversed predictions


def test_inversion_metric_reports_motion_metrics_with_the_dataset_classes():
    metric = InversionMetric(is_splits=1, partners=PARTNERS)
    metric.dataset_meta = dict(classes=tuple(CLASSES))
    metrics = metric.compute_metrics(records_of_a_known_case())
    assert metrics['partner_rate_model'] == 75.0
    assert metrics['top1_model_reversed'] == 25.0
    assert 'is_model' in metrics and 'is_model_reversed' not in metrics
    metric.dataset_meta = None
    with pytest.raises(ValueError, match='class names'):
        metric.compute_metrics(records_of_a_known_case())
    # partners of other classes fail when the loop sets the classes
    with pytest.raises(ValueError, match=r"'expand'.*partners=\{\}"):
        metric.dataset_meta = dict(classes=('a', 'b'))


# --- on a real recognizer ----------------------------------------------------
def motion_clips(seed=0):
    """One procedural clip per class, pixels ``(8, 3, 16, 64, 64)``."""
    clips = [render_motion_sample(c, np.random.default_rng(seed + c)).video
             for c in range(8)]
    return torch.from_numpy(np.stack(clips)).permute(0, 4, 1, 2, 3).float()


def test_inverter_scores_the_probes_of_x_star():
    cfg = dict(type='LEAPSInverter',
               target=Config.fromfile(R3D_CONFIG).model.to_dict(),
               target_checkpoint=R3D, class_names=CLASSES,
               losses=[dict(type='ClassificationLoss')],
               input_size=(16, 64, 64),
               taps=dict(module_types=('BatchNorm3d', ), include=None))
    with DefaultScope.overwrite_default_scope('leaps_mm'):
        inverter = MODELS.build(cfg)
    inverter.reset(torch.arange(8), None)
    clips = motion_clips()
    with torch.no_grad():
        inverter.parameterization.latent.copy_(inverter.normalize(clips))
    scores = inverter.predict_scores()
    assert list(scores) == ['model', 'model_reversed', 'model_static',
                            'model_shuffled']
    by_hand = inverter.scorers['model'].probs(clips.flip(2))
    assert torch.allclose(scores['model_reversed'], by_hand, atol=1e-6)
    # the trained R3D reads the motion of real clips: right forwards, the
    # partner backwards, lost when frozen
    preds = {k: v.argmax(-1).tolist() for k, v in scores.items()}
    partners = partner_indices(PARTNERS, CLASSES)
    assert sum(p == t for t, p in enumerate(preds['model'])) >= 7
    assert partner_rate(preds['model_reversed'], range(8), partners) >= 75
    assert sum(p == t for t, p in enumerate(preds['model_static'])) <= 2


# --- tools/evaluate.py --judge / --reference ---------------------------------
@pytest.fixture(scope='module')
def permuted(tmp_path_factory):
    """r3d_noise.pth with its classifier rows permuted and its label file."""
    folder = tmp_path_factory.mktemp('permuted')
    state = torch.load(R3D, map_location='cpu', weights_only=False)
    for key in ('cls_head.fc_cls.weight', 'cls_head.fc_cls.bias'):
        state['state_dict'][key] = state['state_dict'][key][PERM].clone()
    torch.save(dict(state_dict=state['state_dict']), str(folder / 'r3d.pth'))
    (folder / 'classes.txt').write_text(
        ''.join(CLASSES[p] + '\n' for p in PERM))
    return str(folder / 'r3d.pth'), str(folder / 'classes.txt')


def write_jobs(work_dir, clips):
    """Finished job folders whose synth.npy are ``clips`` (old records: no
    probes, no judge)."""
    for target, clip in enumerate(clips):
        folder = work_dir / f'{target:05d}_c{target}'
        folder.mkdir(parents=True)
        np.save(folder / 'synth.npy',
                clip.permute(1, 2, 3, 0).numpy().astype(np.uint8))
        (folder / 'result.json').write_text(json.dumps(dict(
            target_index=target, model_pred=target, model_prob_target=1.0)))


def test_evaluate_rescores_with_judges_mapped_by_class_name(tmp_path,
                                                            permuted):
    checkpoint, labels = permuted
    write_jobs(tmp_path, motion_clips())
    base = [str(tmp_path), '--no-mlflow', '--splits', '1',
            '--classes', osp.join(STIMULI, 'classes.txt')]
    result = run_tool(evaluate.main, base + [
        '--judge', R3D_CONFIG, '--judge-checkpoint', R3D,
        '--judge', R3D_CONFIG, '--judge-checkpoint', checkpoint,
        '--judge', R3D_CONFIG, '--judge-checkpoint', checkpoint,
        '--judge-classes', '-', '--judge-classes', labels,
        '--judge-classes', '-',
        '--judge-name', 'plain', '--judge-name', 'permuted',
        '--judge-name', 'unmapped'])
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / 'metrics.json').read_text())
    for key in ('', '_reversed', '_static', '_shuffled'):
        assert metrics[f'top1_judge_permuted{key}'] == \
            metrics[f'top1_judge_plain{key}'], key
        assert metrics[f'prob_target_judge_permuted{key}'] == pytest.approx(
            metrics[f'prob_target_judge_plain{key}'], abs=1e-6), key
    assert metrics['top1_judge_plain'] >= 87.5
    assert metrics['top1_judge_unmapped'] <= 25  # wrong names, silently
    assert metrics['top1_model'] == 100.0  # from the records
    assert 'top1_judge' not in metrics  # the run had no judge
    assert 'is_judge_plain' in metrics
    assert 'no motion metrics' not in result.output  # the judges have them
    # without the target's class names no partner rate, but no error either
    assert 'partner_rate_judge_plain' not in metrics

    # pairing errors are usage errors, not tracebacks
    result = run_tool(evaluate.main, base + [
        '--judge', R3D_CONFIG])
    assert result.exit_code == 2 and '--judge-checkpoint' in result.output
    wrong = tmp_path / 'wrong_classes.txt'
    wrong.write_text('\n'.join(CLASSES[:7] + ['spin']))
    result = run_tool(evaluate.main, base + [
        '--judge', R3D_CONFIG, '--judge-checkpoint', R3D,
        '--judge-classes', str(wrong)])
    assert result.exit_code == 1, result.output
    assert "no class named 'contract'" in result.output
    assert 'Traceback' not in result.output


def test_evaluate_reference_row_on_a_real_sweep(tmp_path):
    work_dir = tmp_path / 'run'
    result = run_tool(invert.main, [
        osp.join(DEMO, 'leaps_r3d.py'),
        '--stimulus', osp.join(STIMULI, 'move_left', '0.mp4'),
        '--target', 'move left',
        '--stimulus', osp.join(STIMULI, 'rotate_clockwise', '0.mp4'),
        '--target', 'rotate clockwise', '--batch-size', '2',
        '--iters', '2', '--work-dir', str(work_dir), '--no-mlflow'])
    assert result.exit_code == 0, result.output
    record = json.loads(next(work_dir.glob('*/result.json')).read_text())
    assert scorer_keys(record) == ['model', 'verifier', 'judge', 'judge_mvit']
    for net in ('model', 'judge_mvit'):
        for probe in ('reversed', 'static', 'shuffled'):
            assert 0 <= record[f'{net}_{probe}_prob_target'] <= 1

    result = run_tool(evaluate.main, [
        str(work_dir), '--no-mlflow', '--splits', '1', '--reference',
        '--judge', osp.join(DEMO, 'train_r3d_noise.py'),
        '--judge-checkpoint', R3D])
    assert result.exit_code == 0, result.output
    metrics = json.loads((work_dir / 'metrics.json').read_text())
    for net in ('model', 'verifier', 'judge', 'judge_mvit',
                'judge_train_r3d_noise'):
        assert f'partner_rate_{net}' in metrics, net
        # the real clips: recognised, flipped to the partner when reversed,
        # lost when frozen (demo models, 2 clips)
        assert metrics[f'top1_{net}_stimulus'] == 100.0, net
        assert metrics[f'partner_rate_{net}_stimulus'] == 100.0, net
        assert metrics[f'top1_{net}_static_stimulus'] <= 50.0, net
    assert metrics['top1_judge_stimulus'] == metrics[
        'top1_judge_mvit_stimulus']


# --- table labels ------------------------------------------------------------
def test_table_labels_and_bold_for_judges_and_probes():
    from leaps_mm.evaluation.tables import metric_label, render_markdown
    assert metric_label('top1_judge') == 'top-1 judge'
    assert metric_label('top1_judge_mvit_reversed_stimulus') == \
        'top-1 judge mvit, reversed (stimuli)'
    assert metric_label('partner_rate_verifier') == 'partner rate verifier'
    assert metric_label('prob_target_model_static') == \
        'p(target) model, static'
    assert metric_label('unknown_key') == 'unknown_key'
    rows = [dict(name='a', status='done', metrics=dict(
                top1_model_static=50.0, partner_rate_model=75.0)),
            dict(name='b', status='done', metrics=dict(
                top1_model_static=12.5, partner_rate_model=62.5))]
    markdown = render_markdown('T', 'generic', rows,
                               columns=['top1_model_static',
                                        'partner_rate_model'])
    assert '| Method | top-1 model, static | partner rate model |' in markdown
    # the higher partner rate is bold; a static top-1 is never bold
    assert '| a | 50.0 | **75.0** |' in markdown
    assert '| b | 12.5 | 62.5 |' in markdown
