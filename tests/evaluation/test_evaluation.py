"""Evaluation: Inception Score, consecutive-frame SSIM / PSNR, the baseline
and ablation configs, and tools/evaluate.py on a real (tiny) sweep."""
import glob
import json
import math
import os.path as osp
import sys

import numpy as np
import pytest
from mmengine.config import Config

from conftest import REPO, STIMULI, run_tool
from leaps_mm.apis import build_runner_config
from leaps_mm.evaluation import (InversionMetric, consecutive_frame_similarity,
                                 consecutive_psnr, consecutive_ssim,
                                 finite_mean, inception_score,
                                 set_frame_similarity)

sys.path.insert(0, osp.join(REPO, 'tools'))
import evaluate  # noqa: E402
import invert  # noqa: E402

CONFIG_DIR = osp.join(REPO, 'registry_configs')
FAST = ['--iters', '3', '--cfg-options', 'leaps.inverter.input_size=(4,32,32)',
        '--no-mlflow']
LEAPS = ['ClassificationLoss', 'PrimingLoss', 'TemporalCoherenceLoss',
         'FeatureDiversityLoss']
EXPECTED_LOSSES = {
    'baselines/deepdream_3d': ['ClassificationLoss', 'TotalVariationLoss',
                               'InputNormLoss'],
    'baselines/am_3d': ['LogitMaximization', 'TotalVariationLoss',
                        'InputNormLoss'],
    'ablations/priming_only': LEAPS[:2],
    'ablations/priming_coherence': LEAPS[:3],
    'ablations/priming_diversity': LEAPS[:2] + LEAPS[3:],
    'ablations/full': LEAPS,
    'ablations/dist_l2': LEAPS,
    'ablations/dist_l1': LEAPS,
    'ablations/dist_cos': LEAPS,
    'ablations/dist_jvs': LEAPS,
}


# --- Inception Score ------------------------------------------------------
@pytest.mark.parametrize('splits', [1, 3, 10])
def test_inception_score_of_uniform_predictions_is_one(splits):
    mean, std = inception_score(np.full((12, 5), 0.2), splits=splits)
    assert mean == pytest.approx(1.0) and std == pytest.approx(0.0)


def test_inception_score_of_distinct_one_hots_is_their_count():
    assert inception_score(np.eye(7), splits=1) == pytest.approx((7.0, 0.0))
    # two splits of 4 distinct one-hots each
    mean, std = inception_score(np.eye(8), splits=2)
    assert (mean, std) == pytest.approx((4.0, 0.0))
    # splits are capped at N, and a one-row split scores 1
    assert inception_score(np.eye(3), splits=10) == pytest.approx((1.0, 0.0))


def test_inception_score_matches_the_formula_and_rejects_bad_input():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(6), size=10)
    marginal = probs.mean(0)
    expected = np.exp(np.mean(np.sum(probs * np.log(probs / marginal), 1)))
    assert inception_score(probs, splits=1)[0] == pytest.approx(expected)
    mean, std = inception_score(probs, splits=2)
    halves = [inception_score(p, splits=1)[0] for p in (probs[:5], probs[5:])]
    assert (mean, std) == pytest.approx((np.mean(halves), np.std(halves)))
    with pytest.raises(ValueError):
        inception_score(np.ones(4))
    with pytest.raises(ValueError):
        inception_score(-np.ones((2, 2)))


def test_inversion_metric_reports_inception_scores():
    records = [dict(target=i, model_pred=i, model_prob_target=1.0,
                    model_probs=np.eye(4)[i].tolist(), verifier_pred=0,
                    verifier_prob_target=0.25, verifier_probs=[0.25] * 4)
               for i in range(4)]
    metric = InversionMetric(is_splits=1)
    metrics = metric.compute_metrics(records)
    assert metrics['top1_model'] == 100.0
    assert metrics['is_model'] == pytest.approx(4.0)
    assert metrics['is_verifier'] == pytest.approx(1.0)
    assert metrics['is_model_std'] == metrics['is_verifier_std'] == 0.0


# --- consecutive-frame SSIM / PSNR -----------------------------------------
def test_identical_frames_give_ssim_one_and_psnr_inf():
    video = np.random.default_rng(0).integers(0, 256, (1, 32, 32, 3),
                                              dtype=np.uint8).repeat(4, 0)
    assert consecutive_ssim(video) == pytest.approx([1.0] * 3)
    assert np.isinf(consecutive_psnr(video)).all()
    assert consecutive_frame_similarity(video) == dict(ssim=pytest.approx(1.0),
                                                       psnr=math.inf)


