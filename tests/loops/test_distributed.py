"""Distributed sweeps of tools/invert.py on the demo models: torchrun with 2
gloo processes against a real `mlflow server` (sqlite, then PostgreSQL), a
rank killed mid-sweep and resumed with one process, srun's environment; and
(fast, in-process) how a sweep in the same work dir treats the earlier
MLflow parent run."""
import contextlib
import glob
import json
import os
import os.path as osp
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import Dict, Iterator, List, Optional

import pytest

from conftest import DEMO_CONFIG, REPO, STIMULI, run_tool
import servers  # noqa: E402
from servers import free_port  # noqa: E402

sys.path.insert(0, osp.join(REPO, 'tools'))
from invert import main  # noqa: E402

CONFIG = osp.join(REPO, 'registry_configs', 'demo', 'leaps_r3d.py')
INVERT = osp.join(REPO, 'tools', 'invert.py')
NUM_JOBS = 6
JOB_FOLDERS = ['00000_move_left', '00001_move_left', '00002_move_right',
               '00003_move_right', '00004_move_up', '00005_move_up']



def child_env() -> Dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS='1', OMP_WAIT_POLICY='PASSIVE')
    env.pop('MLFLOW_TRACKING_URI', None)
    return env


@pytest.fixture
def six_jobs(tmp_path) -> str:
    """The first six shipped stimuli (3 classes x 2) as an annotation file."""
    with open(osp.join(STIMULI, 'stimuli.txt')) as file:
        lines = [line.split() for line in file if line.strip()][:NUM_JOBS]
    path = tmp_path / 'jobs.txt'
    path.write_text(''.join(f'{osp.join(STIMULI, p)} {label}\n'
                            for p, label in lines))
    return str(path)


def mlflow_server(backend_store_uri: str, folder: str):
    return servers.mlflow_server(backend_store_uri, folder, workers=2,
                                 env=child_env())


