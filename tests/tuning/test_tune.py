"""tools/tune.py: search spaces and their errors, the objective, the best
config, and real tiny searches on the demo models (MLflow records, resume,
a killed search)."""
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest
from mmengine.config import Config

from leaps_mm.tuning import (SpaceError, best_config_text, load_space,
                             objective, parse_space, score_jobs)
from leaps_mm.tuning.space import cfg_options, config_values
from leaps_mm.tuning.trial import pick_stimuli

from conftest import REPO  # noqa: E402
# the paper's full objective on the demo models (all four loss terms)
DEMO = osp.join(REPO, 'registry_configs', 'ablations', 'full.py')
SPACE = osp.join(REPO, 'registry_configs', 'tuning', 'leaps_demo_space.py')
TUNE = osp.join(REPO, 'tools', 'tune.py')
INVERT = osp.join(REPO, 'tools', 'invert.py')
ENV = dict(os.environ, OMP_NUM_THREADS='1', OMP_WAIT_POLICY='PASSIVE')


@pytest.fixture(scope='module')
def demo_cfg() -> Config:
    return Config.fromfile(DEMO)


def space_error(cfg: Config, space: dict, settings: dict = None) -> str:
    with pytest.raises(SpaceError) as info:
        parse_space(space, settings, cfg, 'space.py')
    return str(info.value)


def test_demo_space(demo_cfg):
    space = load_space(SPACE, demo_cfg)
    assert [p.name for p in space.params] == ['lam', 'r', 'lr']
    r = space.params[1]
    assert r.keys == ('leaps.inverter.losses.2.weight',
                      'leaps.inverter.losses.3.weight') and r.log
    assert space.settings['iters'] == 40
    # the config's own values lie inside the space: the first trial
    values = config_values(space, demo_cfg)
    assert values == dict(lam=1.0, r=0.1, lr=0.05)
    assert cfg_options(space, dict(lam=2.0, r=0.05, lr=0.1)) == [
        'leaps.inverter.losses.1.layer_weights=2.0',
        'leaps.inverter.losses.2.weight=0.05',
        'leaps.inverter.losses.3.weight=0.05',
        'leaps.loop.optim_wrapper.optimizer.lr=0.1']


def test_unknown_key_is_named(demo_cfg):
    message = space_error(demo_cfg, {'leaps.loop.optimizer.lr': dict(
        type='float', low=0.01, high=1.0)})
    assert "'leaps.loop.optimizer.lr'" in message
    assert "no key 'optimizer' in leaps.loop" in message
    assert 'optim_wrapper' in message  # what is there instead
    message = space_error(demo_cfg, dict(w=dict(
        type='float', low=0.01, high=1.0,
        keys='leaps.inverter.losses.7.weight')))
    assert 'leaps.inverter.losses is a list of 4 items' in message


def test_top_level_variable_points_at_its_uses(demo_cfg):
    message = space_error(demo_cfg, dict(r=dict(type='float', low=0.01,
                                                high=1.0)))
    assert 'top-level variable' in message
    assert 'leaps.inverter.losses.2.weight' in message
    assert 'leaps.inverter.losses.3.weight' in message


@pytest.mark.parametrize('spec, expected', [
    (dict(type='float', low=1.0, high=0.1), 'low must be below high'),
    (dict(type='float', low=0.0, high=1.0, log=True), 'needs low > 0'),
    (dict(type='int', low=1.5, high=4), "'low' must be an integer"),
    (dict(type='float', low='a', high=1.0), "'low' must be a number"),
    (dict(type='choice', choices=[]), 'non-empty list'),
    (dict(type='choice', choices=[[1, 2]]), 'numbers, strings'),
    (dict(type='uniform', low=0, high=1), 'type must be one of'),
    (dict(type='float', low=0, high=1, scale='log'), "unknown field"),
])
def test_bad_ranges(demo_cfg, spec, expected):
    message = space_error(demo_cfg, dict(
        lr=dict(spec, keys='leaps.loop.optim_wrapper.optimizer.lr')))
    assert "space['lr']" in message and expected in message


def test_bad_space_settings(demo_cfg):
    lr = dict(type='float', low=0.01, high=1.0,
              keys='leaps.loop.optim_wrapper.optimizer.lr')
    assert 'unknown `tuning` key' in space_error(demo_cfg, dict(lr=lr),
                                                 dict(iterations=5))
    assert 'already set by' in space_error(demo_cfg, dict(lr=lr, lr2=lr))
    assert 'a config section' in space_error(demo_cfg, dict(
        x=dict(type='choice', choices=[1], keys='leaps.loop')))


