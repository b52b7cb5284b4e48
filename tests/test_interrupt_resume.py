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
