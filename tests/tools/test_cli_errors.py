"""Every bad value a user can give the tools is one message that names it,
a non-zero exit and no traceback; ``--resume`` never mixes settings."""
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import DEMO_CONFIG, REPO, STIMULI, run_tool

sys.path.insert(0, osp.join(REPO, 'tools'))
from evaluate import MIN_VIDEOS_PER_SPLIT  # noqa: E402
from evaluate import main as evaluate_main  # noqa: E402
from invert import main as invert_main  # noqa: E402
from train import main as train_main  # noqa: E402

STIMULUS = osp.join(STIMULI, 'expand', '0.mp4')
TINY = ['--cfg-options', 'leaps.inverter.input_size=(4,32,32)',
        'leaps.loop.log_interval=1']
JOB = ['--stimulus', STIMULUS, '--target', 'expand', '--no-mlflow']
PLAIN_MMACTION = osp.join(
    osp.dirname(__import__('mmaction').__file__), '.mim', 'configs',
    'recognition', 'x3d', 'x3d_s_13x6x1_facebook-kinetics400-rgb.py')
TRAIN_CONFIG = osp.join(REPO, 'registry_configs', 'demo', 'train_r3d.py')
NO_LAUNCHER = {k: None for k in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK',
                                 'MASTER_ADDR', 'MASTER_PORT')}

# (case, arguments after the config, the texts the message must hold)
INVERT_CASES = [
    ('iters not a number', ['--cfg-options', 'leaps.loop.iters=abc'],
     ["--cfg-options leaps.loop.iters='abc'", 'whole number >= 1']),
    ('lr not a number',
     ['--cfg-options', 'leaps.loop.optim_wrapper.optimizer.lr=fast'],
     ["leaps.loop.optim_wrapper.optimizer.lr='fast'", 'must be a number']),
    ('zero iters', ['--cfg-options', 'leaps.loop.iters=0'],
     ['leaps.loop.iters=0', 'whole number >= 1']),
    ('negative lr',
     ['--cfg-options', 'leaps.loop.optim_wrapper.optimizer.lr=-0.1'],
     ['optimizer.lr=-0.1', 'number > 0']),
    ('zero log interval', ['--cfg-options', 'leaps.loop.log_interval=0'],
     ['leaps.loop.log_interval=0', '>= 1']),
    ('misspelt loop key', ['--cfg-options', 'leaps.loop.itres=3'],
     ['leaps.loop.itres=3', 'did you mean `iters`']),
    ('misspelt leaps key', ['--cfg-options', 'leaps.bacth_size=2'],
     ['leaps.bacth_size=2', 'did you mean `batch_size`']),
    ('misspelt loss key',
     ['--cfg-options', 'leaps.inverter.losses.1.distanse=l2'],
     ['losses.1.distanse', 'PrimingLoss', 'did you mean `distance`']),
    ('misspelt scheduler key',
     ['--cfg-options', 'leaps.loop.param_scheduler.eta_mn=0'],
     ['eta_mn=0', 'did you mean `eta_min`']),
    ('input size of two numbers',
     ['--cfg-options', 'leaps.inverter.input_size=(4,32)'],
     ['leaps.inverter.input_size=(4, 32)', '(frames, height, width)']),
    ('unknown autocast', ['--cfg-options', 'leaps.inverter.autocast=fp8'],
     ["leaps.inverter.autocast='fp8'", "'bf16', 'fp16'"]),
    ('flag not a bool', ['--cfg-options', 'leaps.inverter.channels_last=yes'],
     ["channels_last='yes'", 'True or False']),
    ('batch size not a number', ['--cfg-options', 'leaps.batch_size=many'],
     ["leaps.batch_size='many'", 'whole number >= 1']),
    ('section not a dict', ['--cfg-options', 'leaps.inverter=5'],
     ['leaps.inverter=5', 'must be a dict(...)']),
    ('losses not a list', ['--cfg-options', 'leaps.inverter.losses=abc'],
     ["leaps.inverter.losses='abc'", "list of dict(type="]),
    ('tap names a string',
     ['--cfg-options', 'leaps.inverter.taps.module_types=BatchNorm3d'],
     ["module_types='BatchNorm3d'", 'list of module class names']),
    ('tap pattern not a regex',
     ['--cfg-options', 'leaps.inverter.taps.include=('],
     ["leaps.inverter.taps.include='('", 'not a regular expression']),
    ('misspelt taps key', ['--cfg-options', 'leaps.inverter.taps.incude=x'],
     ['FeatureTaps has no setting `incude`', 'did you mean `include`']),
    ('negative seed', ['--seed', '-1'], ['--seed', '-1']),
    ('stimulus is a folder',
     ['--stimulus', osp.join(STIMULI, 'expand'), '--target', 'expand'],
     [f"'{osp.join(STIMULI, 'expand')}' is a folder", '--ann-file']),
    ('class index -1', ['--stimulus', STIMULUS, '--target', '-1'],
     ['Target index -1', '(0..7)']),
    ('class index too large', ['--stimulus', STIMULUS, '--target', '8'],
     ['Target index 8', '(0..7)']),
    ('missing stimulus',
     ['--stimulus', osp.join(STIMULI, 'nope.mp4'), '--target', '0'],
     ['nope.mp4', 'does not exist']),
    ('launcher outside torchrun', ['--launcher', 'pytorch'],
     ['--launcher', "'pytorch'", 'missing: RANK', 'torchrun']),
    ('unknown top-level key', ['--cfg-options', 'lepas.loop.iters=2'],
     ["no key 'lepas'"]),
]


