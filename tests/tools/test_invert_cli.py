"""tools/invert.py end to end on the demo config (random X3D-S, tiny sizes)."""
import json
import os
import re
import os.path as osp
import sys

import numpy as np
import pytest

from conftest import DEMO_CONFIG, REPO, STIMULI, run_tool

sys.path.insert(0, osp.join(REPO, 'tools'))
from invert import main, parse_args  # noqa: E402

# several KEY=VALUE after one --cfg-options, as in mmengine's tools
FAST = ['--iters', '3', '--cfg-options', 'leaps.inverter.input_size=(4,32,32)',
        'leaps.loop.log_interval=1', '--no-mlflow']
RESULT_KEYS = {'target_index', 'target_name', 'stimulus', 'model_pred',
               'model_prob_target', 'verifier_pred', 'verifier_prob_target',
               'iterations', 'seconds', 'final_losses', 'seed', 'config',
               'target_checkpoint', 'verifier_checkpoint', 'history'}


def invert(*args: str):
    return run_tool(main, [DEMO_CONFIG, *args])


def test_sweep_writes_complete_job_folders(tmp_path, two_job_list):
    result = invert('--ann-file', two_job_list, '--work-dir', str(tmp_path),
                    *FAST)
    assert result.exit_code == 0, result.output
    jobs = sorted(d for d in os.listdir(tmp_path) if re.match(r'\d{5}_[a-z]', d))
    assert jobs == ['00000_move_left', '00001_move_right']
    for job in jobs:
        folder = tmp_path / job
        names = set(os.listdir(folder))
        assert {'synth.mp4', 'synth.gif', 'strip.png', 'synth.npy',
                'result.json'} <= names
        assert not [n for n in names if n.endswith('.tmp')]
        synth = np.load(folder / 'synth.npy')
        assert synth.shape == (4, 32, 32, 3) and synth.dtype == np.uint8
        record = json.loads((folder / 'result.json').read_text())
        assert RESULT_KEYS <= set(record)
        assert record['iterations'] == 3 and len(record['history']) == 3
        assert 'loss_scale' not in record['history'][0]  # fp32: none
        assert set(record['final_losses']) == {
            'loss_ce', 'loss_prim', 'loss_coh', 'loss_feat'}
        assert 0 <= record['model_prob_target'] <= 1
    first = json.loads((tmp_path / jobs[1] / 'result.json').read_text())
    assert first['target_name'] == 'move right' and first['target_index'] == 1
    assert str(tmp_path) in result.output


def test_fp16_sweep_scales_the_loss_and_logs_the_scale(tmp_path):
    stimulus = osp.join(STIMULI, 'expand', '0.mp4')
    result = invert('--stimulus', stimulus, '--target', 'expand',
                    '--work-dir', str(tmp_path), *FAST, '--cfg-options',
                    'leaps.inverter.autocast=fp16')
    assert result.exit_code == 0, result.output
    record = json.loads(
        (tmp_path / '00000_expand' / 'result.json').read_text())
    scales = [point['loss_scale'] for point in record['history']]
    # GradScaler's 2**16, halved at each skipped step, never grown in 3
    assert len(scales) == 3
    assert all(s in {2.0**k for k in range(17)} for s in scales)
    assert scales == sorted(scales, reverse=True)
    assert all(np.isfinite(v) for v in record['final_losses'].values())


@pytest.mark.parametrize('args, expected', [
    (['c.py', '--cfg-options', 'a=1', 'b=(4, 32)', '--iters', '3'],
     dict(a=1, b=(4, 32))),
    # repeated flags merge; a value's own '=' is not a new option
    (['c.py', '--cfg-options', 'a=1', 'b=x=y', '--seed', '3',
      '--cfg-options', 'c=[a,b]', 'a=2'], dict(a=2, b='x=y', c=['a', 'b'])),
    (['c.py', '--seed', '3'], None),
])
def test_cfg_options_take_several_values_after_one_flag(args, expected):
    assert parse_args(args).cfg_options == expected


def test_two_cfg_options_after_one_flag_reach_the_config():
    from leaps_mm.apis.cli_config import load_config
    args = parse_args([DEMO_CONFIG, '--cfg-options', 'leaps.seed=5',
                       'leaps.loop.iters=7', '--no-mlflow'])
    cfg = load_config(args.config, args.cfg_options, require_leaps=True)
    assert (cfg.leaps.seed, cfg.leaps.loop.iters) == (5, 7)
    assert args.config == DEMO_CONFIG and args.no_mlflow


def test_a_cfg_option_without_equals_is_a_usage_error():
    result = run_tool(main, [DEMO_CONFIG, '--cfg-options', 'a=1', 'c.py'])
    assert result.exit_code == 2
    assert "argument --cfg-options: 'c.py' is not KEY=VALUE" in result.output
    assert 'positional arguments before it' in result.output