@pytest.fixture(scope='module')
def sqlite_server(tmp_path_factory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp('mlflow_sqlite')
    with mlflow_server(f'sqlite:///{folder}/server.db', str(folder)) as uri:
        yield uri


def sweep_args(jobs: str, work_dir, uri: str, experiment: str,
               iters: int) -> List[str]:
    return [CONFIG, '--ann-file', jobs, '--work-dir', str(work_dir),
            '--iters', str(iters), '--batch-size', '1', '--tracking-uri', uri,
            '--experiment', experiment, '--cfg-options',
            f'leaps.loop.log_interval={max(iters // 2, 1)}']


def torchrun(args: List[str], log_path) -> subprocess.Popen:
    """``torchrun --nproc_per_node=2 tools/invert.py ARGS --launcher
    pytorch`` in the background, output to ``log_path``."""
    log = open(log_path, 'w')
    return subprocess.Popen(
        [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
         '--master_port', str(free_port()), INVERT, *args,
         '--launcher', 'pytorch'],
        cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=child_env())


def finished_folders(work_dir) -> List[str]:
    return sorted(osp.basename(osp.dirname(p)) for p in
                  glob.glob(osp.join(str(work_dir), '*', 'result.json')))


def check_sweep(uri: str, experiment: str, work_dir,
                folders: List[str] = JOB_FOLDERS) -> tuple:
    """Assert a complete sweep (default: the 6 jobs): the job folders, one
    FINISHED parent with the set metrics, one FINISHED child run per job
    under it; return (parent, children)."""
    from mlflow import MlflowClient
    assert finished_folders(work_dir) == folders
    client = MlflowClient(uri)
    exp = client.get_experiment_by_name(experiment)
    runs = client.search_runs([exp.experiment_id], max_results=1000)
    parents = [r for r in runs if 'mlflow.parentRunId' not in r.data.tags]
    children = [r for r in runs if 'mlflow.parentRunId' in r.data.tags]
    assert len(parents) == 1, [r.info.run_name for r in parents]
    parent = parents[0]
    assert parent.info.status == 'FINISHED'
    assert parent.data.metrics['inversion/num_videos'] == len(folders)
    for key in ('inversion/top1_model', 'inversion/top1_verifier',
                'inversion/top1_judge', 'inversion/is_model'):
        assert key in parent.data.metrics, key
    job_ids = sorted(r.data.tags['job_id'] for r in children)
    assert job_ids == folders  # exactly one child per job
    for child in children:
        assert child.data.tags['mlflow.parentRunId'] == parent.info.run_id
        assert child.info.status == 'FINISHED'
        assert 'model_prob_target' in child.data.metrics
        record = json.load(open(osp.join(
            str(work_dir), child.data.tags['job_id'], 'result.json')))
        assert child.data.params['target_name'] == record['target_name']
    return parent, children


@pytest.mark.slow
def test_torchrun_sweep_logs_one_parent_and_a_child_per_job(
        tmp_path, six_jobs, sqlite_server):
    work_dir = tmp_path / 'run'
    process = torchrun(sweep_args(six_jobs, work_dir, sqlite_server,
                                  'torchrun', iters=4), tmp_path / 'log.txt')
    assert process.wait(timeout=400) == 0, (tmp_path / 'log.txt').read_text()[
        -4000:]
    parent, children = check_sweep(sqlite_server, 'torchrun', work_dir)
    # rank 0 created the parent; both ranks logged children under it
    saved = json.loads((work_dir / 'mlflow_parent.json').read_text())
    assert saved['run_id'] == parent.info.run_id
    log = (tmp_path / 'log.txt').read_text()
    assert log.count('Metrics (6 videos') == 1  # rank 0's summary


@pytest.mark.slow
def test_slurm_launcher_on_cpu_with_the_default_sqlite_store(tmp_path,
                                                            six_jobs):
    """Two processes started as srun starts them (SLURM_* variables, no
    MASTER_ADDR) log into the work dir's own sqlite store concurrently; 5
    jobs do not split evenly, yet each runs once."""
    work_dir = tmp_path / 'run'
    five_jobs = tmp_path / 'five.txt'
    five_jobs.write_text(''.join(open(six_jobs).readlines()[:5]))
    args = sweep_args(str(five_jobs), work_dir, '', 'srun', iters=4)
    args.remove('--tracking-uri')
    args.remove('')
    port = str(free_port())
    processes = []
    for rank in range(2):
        env = dict(child_env(), SLURM_PROCID=str(rank), SLURM_NTASKS='2',
                   SLURM_LOCALID=str(rank), MASTER_PORT=port)
        env.pop('MASTER_ADDR', None)
        processes.append(subprocess.Popen(
            [sys.executable, INVERT, *args, '--launcher', 'slurm'], cwd=REPO,
            env=env, stdout=open(tmp_path / f'log{rank}.txt', 'w'),
            stderr=subprocess.STDOUT))
    for rank, process in enumerate(processes):
        assert process.wait(timeout=400) == 0, (
            tmp_path / f'log{rank}.txt').read_text()[-4000:]
    check_sweep(f'sqlite:///{work_dir}/mlflow.db', 'srun', work_dir,
                JOB_FOLDERS[:5])
    # rank 0 ran jobs 0, 2, 4 and rank 1 jobs 1, 3 (no padding repeats)
    assert '00000_move_left' not in (tmp_path / 'log1.txt').read_text()


def _worker_pids(agent_pid: int) -> Dict[int, int]:
    """{RANK: pid} of the workers a torchrun agent started (its child
    processes, found in /proc)."""
    pids: Dict[int, int] = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            with open(f'/proc/{entry}/stat') as file:
                parent = int(file.read().rsplit(')', 1)[1].split()[1])
            if parent != agent_pid:
                continue
            with open(f'/proc/{entry}/environ', 'rb') as file:
                match = re.search(rb'(?:^|\0)RANK=(\d+)\0', file.read())
            if match:
                pids[int(match.group(1))] = int(entry)
    return pids


@pytest.mark.slow
def test_a_killed_rank_is_resumed_by_one_process(tmp_path, six_jobs,
                                                 sqlite_server):
    """SIGKILL one of two torchrun workers while it still has jobs, then
    --resume without torchrun: every job once, child runs under the first
    parent, nothing left RUNNING."""
    from mlflow import MlflowClient
    work_dir = tmp_path / 'run'
    args = sweep_args(six_jobs, work_dir, sqlite_server, 'killed', iters=40)
    process = torchrun(args, tmp_path / 'log.txt')
    client = MlflowClient(sqlite_server)
    deadline = time.time() + 300
    # rank 0 has jobs 0, 2, 4 and rank 1 jobs 1, 3, 5: kill rank 1 once its
    # first job is logged, while it optimises its second
    while True:
        assert process.poll() is None, (tmp_path / 'log.txt').read_text()[
            -4000:]
        assert time.time() < deadline, 'rank 1 never finished a job'
        exp = client.get_experiment_by_name('killed')
        if exp is not None and client.search_runs(
                [exp.experiment_id], "tags.job_id = '00001_move_left' and "
                "attributes.status = 'FINISHED'"):
            break
        time.sleep(0.2)
    workers = _worker_pids(process.pid)
    os.kill(workers[1], signal.SIGKILL)
    assert process.wait(timeout=120) != 0
    done = finished_folders(work_dir)
    assert '00001_move_left' in done and '00005_move_up' not in done
    first_parent = json.loads(
        (work_dir / 'mlflow_parent.json').read_text())['run_id']
    # killed: left RUNNING (SIGKILL / default SIGTERM) or marked KILLED
    assert client.get_run(first_parent).info.status in ('RUNNING', 'KILLED')
    stamps = {job: os.stat(work_dir / job / 'synth.npy').st_mtime_ns
              for job in done}
    # the lock file still names the dead rank 0, but its flock died with it
    holder = int((work_dir / '.lock').read_text().split()[0])
    assert holder == workers[0] and not osp.exists(f'/proc/{holder}')

    resumed = subprocess.run(
        [sys.executable, INVERT, *args, '--resume'], cwd=REPO,
        capture_output=True, text=True, timeout=400, env=child_env())
    assert resumed.returncode == 0, resumed.stderr[-4000:]
    assert 'Metrics (6 videos' in resumed.stdout
    parent, _ = check_sweep(sqlite_server, 'killed', work_dir)
    assert parent.info.run_id == first_parent
    assert parent.data.tags['resumes'] == '1'
    for job, stamp in stamps.items():  # finished jobs were not redone
        assert os.stat(work_dir / job / 'synth.npy').st_mtime_ns == stamp


def _postgres_bin() -> Optional[str]:
    found = sorted(glob.glob('/usr/lib/postgresql/*/bin/initdb'))
    return osp.dirname(found[-1]) if found else None


@contextlib.contextmanager
def postgres_cluster() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on 127.0.0.1 (trust auth, free port)
    with an empty database ``mlflow``; yields its SQLAlchemy URI. PostgreSQL
    refuses to run as root, so as root its binaries run as the ``postgres``
    user (else ``nobody``) in a directory that user owns."""
    import psycopg2
    bin_dir = _postgres_bin()
    folder = tempfile.mkdtemp(prefix='leaps_pg_')
    prefix: List[str] = []
    if os.geteuid() == 0:
        user = 'postgres'
        try:
            pwd.getpwnam(user)
        except KeyError:
            user = 'nobody'
        entry = pwd.getpwnam(user)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
        prefix = ['runuser', '-u', user, '--']
    data, port = osp.join(folder, 'data'), free_port()

    def pg(*command: str) -> None:
        subprocess.run(prefix + [osp.join(bin_dir, command[0]), *command[1:]],
                       check=True, capture_output=True, timeout=120,
                       cwd=folder)

    started = False
    try:
        pg('initdb', '-D', data, '-U', 'leaps', '--auth=trust',
           '--no-sync', '-E', 'UTF8')
        pg('pg_ctl', '-D', data, '-l', osp.join(folder, 'server.log'), '-w',
           '-o', f'-h 127.0.0.1 -p {port} -k {folder} -F', 'start')
        started = True
        connection = psycopg2.connect(host='127.0.0.1', port=port,
                                      user='leaps', dbname='postgres')
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute('CREATE DATABASE mlflow')
        connection.close()
        # SQLAlchemy >= 2.1 reads plain postgresql:// as psycopg 3
        yield f'postgresql+psycopg2://leaps@127.0.0.1:{port}/mlflow'
    finally:
        if started:
            pg('pg_ctl', '-D', data, '-m', 'immediate', 'stop')
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
def test_torchrun_sweep_against_a_postgresql_tracking_server(tmp_path,
                                                             six_jobs):
    if _postgres_bin() is None:
        pytest.skip('needs PostgreSQL server binaries '
                    '(/usr/lib/postgresql/*/bin; apt-get install -y '
                    'postgresql)')
    pytest.importorskip('psycopg2', reason='needs psycopg2-binary '
                        "(pip install -e '.[tests]')")
    with postgres_cluster() as database, \
            mlflow_server(database, str(tmp_path)) as uri:
        work_dir = tmp_path / 'run'
        process = torchrun(sweep_args(six_jobs, work_dir, uri, 'postgres',
                                      iters=4), tmp_path / 'log.txt')
        assert process.wait(timeout=400) == 0, (
            tmp_path / 'log.txt').read_text()[-4000:]
        check_sweep(uri, 'postgres', work_dir)


def _in_process(tmp_path, jobs: List[str], *extra: str):
    """tools/invert.py in this process on the random demo config with the
    work dir's sqlite store; return run_tool's result."""
    ann = tmp_path / f'jobs{len(jobs)}.txt'
    ann.write_text(''.join(f'{osp.join(STIMULI, job)}\n' for job in jobs))
    return run_tool(main, [
        DEMO_CONFIG, '--ann-file', str(ann), '--work-dir',
        str(tmp_path / 'run'), '--iters', '2', '--cfg-options',
        'leaps.inverter.input_size=(4,32,32)', *extra])


def _runs(client) -> tuple:
    exp = client.get_experiment_by_name('leaps')
    runs = client.search_runs([exp.experiment_id])
    return ([r for r in runs if 'mlflow.parentRunId' not in r.data.tags],
            [r for r in runs if 'mlflow.parentRunId' in r.data.tags])


@pytest.fixture
def _in_repo(monkeypatch):
    monkeypatch.delenv('MLFLOW_TRACKING_URI', raising=False)
    monkeypatch.chdir(REPO)


def test_resume_reopens_the_parent_and_replaces_interrupted_children(
        tmp_path, _in_repo):
    from mlflow import MlflowClient
    jobs = ['move_left/0.mp4 0', 'move_right/0.mp4 1']
    assert _in_process(tmp_path, jobs[:1]).exit_code == 0
    client = MlflowClient(f'sqlite:///{tmp_path}/run/mlflow.db')
    (parent,), _ = _runs(client)
    # what a sweep killed while logging job 1 leaves: a RUNNING child
    stale = client.create_run(parent.info.experiment_id, tags={
        'mlflow.parentRunId': parent.info.run_id,
        'job_id': '00001_move_right'}).info.run_id
    result = _in_process(tmp_path, jobs, '--resume')
    assert result.exit_code == 0, result.output
    parents, children = _runs(client)
    assert [p.info.run_id for p in parents] == [parent.info.run_id]
    assert parents[0].info.status == 'FINISHED'
    assert parents[0].data.tags['resumes'] == '1'
    assert parents[0].data.metrics['inversion/num_videos'] == 2
    assert sorted(c.data.tags['job_id'] for c in children) == [
        '00000_move_left', '00001_move_right']
    assert all(c.info.status == 'FINISHED' for c in children)
    assert client.get_run(stale).info.lifecycle_stage == 'deleted'


def test_a_new_sweep_marks_a_killed_parent_killed(tmp_path, _in_repo):
    from mlflow import MlflowClient
    jobs = ['move_left/0.mp4 0']
    assert _in_process(tmp_path, jobs).exit_code == 0
    client = MlflowClient(f'sqlite:///{tmp_path}/run/mlflow.db')
    (old,), _ = _runs(client)
    client.update_run(old.info.run_id, status='RUNNING')  # as if killed
    assert _in_process(tmp_path, jobs).exit_code == 0  # no --resume
    parents, children = _runs(client)
    status = {p.info.run_id: p.info.status for p in parents}
    assert len(status) == 2 and status.pop(old.info.run_id) == 'KILLED'
    assert list(status.values()) == ['FINISHED']
    assert len(children) == 2  # one per sweep