def invert(args, env=None):
    return run_tool(invert_main, args, env=env)


def assert_named_error(result, expected, code=None):
    """A non-zero exit (``code`` when given), no traceback, and every text
    of ``expected`` in the one ``Error:`` message (argparse's ``error:``
    for a value it refuses itself)."""
    assert result.exit_code != 0, result.output
    if code is not None:
        assert result.exit_code == code, result.output
    assert 'Traceback' not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit), repr(result.exception)
    start = result.output.find('Error:')
    error = result.output[start if start >= 0 else
                          result.output.index('error:'):]
    for text in expected:
        assert text in error, result.output


@pytest.mark.parametrize('args, expected',
                         [case[1:] for case in INVERT_CASES],
                         ids=[case[0] for case in INVERT_CASES])
def test_a_bad_invert_value_is_named(tmp_path, args, expected):
    job = [] if '--stimulus' in args else JOB[:4]
    result = invert([DEMO_CONFIG, *job, *args, '--no-mlflow', '--work-dir',
                     str(tmp_path / 'run')], env=NO_LAUNCHER)
    assert_named_error(result, expected)
    # nothing ran: no job folder
    run = tmp_path / 'run'
    assert not run.exists() or not [d for d in os.listdir(run)
                                    if d[:5].isdigit()]


def test_every_shipped_config_passes_the_checks():
    """No false alarm: the checks accept every config in registry_configs/
    (and warn about none of their keys)."""
    import glob

    from mmengine.config import Config

    from leaps_mm.apis.validation import validate_inversion_config
    warnings = []
    configs = sorted(glob.glob(osp.join(REPO, 'registry_configs', '**',
                                        '*.py'), recursive=True))
    checked = 0
    for path in configs:
        cfg = Config.fromfile(path)
        if 'leaps' in cfg:
            validate_inversion_config(cfg, warn=warnings.append)
            checked += 1
    assert checked >= 20 and warnings == []


def test_a_config_without_leaps_shows_the_config_that_adds_it(tmp_path):
    result = invert([PLAIN_MMACTION, *JOB, '--work-dir', str(tmp_path)])
    assert_named_error(result, ['has no `leaps` section'])
    snippet = result.output.split('\n')
    base = next(line for line in snippet if '_base_ = [' in line)
    assert ("'mmaction::recognition/x3d/x3d_s_13x6x1_facebook-kinetics400-"
            "rgb.py'") in base
    assert osp.join('registry_configs', '_base_', 'leaps.py') in base
    assert any(line.strip().startswith('leaps = dict(') for line in snippet)
    # the shown config works: it loads as an inversion config
    from mmengine.config import Config
    config = tmp_path / 'my_inversion.py'
    config.write_text('\n'.join(line.strip() for line in snippet
                                if line.startswith('    ')) + '\n')
    assert 'inverter' in Config.fromfile(str(config)).leaps


def test_a_network_error_says_it_is_the_network(tmp_path):
    import socket
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(('127.0.0.1', 0))
        port = probe.getsockname()[1]
    url = f'http://127.0.0.1:{port}/x3d.pth'
    result = invert([DEMO_CONFIG, *JOB, '--checkpoint', url, '--work-dir',
                     str(tmp_path), *TINY],
                    env=dict(TORCH_HOME=str(tmp_path / 'hub')))
    assert_named_error(result, [url, 'It is the network', 'refused'])
    assert '--trust-checkpoint' not in result.output