def test_objective_orders_by_top1_then_probability():
    assert objective(3, 0.0, 8) > objective(2, 0.99, 8)
    assert objective(2, 0.5, 8) > objective(2, 0.4, 8)
    assert objective(0, 0.0, 8) == 0.0 and objective(8, 1.0, 8) == 1.0


def test_score_jobs_counts_failed_jobs_as_wrong(tmp_path):
    for name, pred, prob in (('00000_a', 0, 0.9), ('00001_b', 2, 0.2)):
        (tmp_path / name).mkdir()
        (tmp_path / name / 'result.json').write_text(json.dumps(dict(
            target_index=int(name[4]), verifier_pred=pred,
            verifier_prob_target=prob, model_pred=0, model_prob_target=1.0)))
    (tmp_path / '00002_c').mkdir()  # a job that failed: no result.json
    score = score_jobs(str(tmp_path), 'verifier', 3)
    assert (score.correct, score.failed_jobs) == (1, 1)
    assert score.mean_prob == pytest.approx(1.1 / 3)
    assert score.objective == pytest.approx((1 + 1.1 / 3) / 4)
    assert score.other['top1_model'] == pytest.approx(100 / 3)


def test_pick_stimuli():
    # the demo list is sorted by class, 2 stimuli each: 8 -> one per class
    assert pick_stimuli(16, 8) == [0, 2, 4, 6, 9, 11, 13, 15]
    assert pick_stimuli(16, '0,3') == [0, 3]
    assert pick_stimuli(16, None) is None
    with pytest.raises(SpaceError, match='out of range'):
        pick_stimuli(16, [3, 16])


def test_best_config_inherits_and_sets_only_tuned_keys(tmp_path, demo_cfg):
    folder = tmp_path / 'configs'
    folder.mkdir()
    config = folder / 'mine.py'
    config.write_text(f"_base_ = [{DEMO!r}]\n"
                      "verifier = dict(from_config='x3d_other.py')\n")
    cfg = Config.fromfile(str(config))
    out = tmp_path / 'search' / 'best_config.py'
    out.parent.mkdir()
    text = best_config_text(cfg, str(config), str(out), {
        'leaps.inverter.losses.2.weight': 0.02,
        'leaps.inverter.losses.1.layer_weights': 3.0,
        'leaps.loop.optim_wrapper.optimizer.lr': 0.05}, ['a header'])
    assert text.startswith('# a header\n_base_ = [\'../configs/mine.py\']')
    out.write_text(text)
    best = Config.fromfile(str(out))
    losses = best.leaps.inverter.losses
    assert [loss.get('weight') for loss in losses] == [1.0, None, 0.02, 0.1]
    assert losses[1].layer_weights == 3.0 and losses[1].distance == 'jvs'
    assert best.leaps.loop.optim_wrapper.optimizer == dict(
        type='Adam', lr=0.05, fused=True)
    assert best.leaps.loop.iters == demo_cfg.leaps.loop.iters
    assert not [k for k in best.keys() if 'list' in k]  # helpers dropped
    # a relative from_config still names the file next to the original
    assert osp.normpath(osp.join(out.parent, best.verifier.from_config)) \
        == str(folder / 'x3d_other.py')


def tune(out, *args: str, **kwargs) -> subprocess.CompletedProcess:
    cmd = [sys.executable, TUNE, DEMO, '--space', SPACE, '--out', str(out),
           '--iters', '2', '--gifs', '1', *args]
    return subprocess.run(cmd, cwd=REPO, env=ENV, capture_output=True,
                          text=True, timeout=600, **kwargs)


def mlflow_runs(out) -> tuple:
    """(parent runs, child runs) of the search's MLflow store."""
    from mlflow import MlflowClient
    client = MlflowClient(f'sqlite:///{out}/mlflow.db')
    experiment = client.get_experiment_by_name('leaps_tuning')
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if 'mlflow.parentRunId' not in r.data.tags]
    children = [r for r in runs if 'mlflow.parentRunId' in r.data.tags]
    return client, parents, children


def load_trials(out) -> list:
    import optuna
    study = optuna.load_study(study_name='full',
                              storage=f'sqlite:///{out}/study.db')
    return study.get_trials()