def test_same_seed_same_video_and_seed_changes_it(tmp_path):
    stimulus = osp.join(STIMULI, 'expand', '0.mp4')
    videos = []
    for run, seed in (('a', '3'), ('b', '3'), ('c', '4')):
        result = invert('--stimulus', stimulus, '--target', 'expand',
                        '--seed', seed, '--work-dir', str(tmp_path / run),
                        *FAST)
        assert result.exit_code == 0, result.output
        videos.append(np.load(tmp_path / run / '00000_expand' / 'synth.npy'))
    assert np.array_equal(videos[0], videos[1])
    assert not np.array_equal(videos[0], videos[2])


@pytest.mark.parametrize('args, message', [
    (['--target', 'move lfet'], "Closest: 'move left'"),
    (['--target', '12'], 'out of range'),
])
def test_bad_target_is_a_clear_error(tmp_path, args, message):
    result = run_tool(main, [
        DEMO_CONFIG, '--stimulus', osp.join(STIMULI, 'expand', '0.mp4'),
        *args, '--work-dir', str(tmp_path), *FAST])
    assert result.exit_code != 0
    assert message in result.output
    assert 'Traceback' not in result.output


def test_missing_inputs_are_clear_errors(tmp_path):
    missing = str(tmp_path / 'nope.mp4')
    result = run_tool(main, [DEMO_CONFIG, '--stimulus', missing,
                             '--target', '0', *FAST])
    assert result.exit_code != 0 and 'nope.mp4' in result.output
    result = run_tool(main, [str(tmp_path / 'missing.py')])
    assert result.exit_code != 0 and 'missing.py' in result.output
    result = run_tool(main, [DEMO_CONFIG, '--cfg-options',
                             'lepas.loop.iters=2'])
    assert result.exit_code != 0 and "no key 'lepas'" in result.output