def test_an_http_error_names_the_status_not_the_file(tmp_path):
    import functools
    import http.server
    import threading

    from leaps_mm.fileio.checkpoint import CheckpointError, load_checkpoint_file
    handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                                directory=str(tmp_path))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f'http://127.0.0.1:{server.server_address[1]}/missing.pth'
    try:
        with pytest.raises(CheckpointError) as error:
            load_checkpoint_file(url)
    finally:
        server.shutdown()
        server.server_close()
    assert 'the server answered HTTP 404' in str(error.value)
    assert 'It is the network' in str(error.value)
    assert '--trust-checkpoint' not in str(error.value)


def test_settings_name_what_changes_x_and_ignore_what_cannot():
    from mmengine.config import Config

    from leaps_mm.apis.settings import differences, resolved_settings

    def settings(**options):
        cfg = Config.fromfile(DEMO_CONFIG)
        cfg.merge_from_dict(options)
        return resolved_settings(cfg)

    base = settings()
    # job list, tracking, logging, evaluation, batch and speed options
    assert differences(base, settings(**{
        'leaps.stimuli.ann_file': 'other.txt', 'leaps.batch_size': 2,
        'leaps.tracking.enabled': False, 'leaps.log_level': 'INFO',
        'leaps.evaluation.is_splits': 3, 'leaps.loop.fps': 4,
        'leaps.loop.log_interval': 1, 'leaps.inverter.channels_last': True,
        'work_dir': 'elsewhere'})) == []
    changed = differences(base, settings(**{
        'leaps.seed': 3, 'leaps.inverter.verifier_checkpoint': 'v.pth',
        'leaps.loop.optim_wrapper.optimizer.lr': 0.1,
        'model.backbone.gamma_w': 2}))
    assert [line.split(':')[0] for line in changed] == [
        'leaps.inverter.verifier_checkpoint (--verifier-checkpoint)',
        'leaps.loop.optim_wrapper.optimizer.lr', 'leaps.seed (--seed)',
        'model.backbone.gamma_w']
    assert 'leaps.seed (--seed): 0 in the work dir, 3 now' in changed
    # another target model by `target = dict(from_config=...)`
    other = differences(base, settings(target=dict(
        from_config='train_r3d.py', checkpoint='r3d.pth')))
    assert any(line.startswith('model.backbone.') for line in other)
    assert any(line.startswith('leaps.inverter.target_checkpoint (--checkpoint'
                               '): null in the work dir, "r3d.pth"')
               for line in other), other


TRAIN_CASES = [
    ('misspelt loop key', 'train_cfg.max_epoch=abc',
     ['train_cfg.max_epoch=', 'did you mean `max_epochs`']),
    ('epochs not a number', 'train_cfg.max_epochs=abc',
     ["train_cfg.max_epochs='abc'", 'whole number']),
    ('lr not a number', 'optim_wrapper.optimizer.lr=fast',
     ["optim_wrapper.optimizer.lr='fast'", 'must be a number']),
    ('batch size not a number', 'train_dataloader.batch_size=x',
     ["train_dataloader.batch_size='x'", 'whole number']),
]


@pytest.mark.parametrize('option, expected',
                         [case[1:] for case in TRAIN_CASES],
                         ids=[case[0] for case in TRAIN_CASES])
def test_a_bad_train_value_is_named(tmp_path, option, expected):
    result = run_tool(train_main, [
        TRAIN_CONFIG, '--no-export', '--work-dir', str(tmp_path),
        '--cfg-options', option])
    assert_named_error(result, expected)
    assert not os.listdir(tmp_path)  # nothing trained


@pytest.mark.parametrize('args, expected', [
    (['{tmp}/missing'], ['missing', 'does not exist']),
    (['{tmp}'], ['has no job folders', 'finished tools/invert.py run']),
    (['{tmp}', '--splits', '0'], ['--splits', '0']),
], ids=['missing work dir', 'work dir without jobs', 'zero splits'])
def test_a_bad_evaluate_value_is_named(tmp_path, args, expected):
    result = run_tool(evaluate_main, [
        a.format(tmp=tmp_path) for a in args] + ['--no-mlflow'])
    assert_named_error(result, expected)