def test_psnr_of_known_noise_is_close_to_the_analytic_value():
    rng = np.random.default_rng(0)
    base = np.full((64, 64, 3), 128.0)
    sigma = 10.0
    noisy = np.clip(np.round(base + rng.normal(0, sigma, base.shape)), 0, 255)
    video = np.stack([base, noisy]).astype(np.uint8)
    expected = 10 * np.log10(255 ** 2 / sigma ** 2)  # 28.13 dB
    assert consecutive_psnr(video)[0] == pytest.approx(expected, abs=0.2)
    assert consecutive_ssim(video)[0] < 0.9


def test_psnr_aggregates_over_finite_pairs_only():
    rng = np.random.default_rng(1)
    frame = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    other = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    video = np.stack([frame, frame, other])  # one identical pair
    values = consecutive_psnr(video)
    assert np.isinf(values[0]) and np.isfinite(values[1])
    assert consecutive_frame_similarity(video)['psnr'] == pytest.approx(
        values[1])
    assert finite_mean([]) != finite_mean([])  # nan
    static = np.stack([frame] * 3)
    assert set_frame_similarity([static, video])['psnr'] == pytest.approx(
        values[1])


# --- configs ----------------------------------------------------------------
def test_every_variant_config_is_listed():
    found = {osp.relpath(p, CONFIG_DIR)[:-3] for p in
             glob.glob(osp.join(CONFIG_DIR, 'baselines', '*.py')) +
             glob.glob(osp.join(CONFIG_DIR, 'ablations', '*.py'))}
    assert found == set(EXPECTED_LOSSES)


@pytest.mark.parametrize('name', sorted(EXPECTED_LOSSES))
def test_variant_config_builds_with_its_loss_terms(name):
    cfg = Config.fromfile(osp.join(CONFIG_DIR, f'{name}.py'))
    runner_cfg = build_runner_config(cfg)
    losses = runner_cfg.model.losses
    assert [loss['type'] for loss in losses] == EXPECTED_LOSSES[name]
    assert runner_cfg.model.verifier is not None
    assert cfg.work_dir == f'work_dirs/{name}'
    priming = [loss for loss in losses if loss['type'] == 'PrimingLoss']
    if name.startswith('ablations/dist_'):
        assert priming[0]['distance'] == name.rsplit('_', 1)[1]
    elif priming:
        assert priming[0]['distance'] == 'jvs'
    for loss in losses:
        if loss['type'] in ('TemporalCoherenceLoss', 'FeatureDiversityLoss'):
            assert loss['weight'] == 0.1  # r of eq. 4
    if name == 'baselines/am_3d':
        assert any(t['type'] == 'RandomRoll'
                   for t in runner_cfg.model.transforms)


# --- tools/evaluate.py --------------------------------------------------------
def test_evaluate_needs_job_folders(tmp_path):
    result = run_tool(evaluate.main, [str(tmp_path)])
    assert result.exit_code != 0
    assert 'no job folders' in result.output
    assert 'Traceback' not in result.output


def test_deepdream_sweep_then_evaluate(tmp_path, monkeypatch):
    monkeypatch.delenv('MLFLOW_TRACKING_URI', raising=False)
    work_dir = tmp_path / 'run'
    result = run_tool(invert.main, [
        osp.join(CONFIG_DIR, 'baselines', 'deepdream_3d.py'),
        '--stimulus', osp.join(STIMULI, 'expand', '0.mp4'), '--target',
        'expand', '--stimulus', osp.join(STIMULI, 'move_left', '0.mp4'),
        '--target', 'move left', '--batch-size', '2', '--work-dir',
        str(work_dir), *FAST])
    assert result.exit_code == 0, result.output
    record = json.loads(next(work_dir.glob('*/result.json')).read_text())
    assert set(record['final_losses']) == {'loss_ce', 'loss_tv', 'loss_l2'}
    assert len(record['model_probs']) == 8
    assert sum(record['verifier_probs']) == pytest.approx(1.0, abs=1e-4)

    result = run_tool(evaluate.main, [str(work_dir)])
    assert result.exit_code == 0, result.output
    assert 'metrics not logged' in result.output  # no mlflow.db
    metrics = json.loads((work_dir / 'metrics.json').read_text())
    assert metrics['num_videos'] == 2
    for net in ('model', 'verifier'):
        assert 0 <= metrics[f'top1_{net}'] <= 100
        assert metrics[f'is_{net}'] >= 1 - 1e-9
        assert metrics[f'is_{net}_std'] >= 0
    assert 0 <= metrics['top1_judge'] <= 100  # the demo R(2+1)D judge
    for suffix in ('', '_stimulus'):
        assert -1 <= metrics[f'ssim_consecutive{suffix}'] <= 1
        assert metrics[f'psnr_consecutive{suffix}'] > 0
    assert 'ssim_consecutive' in result.output


