"""A tracking server that dies mid-sweep: local results are complete, and a
later --resume logs the jobs it missed (a real `mlflow server`, killed)."""
import json
import os
import os.path as osp
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import DEMO_CONFIG, REPO, STIMULI
from servers import free_port, start_mlflow_server, stop_server


def _start_server(store: Path, port: int):
    return start_mlflow_server(f'sqlite:///{store}/server.db', str(store),
                               port=port, timeout=90)


def _stop(server) -> None:
    stop_server(server, kill=True)


@pytest.mark.slow
def test_resume_backfills_jobs_the_dead_server_missed(tmp_path):
    from mlflow import MlflowClient
    store = tmp_path / 'store'
    store.mkdir()
    port = free_port()
    uri = f'http://127.0.0.1:{port}'
    with open(osp.join(STIMULI, 'stimuli.txt')) as file:
        lines = [line.split() for line in file if line.strip()]
    ann = tmp_path / 'jobs.txt'
    ann.write_text(''.join(f'{osp.join(STIMULI, p)} {label}\n'
                           for p, label in (lines[0], lines[2])))
    work = tmp_path / 'work'
    jobs = [work / '00000_move_left', work / '00001_move_right']
    command = [sys.executable, osp.join(REPO, 'tools', 'invert.py'),
               DEMO_CONFIG, '--ann-file', str(ann), '--batch-size', '1',
               '--iters', '120', '--cfg-options',
               'leaps.inverter.input_size=(4,32,32)', '--cfg-options',
               'leaps.loop.log_interval=20', '--work-dir', str(work),
               '--tracking-uri', uri]
    env = dict(os.environ, OMP_NUM_THREADS='1', OMP_WAIT_POLICY='PASSIVE',
               MLFLOW_HTTP_REQUEST_MAX_RETRIES='0',
               MLFLOW_HTTP_REQUEST_TIMEOUT='5')
    env.pop('MLFLOW_TRACKING_URI', None)

    server = _start_server(store, port)
    try:
        with open(tmp_path / 'sweep.log', 'w') as log:
            sweep = subprocess.Popen(command, stdout=log,
                                     stderr=subprocess.STDOUT, cwd=REPO,
                                     env=env)
            deadline = time.time() + 240
            while not (jobs[0] / 'tracked.json').exists():
                assert sweep.poll() is None, (tmp_path / 'sweep.log'
                                              ).read_text()[-3000:]
                assert time.time() < deadline, 'first job never tracked'
                time.sleep(0.05)
            _stop(server)  # mid-sweep: the second job is being optimised
            assert not (jobs[1] / 'result.json').exists()
            assert sweep.wait(timeout=300) == 0
        output = (tmp_path / 'sweep.log').read_text()
        assert 'tracking is off for the rest of this sweep' in output
        assert (jobs[1] / 'result.json').is_file()  # local results complete
        assert not (jobs[1] / 'tracked.json').exists()

        server = _start_server(store, port)  # the same store, back again
        resumed = subprocess.run(command + ['--resume'], capture_output=True,
                                 text=True, cwd=REPO, env=env, timeout=300)
        assert resumed.returncode == 0, resumed.stdout[-3000:]
        assert 'back-filled 1 finished job(s) without a child run: ' \
               '00001_move_right' in resumed.stdout + resumed.stderr
        client = MlflowClient(uri)
        experiment = client.get_experiment_by_name('leaps')
        for job in jobs:
            marker = json.loads((job / 'tracked.json').read_text())
            assert marker['tracking_uri'] == uri
            children = client.search_runs(
                [experiment.experiment_id],
                f"tags.job_id = '{job.name}'")
            assert [r.info.run_id for r in children] == [marker['run_id']]
            run = children[0]
            assert run.info.status == 'FINISHED'
            assert run.data.tags['mlflow.parentRunId'] == \
                marker['parent_run_id']
            assert 'loss' in run.data.metrics
            artifacts = {a.path for a in client.list_artifacts(
                run.info.run_id)}
            assert {'synth.gif', 'result.json'} <= artifacts
        # nothing is logged twice by a further resume
        again = subprocess.run(command + ['--resume'], capture_output=True,
                               text=True, cwd=REPO, env=env, timeout=300)
        assert again.returncode == 0
        assert 'back-filled' not in again.stdout + again.stderr
    finally:
        _stop(server)