@pytest.mark.slow
def test_torchrun_shards_a_sweep_over_two_processes(tmp_path):
    """--launcher pytorch: mmengine's sampler gives each rank its own jobs;
    every job runs once and the metrics cover all of them."""
    import subprocess
    with open(osp.join(STIMULI, 'stimuli.txt')) as file:
        lines = [line.split() for line in file if line.strip()][:4]
    jobs = tmp_path / 'jobs.txt'
    jobs.write_text(''.join(f'{osp.join(STIMULI, p)} {l}\n' for p, l in lines))
    work_dir = tmp_path / 'run'
    command = [sys.executable, '-m', 'torch.distributed.run',
               '--nproc_per_node=2', osp.join(REPO, 'tools', 'invert.py'),
               DEMO_CONFIG, '--ann-file', str(jobs), '--launcher', 'pytorch',
               '--work-dir', str(work_dir), *FAST]
    done = subprocess.run(command, capture_output=True, text=True,
                          timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    folders = sorted(d for d in os.listdir(work_dir) if re.match(r'\d{5}_[a-z]', d))
    assert folders == ['00000_move_left', '00001_move_left',
                       '00002_move_right', '00003_move_right']
    assert all((work_dir / f / 'result.json').exists() for f in folders)
    assert done.stdout.count('Metrics (4 videos') == 1


def test_resume_skips_finished_jobs_and_keeps_their_results(tmp_path,
                                                            two_job_list):
    first_job = open(two_job_list).readline()
    one_job = tmp_path / 'one.txt'
    one_job.write_text(first_job)
    work_dir = tmp_path / 'run'
    assert invert('--ann-file', str(one_job), '--work-dir', str(work_dir),
                  *FAST).exit_code == 0
    done = work_dir / '00000_move_left' / 'synth.npy'
    stamp = done.stat().st_mtime_ns
    result = invert('--ann-file', two_job_list, '--work-dir', str(work_dir),
                    '--resume', *FAST)
    assert result.exit_code == 0, result.output
    assert done.stat().st_mtime_ns == stamp  # not recomputed
    assert (work_dir / '00001_move_right' / 'result.json').exists()
    assert 'Metrics (2 videos' in result.output


def test_a_diverging_job_is_reported_and_the_sweep_goes_on(tmp_path,
                                                           two_job_list):
    config = tmp_path / 'diverging.py'
    config.write_text(
        f"_base_ = [{DEMO_CONFIG!r}]\n"
        "leaps = dict(inverter=dict(losses=[\n"
        "    dict(type='ClassificationLoss'),\n"
        "    dict(type='InputNormLoss', weight=float('inf'))]))\n")
    result = run_tool(main, [
        str(config), '--ann-file', two_job_list, '--batch-size', '1',
        '--work-dir', str(tmp_path / 'run'), *FAST])
    assert result.exit_code == 0, result.output
    for job in ('00000_move_left', '00001_move_right'):
        folder = tmp_path / 'run' / job
        failure = json.loads((folder / 'failed.json').read_text())
        assert failure['iteration'] == 1 and failure['term'] == 'loss_l2'
        assert not (folder / 'result.json').exists()


def test_a_locked_work_dir_is_refused(tmp_path):
    import fcntl
    work_dir = tmp_path / 'busy'
    work_dir.mkdir()
    with open(work_dir / '.lock', 'w') as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = run_tool(main, [
            DEMO_CONFIG, '--stimulus', osp.join(STIMULI, 'expand', '0.mp4'),
            '--target', 'expand', '--work-dir', str(work_dir), *FAST])
    assert result.exit_code != 0
    assert 'Another tools/invert.py is running' in result.output


def test_a_stimulus_that_is_not_a_video_is_a_clear_error(tmp_path):
    fake = tmp_path / 'clip.mp4'
    fake.write_text('not a video\n' * 40)
    result = run_tool(main, [
        DEMO_CONFIG, '--stimulus', str(fake), '--target', 'expand',
        '--work-dir', str(tmp_path / 'run'), *FAST])
    assert result.exit_code == 1, result.output
    assert f"cannot read '{fake}' as a video" in result.output
    assert 'ffmpeg -i' in result.output and 'Traceback' not in result.output


def test_unknown_registry_type_names_the_registry_and_close_names(tmp_path):
    result = run_tool(main, [
        DEMO_CONFIG, '--stimulus', osp.join(STIMULI, 'expand', '0.mp4'),
        '--target', 'expand', '--work-dir', str(tmp_path), *FAST,
        '--cfg-options', 'model.backbone.type=X3DD'])
    assert result.exit_code == 1, result.output
    assert ("Unknown type 'X3DD' (config key model.backbone.type): it is not "
            'in the mmaction::model registry. Closest registered names: X3D'
            ) in result.output
    assert 'Traceback' not in result.output


def test_label_file_with_another_class_count_is_refused(tmp_path):
    classes = tmp_path / 'three.txt'
    classes.write_text('a\nb\nc\n')
    demo_r3d = osp.join(REPO, 'registry_configs', 'demo', 'leaps_r3d.py')
    result = run_tool(main, [
        demo_r3d, '--classes', str(classes), '--stimulus',
        osp.join(STIMULI, 'expand', '0.mp4'), '--target', '0',
        '--work-dir', str(tmp_path / 'run'), '--no-mlflow'])
    assert result.exit_code == 1, result.output
    assert 'The target has 8 classes' in result.output
    assert 'checkpoints/demo/r3d_noise.pth' in result.output
    assert f'label file {classes} lists 3' in result.output
    assert not (tmp_path / 'run' / '00000_a').exists()


def test_trust_checkpoint_flag_warns_and_loads_with_pickle(tmp_path):
    import torch
    marker = str(tmp_path / 'ran_pickled_code')

    class Payload:
        def __reduce__(self):
            return (os.mkdir, (marker,))

    evil = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'x': Payload()}, evil)
    args = [DEMO_CONFIG, '--checkpoint', str(evil), '--stimulus',
            osp.join(STIMULI, 'expand', '0.mp4'), '--target', 'expand',
            '--work-dir', str(tmp_path / 'run'), *FAST]
    refused = run_tool(main, args)
    assert refused.exit_code == 1 and '--trust-checkpoint' in refused.output
    assert not (tmp_path / 'ran_pickled_code').exists()
    trusted = run_tool(main, args + ['--trust-checkpoint'])
    assert trusted.exit_code == 1  # loaded, then: the keys do not fit
    assert 'without the safety check' in trusted.output
    assert (tmp_path / 'ran_pickled_code').is_dir()
    assert 'does not fit' in trusted.output and 'missing' in trusted.output


def test_metric_summary_is_a_line_per_scorer():
    metrics = {'inversion/num_videos': 16.0, 'inversion/top1_model': 100.0,
               'inversion/prob_target_model': 0.994,
               'inversion/top1_model_static': 12.5,
               'inversion/top1_judge': 50.0, 'inversion/top1_judge_mvit': 50.0,
               'inversion/partner_rate_judge_mvit': 75.0,
               'inversion/is_model': 3.0}
    lines = main.__globals__['metric_summary'](metrics)
    assert lines[0].startswith('Metrics (16 videos')
    assert len(lines) == 3  # model, judge_mvit (not its 'judge' alias)
    assert 'top-1 100.0' in lines[1] and 'p 0.99' in lines[1]
    assert 'static  12.5' in lines[1]
    assert 'judge_mvit' in lines[2] and 'reversed->partner  75.0' in lines[2]
