"""SIGTERM during a job: a real tools/invert.py process on the demo main
job's config is killed mid-batch, then resumed; the result equals an
uninterrupted run's."""
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, STIMULI

CONFIG = os.path.join(REPO, 'registry_configs', 'demo', 'leaps_r3d.py')
ITERS = 60
JOBS = ('00000_move_left', '00001_expand')


def _command(ann: Path, work_dir: Path, *extra: str) -> list:
    return [sys.executable, os.path.join(REPO, 'tools', 'invert.py'), CONFIG,
            '--ann-file', str(ann), '--iters', str(ITERS), '--cfg-options',
            'leaps.loop.log_interval=5', '--work-dir', str(work_dir), *extra]


def _parent_status(work_dir: Path) -> str:
    """Status of the latest parent run in the work dir's MLflow store."""
    from mlflow import MlflowClient
    client = MlflowClient(f'sqlite:///{work_dir}/mlflow.db')
    experiment = client.get_experiment_by_name('leaps')
    parents = [r for r in client.search_runs(
        [experiment.experiment_id], order_by=['attributes.start_time DESC'])
        if 'mlflow.parentRunId' not in r.data.tags]
    return parents[0].info.status


@pytest.mark.slow
def test_sigterm_saves_the_batch_and_resume_gives_the_same_videos(tmp_path):
    ann = tmp_path / 'jobs.txt'
    ann.write_text(f'{STIMULI}/move_left/0.mp4 0\n{STIMULI}/expand/0.mp4 6\n')
    env = dict(os.environ, OMP_NUM_THREADS='1', OMP_WAIT_POLICY='PASSIVE')
    env.pop('MLFLOW_TRACKING_URI', None)
    reference, killed = tmp_path / 'reference', tmp_path / 'killed'
    log_path = tmp_path / 'killed.log'
    # the uninterrupted run, alongside (timing does not change the result)
    uninterrupted = subprocess.Popen(
        _command(ann, reference, '--no-mlflow'), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, cwd=REPO, env=env)
    with open(log_path, 'w') as log:
        sweep = subprocess.Popen(_command(ann, killed), stdout=log,
                                 stderr=subprocess.STDOUT, cwd=REPO, env=env)
        deadline = time.time() + 300
        while True:  # until the progress bar shows 10+ finished steps
            steps = [int(n) for n in re.findall(rf'(\d+)/{ITERS} \[',
                                                log_path.read_text())]
            if steps and max(steps) >= 10:
                break
            assert sweep.poll() is None, log_path.read_text()[-3000:]
            assert time.time() < deadline, 'no progress'
            time.sleep(0.1)
        sweep.send_signal(signal.SIGTERM)
        assert sweep.wait(timeout=120) == 128 + signal.SIGTERM
    output = log_path.read_text()
    match = re.search(rf'Interrupted at step (\d+)/{ITERS} of '
                      rf'{JOBS[0]}, {JOBS[1]}', output)
    assert match, output[-3000:]
    stopped_at = int(match.group(1))
    assert 10 <= stopped_at < ITERS
    assert '--resume' in output and 'Traceback' not in output
    for job in JOBS:
        assert (killed / job / 'partial.pt').is_file()
        assert not (killed / job / 'result.json').exists()
    assert not list(killed.rglob('*.tmp'))  # no half-written file
    assert _parent_status(killed) == 'KILLED'

    resumed = subprocess.run(_command(ann, killed, '--resume'),
                             capture_output=True, text=True, cwd=REPO,
                             env=env, timeout=600)
    assert resumed.returncode == 0, (resumed.stdout + resumed.stderr)[-3000:]
    assert (f'Continuing {JOBS[0]}, {JOBS[1]} from step {stopped_at}'
            in resumed.stdout + resumed.stderr)
    assert uninterrupted.wait(timeout=600) == 0
    for job in JOBS:
        assert not (killed / job / 'partial.pt').exists()
        again = np.load(killed / job / 'synth.npy')
        once = np.load(reference / job / 'synth.npy')
        assert np.array_equal(again, once), np.abs(
            again.astype(int) - once).max()
        curves = [json.loads((run / job / 'result.json').read_text())[
            'history'] for run in (killed, reference)]
        assert curves[0] == curves[1]  # every logged loss, bit for bit
    assert _parent_status(killed) == 'FINISHED'


def test_stop_signals_defer_sigterm_and_a_second_ctrl_c_is_immediate():
    from leaps_mm.loops.interruption import StopSignals
    before = signal.getsignal(signal.SIGTERM)
    with StopSignals() as stop:
        os.kill(os.getpid(), signal.SIGTERM)  # a real signal, deferred
        time.sleep(0.05)
        assert stop.requested == signal.SIGTERM
    with StopSignals() as stop:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
        assert stop.requested == signal.SIGINT
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
    assert signal.getsignal(signal.SIGTERM) is before  # restored


def test_partial_state_round_trips_only_for_the_same_batch(tmp_path):
    import torch
    from leaps_mm.loops.interruption import load_partial, save_partial
    folders = [str(tmp_path / name) for name in ('a', 'b')]
    latent = torch.randn(2, 3, 4)
    shared = torch.ones(1, 5)  # no job axis: kept whole, not concatenated
    state = dict(parameterization=dict(latent=latent, shared=shared),
                 generators=[torch.Generator().manual_seed(s).get_state()
                             for s in (1, 2)])
    optim = dict(state={0: dict(step=torch.tensor(7.0),
                                exp_avg=latent * 2)},
                 param_groups=[dict(lr=0.1, params=[0])])
    save_partial(folders, ['a', 'b'], 7, 20, state, optim, dict(last_step=7),
                 [[dict(step=5)], [dict(step=5, loss=1.0)]],
                 {1: dict(iteration=5)}, 3.5)
    back = load_partial(folders, ['a', 'b'], 20)
    assert back['step'] == 7 and back['scheduler'] == dict(last_step=7)
    assert torch.equal(back['inverter']['parameterization']['latent'], latent)
    assert torch.equal(back['inverter']['parameterization']['shared'], shared)
    assert all(torch.equal(a, b) for a, b in zip(
        back['inverter']['generators'], state['generators']))
    assert torch.equal(back['optimizer']['state'][0]['exp_avg'], latent * 2)
    assert back['optimizer']['param_groups'] == optim['param_groups']
    assert back['history'][1] == [dict(step=5, loss=1.0)]
    assert back['failed'] == {1: dict(iteration=5)}
    # another batch order, another number of iterations, a missing part
    assert load_partial(folders[::-1], ['b', 'a'], 20) is None
    assert load_partial(folders, ['a', 'b'], 30) is None
    os.remove(os.path.join(folders[1], 'partial.pt'))
    assert load_partial(folders, ['a', 'b'], 20) is None