@pytest.mark.slow
def test_tiny_search_logs_trials_writes_best_config_and_resumes(tmp_path):
    out = tmp_path / 'search'
    result = tune(out, '--n-trials', '2', '--stimuli', '2')
    assert result.returncode == 0, result.stdout + result.stderr
    assert '[2/2] trial 1' in result.stdout and 'best' in result.stdout

    client, parents, children = mlflow_runs(out)
    assert len(parents) == 1 and len(children) == 2
    parent = parents[0].info.run_id
    for child in children:
        assert child.data.tags['mlflow.parentRunId'] == parent
        assert {'lam', 'r', 'lr'} <= set(child.data.params)
        assert 0.0 <= child.data.metrics['objective'] <= 1.0
        assert child.info.status == 'FINISHED'
        videos = client.list_artifacts(child.info.run_id, 'videos')
        assert len(videos) == 1  # --gifs 1: one job's folder

    trials = load_trials(out)
    assert [t.state.name for t in trials] == ['COMPLETE'] * 2
    assert trials[0].user_attrs['config_values']  # the config's own values
    assert trials[0].params == dict(lam=1.0, r=0.1, lr=0.05)
    best = max(trials, key=lambda t: t.value)
    with open(out / 'best.json') as file:
        assert json.load(file)['trial'] == best.number
    best_cfg = Config.fromfile(str(out / 'best_config.py'))
    losses = best_cfg.leaps.inverter.losses
    assert losses[1].layer_weights == best.params['lam']
    assert losses[2].weight == losses[3].weight == best.params['r']
    assert best_cfg.leaps.loop.optim_wrapper.optimizer.lr == \
        best.params['lr']

    # resume: the study grows to the requested total, not by it
    result = tune(out, '--n-trials', '3', '--stimuli', '2')
    assert result.returncode == 0, result.stdout + result.stderr
    assert '2 trials done, running 1 more' in result.stdout
    assert len(load_trials(out)) == 3
    client, parents, children = mlflow_runs(out)
    assert len(parents) == 1 and len(children) == 3
    assert parents[0].info.status == 'FINISHED'
    result = tune(out, '--n-trials', '3', '--stimuli', '2')
    assert 'nothing to run' in result.stdout and len(load_trials(out)) == 3
    # other settings are refused rather than mixed into the study
    result = tune(out, '--n-trials', '4', '--stimuli', '3')
    assert result.returncode != 0 and 'stimuli' in result.stderr

    # tools/invert.py runs the best config as it is
    result = subprocess.run(
        [sys.executable, INVERT, str(out / 'best_config.py'), '--iters', '1',
         '--no-mlflow', '--work-dir', str(tmp_path / 'inv'),
         '--cfg-options', 'leaps.stimuli.indices=[0]'],
        cwd=REPO, env=ENV, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / 'inv' / '00000_move_left' / 'result.json').is_file()


def _children(pid: int) -> list:
    try:
        with open(f'/proc/{pid}/task/{pid}/children') as file:
            return [int(p) for p in file.read().split()]
    except OSError:
        return []


@pytest.mark.slow
def test_killed_search_resumes_and_reruns_the_interrupted_trial(tmp_path):
    out = tmp_path / 'search'
    args = ['--n-trials', '1', '--stimuli', '1']
    process = subprocess.Popen(
        [sys.executable, TUNE, DEMO, '--space', SPACE, '--out', str(out),
         '--iters', '2', '--gifs', '0', *args], cwd=REPO, env=ENV,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        deadline = time.time() + 120
        while not _children(process.pid) or not (
                out / 'trial_0' / '.trial.lock').is_file():
            assert process.poll() is None and time.time() < deadline
            time.sleep(0.2)
        inversion = _children(process.pid)[0]
        os.kill(process.pid, signal.SIGKILL)  # the search dies mid-trial
        process.wait()
        deadline = time.time() + 30  # its inversion goes with it
        while osp.exists(f'/proc/{inversion}') and time.time() < deadline:
            with open(f'/proc/{inversion}/stat') as file:
                if file.read().split()[2] == 'Z':
                    break  # exited, waiting to be reaped
            time.sleep(0.2)
        else:
            assert not osp.exists(f'/proc/{inversion}'), 'inversion lives on'
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert [t.state.name for t in load_trials(out)] == ['RUNNING']

    result = tune(out, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'Trial 0 was interrupted' in result.stdout
    trials = load_trials(out)
    assert [t.state.name for t in trials] == ['FAIL', 'COMPLETE']
    assert trials[0].user_attrs['interrupted']
    assert trials[1].user_attrs['retry_of'] == 0
    assert trials[1].params == trials[0].params == dict(lam=1.0, r=0.1,
                                                        lr=0.05)
    _, parents, children = mlflow_runs(out)
    assert len(parents) == 1
    assert sorted(c.info.status for c in children) == ['FINISHED', 'KILLED']