def _fake_sweep(work_dir, count: int) -> None:
    """``count`` finished jobs: confident, distinct predictions over 8
    classes and a small video each."""
    rng = np.random.default_rng(0)
    for index in range(count):
        folder = work_dir / f'{index:05d}_c{index % 8}'
        folder.mkdir(parents=True)
        probs = np.full(8, 0.02)
        probs[index % 8] = 0.86
        (folder / 'result.json').write_text(json.dumps(dict(
            job_id=folder.name, target_index=index % 8,
            model_pred=index % 8, model_prob_target=0.86,
            model_probs=probs.tolist())))
        np.save(folder / 'synth.npy',
                rng.integers(0, 255, (4, 8, 8, 3), dtype=np.uint8))


@pytest.mark.parametrize('splits', [None, '50'])
def test_evaluate_clamps_splits_that_would_hold_a_few_videos(tmp_path,
                                                              splits):
    _fake_sweep(tmp_path, 16)
    args = [str(tmp_path), '--no-mlflow'] + (['--splits', splits]
                                             if splits else [])
    result = run_tool(evaluate_main, args)
    assert result.exit_code == 0, result.output
    asked = splits or '10'
    assert (f'--splits {asked} would put fewer than {MIN_VIDEOS_PER_SPLIT} '
            'of the 16 videos in a split') in result.output
    assert 'using 1 split' in result.output
    metrics = json.loads((tmp_path / 'metrics.json').read_text())
    # one split of 16 videos over 8 classes: well above 1 (what a split of
    # one or two videos gives), no spread
    assert metrics['is_model'] > 3 and metrics['is_model_std'] == 0


def test_evaluate_keeps_splits_that_hold_enough_videos(tmp_path):
    _fake_sweep(tmp_path, 20)
    result = run_tool(evaluate_main, [str(tmp_path), '--splits', '2',
                                      '--no-mlflow'])
    assert result.exit_code == 0, result.output
    assert 'would put fewer' not in result.output


def test_resume_with_other_settings_is_refused_naming_them(tmp_path,
                                                           two_job_list):
    run = tmp_path / 'run'
    first = open(two_job_list).readline()
    one_job = tmp_path / 'one.txt'
    one_job.write_text(first)
    base = [DEMO_CONFIG, '--work-dir', str(run), '--no-mlflow', *TINY]
    done = invert(base + ['--ann-file', str(one_job), '--iters', '3'])
    assert done.exit_code == 0, done.output
    assert (run / 'leaps_settings.json').is_file()
    finished = run / '00000_move_left' / 'result.json'
    stamp = finished.stat().st_mtime_ns

    refused = invert(base + ['--ann-file', two_job_list, '--iters', '2',
                             '--resume'])
    assert_named_error(refused, [
        'leaps.loop.iters (--iters): 3 in the work dir, 2 now',
        '--work-dir', '--force-resume'])
    assert not (run / '00001_move_right').exists()

    # what cannot change x* may change: evaluation, fps, log interval
    same = invert(base + ['--ann-file', two_job_list, '--iters', '3',
                          '--resume', '--cfg-options', 'leaps.loop.fps=4',
                          'leaps.evaluation.is_splits=2'])
    assert same.exit_code == 0, same.output
    assert ('--resume: 1 of 2 jobs finished in' in same.output
            and 'running 1.' in same.output)
    assert finished.stat().st_mtime_ns == stamp
    assert (run / '00001_move_right' / 'result.json').is_file()

    again = invert(base + ['--ann-file', two_job_list, '--iters', '3',
                           '--resume'])
    assert '--resume: 2 of 2 jobs finished' in again.output
    assert 'running 0.' in again.output

    forced = invert(base + ['--ann-file', two_job_list, '--iters', '2',
                            '--force-resume'])
    assert forced.exit_code == 0, forced.output
    assert ('--force-resume: 2 job(s) were made with other settings '
            '(leaps.loop.iters (--iters): 3 in the work dir, 2 now)'
            ) in forced.output
    # each job names the settings it was made with; the work dir has both
    recorded = json.loads((run / 'leaps_settings.json').read_text())
    made_with = {job: json.loads((run / job / 'result.json').read_text())[
        'settings_id'] for job in ('00000_move_left', '00001_move_right')}
    assert recorded['settings'][made_with['00000_move_left']][
        'leaps.loop.iters'] == 3
    assert recorded['latest'] != made_with['00000_move_left']
    assert recorded['settings'][recorded['latest']]['leaps.loop.iters'] == 2
    again = invert(base + ['--ann-file', two_job_list, '--iters', '2',
                           '--resume'])
    assert_named_error(again, ['2 job(s)', '3 in the work dir, 2 now'])