def write_job(folder, target: int, pred: int, num_classes: int = 4) -> None:
    """A finished job folder without a stimulus (as an old or moved run)."""
    folder.mkdir(parents=True)
    probs = np.eye(num_classes)[pred].tolist()
    (folder / 'result.json').write_text(json.dumps(dict(
        target_index=target, model_pred=pred, model_prob_target=probs[target],
        model_probs=probs, verifier_pred=pred,
        verifier_prob_target=probs[target], verifier_probs=probs,
        judge_pred=target, judge_prob_target=0.9,
        stimulus=str(folder / 'gone.mp4'))))
    rng = np.random.default_rng(target)
    np.save(folder / 'synth.npy',
            rng.integers(0, 256, (4, 16, 16, 3), dtype=np.uint8))


def test_evaluate_logs_to_the_parent_run(tmp_path, monkeypatch):
    from mlflow import MlflowClient

    from leaps_mm.tracking import (default_tracking_uri,
                                   local_artifact_location)
    monkeypatch.delenv('MLFLOW_TRACKING_URI', raising=False)
    for i in range(4):
        write_job(tmp_path / f'{i:05d}_c{i}', target=i, pred=i if i else 1)
    uri = default_tracking_uri(str(tmp_path))
    client = MlflowClient(uri)
    experiment = client.create_experiment(
        'leaps', artifact_location=local_artifact_location(uri))
    parent = client.create_run(experiment, tags={'work_dir': str(tmp_path)})
    client.create_run(experiment, tags={  # a child: never the target
        'work_dir': str(tmp_path),
        'mlflow.parentRunId': parent.info.run_id})

    result = run_tool(evaluate.main, [str(tmp_path), '--splits', '1'])
    assert result.exit_code == 0, result.output
    assert 'stimulus video(s) not readable' in result.output
    metrics = json.loads((tmp_path / 'metrics.json').read_text())
    assert metrics['top1_model'] == 75.0 and metrics['top1_judge'] == 100.0
    assert metrics['is_model'] == pytest.approx(2 ** 1.5)  # preds 1,1,2,3: p(y) = (0, 2, 1, 1) / 4
    assert 'ssim_consecutive_stimulus' not in metrics
    logged = client.get_run(parent.info.run_id).data.metrics
    assert logged['eval/top1_model'] == 75.0
    assert logged['eval/num_videos'] == 4
    assert 'metrics.json' in [a.path for a in
                              client.list_artifacts(parent.info.run_id)]


def test_evaluate_honours_the_tracking_uri_variable(tmp_path, monkeypatch):
    """Without --tracking-uri, evaluate.py logs to $MLFLOW_TRACKING_URI, as
    tools/invert.py does: the sweep's parent run is in that store (here
    not the work dir's, which has no mlflow.db)."""
    from mlflow import MlflowClient

    from leaps_mm.tracking import get_or_create_experiment
    work_dir = tmp_path / 'run'
    for i in range(2):
        write_job(work_dir / f'{i:05d}_c{i}', target=i, pred=i)
    uri = f'sqlite:///{tmp_path}/elsewhere.db'
    monkeypatch.setenv('MLFLOW_TRACKING_URI', uri)
    client = MlflowClient(uri)
    parent = client.create_run(get_or_create_experiment(client, 'leaps'),
                               tags={'work_dir': str(work_dir)})
    result = run_tool(evaluate.main, [str(work_dir), '--splits',
                                      '1'])
    assert result.exit_code == 0, result.output
    assert f'to run {parent.info.run_id} at {uri}' in result.output
    assert client.get_run(parent.info.run_id).data.metrics[
        'eval/top1_model'] == 100.0
    assert not (work_dir / 'mlflow.db').exists()