def test_an_interrupted_fresh_run_over_old_jobs_is_not_mixed(tmp_path,
                                                             two_job_list):
    """Jobs of a run with other settings stay refused on --resume even
    after a later run recorded its own settings in the work dir."""
    run = tmp_path / 'run'
    base = [DEMO_CONFIG, '--work-dir', str(run), '--no-mlflow', *TINY,
            '--ann-file', two_job_list]
    assert invert(base + ['--iters', '3']).exit_code == 0
    one_job = tmp_path / 'one.txt'  # a fresh run that ends after one job
    one_job.write_text(open(two_job_list).readline())
    assert invert(base[:-1] + [str(one_job), '--iters', '2']).exit_code == 0
    refused = invert(base + ['--iters', '2', '--resume'])
    assert_named_error(refused, ['1 job(s)', '3 in the work dir, 2 now'])


def test_resume_over_a_reordered_job_list_is_refused(tmp_path):
    run = tmp_path / 'run'
    base = [DEMO_CONFIG, '--target', 'move left', '--iters', '2',
            '--work-dir', str(run), '--no-mlflow', *TINY]
    first, other = (osp.join(STIMULI, 'move_left', f'{i}.mp4')
                    for i in (0, 1))
    assert invert(['--stimulus', first, *base]).exit_code == 0
    refused = invert(['--stimulus', other, *base, '--resume'])
    assert_named_error(refused, [
        f'00000_move_left: {first} in the work dir, {other} now',
        'reordered', '--force-resume'])


def test_resume_of_a_work_dir_without_a_record_records_it(tmp_path):
    run = tmp_path / 'run'
    base = [DEMO_CONFIG, *JOB, '--work-dir', str(run), *TINY]
    assert invert(base + ['--iters', '2']).exit_code == 0
    # a work dir of an older version: no record, jobs without settings_id
    (run / 'leaps_settings.json').unlink()
    result = run / '00000_expand' / 'result.json'
    record = json.loads(result.read_text())
    made_with = record.pop('settings_id')
    result.write_text(json.dumps(record))
    resumed = invert(base + ['--iters', '3', '--resume'])
    assert resumed.exit_code == 0, resumed.output  # old jobs are trusted
    settings = json.loads((run / 'leaps_settings.json').read_text())
    assert settings['settings'][settings['latest']]['leaps.loop.iters'] == 3
    assert settings['latest'] != made_with


@pytest.mark.slow
def test_a_second_ctrl_c_stops_at_once_marks_mlflow_killed_and_hints(
        tmp_path):
    from mlflow import MlflowClient
    work_dir = tmp_path / 'run'
    env = dict(os.environ, OMP_NUM_THREADS='1', OMP_WAIT_POLICY='PASSIVE')
    env.pop('MLFLOW_TRACKING_URI', None)
    log = tmp_path / 'log.txt'
    command = [sys.executable, osp.join(REPO, 'tools', 'invert.py'),
               DEMO_CONFIG, '--stimulus', STIMULUS, '--target', 'expand',
               '--iters', '400', '--work-dir', str(work_dir)]
    with open(log, 'w') as out:
        sweep = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                 cwd=REPO, env=env)
        deadline = time.time() + 300
        while ' 2/400 [' not in log.read_text().replace('\r', '\n'):
            assert sweep.poll() is None, log.read_text()[-3000:]
            assert time.time() < deadline, 'no progress'
            time.sleep(0.05)
        sweep.send_signal(signal.SIGINT)
        time.sleep(0.05)  # within the step (~0.2 s on this input)
        sweep.send_signal(signal.SIGINT)
        assert sweep.wait(timeout=120) == 128 + signal.SIGINT
    output = log.read_text()
    assert 'Aborted!' not in output and 'Traceback' not in output
    assert 'Stopped at once (Ctrl-C twice)' in output
    assert 'same command plus --resume' in output
    client = MlflowClient(f'sqlite:///{work_dir}/mlflow.db')
    experiment = client.get_experiment_by_name('leaps')
    parents = [r for r in client.search_runs([experiment.experiment_id])
               if 'mlflow.parentRunId' not in r.data.tags]
    assert [r.info.status for r in parents] == ['KILLED']


@pytest.mark.parametrize('iters', [0, -3, 2.5, 'abc', True])
def test_the_loop_refuses_iters_it_cannot_run(iters):
    """For Python API users, who skip the CLI's checks: before the
    dataloader is built (no runner needed to see the error)."""
    from leaps_mm.loops import InversionLoop
    with pytest.raises(ValueError, match=r'leaps\.loop\.iters must be a '
                       r'whole number >= 1 \(steps per job\), got'):
        InversionLoop(None, None, None, iters=iters)
