"""MLflow tracking of tools/invert.py: parent run per sweep, child run per
video, a fast failure for a dead server, --no-mlflow, and the real UI."""
import importlib.util
import os
import os.path as osp
import re
import shutil
import sys
import time
from types import SimpleNamespace

import cv2
import pytest

import servers
from conftest import run_tool
from leaps_mm.fileio import read_video
from servers import free_port

from conftest import REPO  # noqa: E402
CONFIG = osp.join(REPO, 'registry_configs/demo/leaps_random_x3d.py')
LOSS_TERMS = ('loss_ce', 'loss_prim', 'loss_coh', 'loss_feat', 'loss', 'lr')
ARTIFACTS = ('synth.gif', 'synth.mp4', 'strip.png', 'stimulus.gif',
             'result.json')
GALLERY = ['gallery/gallery.gif', 'gallery/gallery.mp4', 'gallery/gallery.png']
SCREENSHOT = osp.join(REPO, 'docs', 'mlflow_child_run.png')
GALLERY_SCREENSHOT = osp.join(REPO, 'docs', 'mlflow_gallery.png')


def _invert_main():
    if osp.join(REPO, 'tools') not in sys.path:  # its _omp, _argtypes helpers
        sys.path.insert(0, osp.join(REPO, 'tools'))
    spec = importlib.util.spec_from_file_location(
        'invert_cli', osp.join(REPO, 'tools', 'invert.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def invert(tmp_path, *extra: str):
    """Run tools/invert.py in-process on 2 stimuli, 4 steps, a loss read-out
    every 2 (every step's losses logged); return (run_tool's result, seconds)."""
    ann = tmp_path / 'ann.txt'
    lines = open(osp.join(REPO, 'data/stimuli/stimuli.txt')).read().split(
        '\n')[:2]
    ann.write_text(''.join(osp.join(REPO, 'data/stimuli', line) + '\n'
                           for line in lines))
    start = time.perf_counter()
    result = run_tool(_invert_main(), [
        CONFIG, '--iters', '4', '--cfg-options', 'leaps.loop.log_interval=2',
        '--ann-file', str(ann), '--work-dir', str(tmp_path / 'work'), *extra])
    return result, time.perf_counter() - start


@pytest.fixture(autouse=True)
def _no_env_uri(monkeypatch):
    monkeypatch.delenv('MLFLOW_TRACKING_URI', raising=False)
    monkeypatch.chdir(REPO)  # the demo config's paths are relative


def check_runs(client, experiment: str = 'leaps'):
    """Assert the parent/child layout of a 2-job sweep; return the child
    runs."""
    exp = client.get_experiment_by_name(experiment)
    # the MLflow UI opens the runs table, not the GenAI overview
    assert exp.tags['mlflow.experimentKind'] == 'custom_model_development'
    runs = client.search_runs([exp.experiment_id])
    parents = [r for r in runs if 'mlflow.parentRunId' not in r.data.tags]
    children = [r for r in runs if 'mlflow.parentRunId' in r.data.tags]
    assert len(parents) == 1 and len(children) == 2
    parent = parents[0]
    assert parent.info.status == 'FINISHED'
    assert parent.data.tags['model'] == 'X3D'
    assert parent.data.tags['verifier'] == 'X3D'
    assert parent.data.tags['target_checkpoint'].startswith('none')
    assert parent.data.tags['seed'] == '0'
    assert parent.data.tags['leaps_mm_version']
    assert parent.data.params['leaps.loop.iters'] == '4'
    assert parent.data.params['leaps.loop.log_interval'] == '2'
    assert parent.data.metrics['inversion/top1_model'] >= 0
    assert 'inversion/top1_verifier' in parent.data.metrics
    assert [a.path for a in client.list_artifacts(parent.info.run_id,
                                                   'config')] == [
        'config/leaps_random_x3d.py']
    gallery = client.list_artifacts(parent.info.run_id, 'gallery')
    assert sorted(a.path for a in gallery) == GALLERY
    assert all(a.file_size > 1000 for a in gallery)
    for child in children:
        info, data = child.info, child.data
        assert data.tags['mlflow.parentRunId'] == parent.info.run_id
        assert info.status == 'FINISHED'
        assert data.params['target_name'] == 'move left'
        assert data.params['target_index'] == '0'
        assert data.params['stimulus'].endswith('.mp4')
        for term in LOSS_TERMS:
            history = client.get_metric_history(info.run_id, term)
            assert [m.step for m in history] == [1, 2, 3, 4], term
        for key in ('model_prob_target', 'model_pred', 'verifier_prob_target',
                    'verifier_pred'):
            assert key in data.metrics
        names = {a.path for a in client.list_artifacts(info.run_id)}
        assert set(ARTIFACTS) <= names
    return children


def test_sqlite_default_store(tmp_path):
    from mlflow import MlflowClient
    result, _ = invert(tmp_path)
    assert result.exit_code == 0, result.output
    work = tmp_path / 'work'
    # the console: the bar over the whole sweep, the gallery, the UI link
    assert re.search(r'sweep: 100%.*\| 2/2 \[', result.output)
    assert f'Sweep gallery: {work / "gallery.png"}' in result.output
    assert (f'mlflow ui --backend-store-uri sqlite:///{work}/mlflow.db`, '
            'then http://127.0.0.1:5000/#/experiments/1/runs?workflowType='
            'machine_learning') in result.output
    assert (work / 'mlflow.db').is_file()
    client = MlflowClient(f'sqlite:///{work}/mlflow.db')
    exp = client.get_experiment_by_name('leaps')
    assert exp.artifact_location == str(work / 'mlartifacts')
    children = check_runs(client)
    parent_id = children[0].data.tags['mlflow.parentRunId']
    for name in GALLERY:  # the gallery in the work dir and the store
        assert (work / osp.basename(name)).is_file()
        assert (work / 'mlartifacts' / parent_id / 'artifacts' /
                name).is_file()
    for child in children:  # stimulus.gif is local too, beside the outputs
        folder = work / child.data.tags['job_id']
        # the 64 px stimulus and x*, enlarged to a viewable size
        assert read_video(folder / 'stimulus.gif').shape[1:3] == (256, 256)
        assert read_video(folder / 'synth.gif').shape[1:3] == (256, 256)
        assert (work / 'mlartifacts' / child.info.run_id / 'artifacts' /
                'synth.gif').is_file()


def test_unreachable_server_fails_fast(tmp_path):
    uri = f'http://127.0.0.1:{free_port()}'
    result, seconds = invert(tmp_path, '--tracking-uri', uri)
    assert result.exit_code != 0
    assert seconds < 20, seconds
    assert uri in result.output and 'not reachable' in result.output
    assert '--no-mlflow' in result.output
    work = tmp_path / 'work'
    assert not list(work.glob('*/result.json'))  # no optimisation ran
    assert not (work / 'mlflow.db').exists()


def test_no_mlflow(tmp_path):
    result, _ = invert(tmp_path, '--no-mlflow')
    assert result.exit_code == 0, result.output
    work = tmp_path / 'work'
    assert len(list(work.glob('*/result.json'))) == 2
    assert not (work / 'mlflow.db').exists()
    assert not (work / 'mlartifacts').exists()


def test_failure_mid_sweep_only_warns(tmp_path):
    """A store error after the start warns, turns tracking off and keeps
    the local files (including stimulus.gif)."""
    from leaps_mm.engine.hooks import MLflowTrackingHook

    class DeadClient:
        calls = 0

        def create_run(self, *args, **kwargs):
            DeadClient.calls += 1
            raise ConnectionError('server went away')

    hook = MLflowTrackingHook(tracking_uri='http://127.0.0.1:1', fps=8)
    hook.client, hook.parent_run_id = DeadClient(), 'parent'
    stimulus = osp.join(REPO, 'data/stimuli/move_left/0.mp4')
    runner = SimpleNamespace(work_dir=str(tmp_path))
    records = [dict(job_id=f'0000{i}_move_left', stimulus=stimulus)
               for i in range(2)]
    hook.after_test_iter(runner, 0, outputs=records)
    assert hook.client is None and DeadClient.calls == 1
    assert (tmp_path / '00001_move_left' / 'stimulus.gif').is_file()
    hook.after_test_epoch(runner, metrics={'inversion/top1_model': 1.0})
    hook.after_run(runner)  # no error with tracking off


@pytest.fixture
def mlflow_server(tmp_path):
    """A real `mlflow server` on a free port; yields its URI."""
    with servers.mlflow_server(f'sqlite:///{tmp_path}/server.db',
                               str(tmp_path)) as uri:
        yield uri


def test_every_step_of_a_long_job_is_logged(tmp_path, mlflow_server):
    """200 steps x 7 curves (1400 metrics) and the params reach a real
    server, whose API takes at most 1000 entities a call."""
    from mlflow import MlflowClient

    from leaps_mm.engine.hooks import MLflowTrackingHook
    client = MlflowClient(mlflow_server)
    hook = MLflowTrackingHook()
    hook.client = client
    hook.experiment_id = client.create_experiment('leaps')
    hook.parent_run_id = client.create_run(hook.experiment_id).info.run_id
    history = [dict({term: 1.0 / step for term in LOSS_TERMS}, step=step)
               for step in range(1, 201)]
    record = dict(job_id='00000_move_left', target_name='move left',
                  target_index=0, stimulus='s.mp4', seed=0, iterations=200,
                  history=history, model_pred=0, model_prob_target=0.9,
                  model_pred_name='move left')
    (tmp_path / record['job_id']).mkdir()
    hook._log_job(client, record, str(tmp_path / record['job_id']))
    run = client.search_runs([hook.experiment_id],
                             "tags.job_id = '00000_move_left'")[0]
    for term in LOSS_TERMS:
        steps = [m.step for m in client.get_metric_history(run.info.run_id,
                                                           term)]
        assert sorted(steps) == list(range(1, 201)), term
    assert run.data.params['target_name'] == 'move left'
    assert run.data.metrics['model_correct'] == 1.0


def _browser_or_skip():
    if not osp.isfile('/usr/bin/chromium'):
        pytest.skip('needs /usr/bin/chromium (apt-get install -y chromium)')
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip('needs playwright (pip install playwright)')
    return sync_playwright


def _new_page(context, url: str, ready, timeout: float = 120_000):
    """A new page at ``url`` (a hash-only goto does not re-render), once
    ``ready(page)`` has waited for what it shows; the assistant panel is
    closed (cosmetic, for the screenshots)."""
    page = context.new_page()
    page.goto(url)
    ready(page, timeout)
    try:
        page.get_by_role('button', name='Close').first.click(timeout=3_000)
    except Exception:
        pass
    return page


@pytest.mark.slow
def test_server_and_ui(tmp_path, mlflow_server):
    """The pages a user opens, in a real browser: the experiment link that
    invert.py prints opens the runs table (not the GenAI overview), a child
    run shows its params and every loss curve, its artifacts preview, and
    the parent run shows the sweep gallery."""
    sync_playwright = _browser_or_skip()
    from mlflow import MlflowClient

    from leaps_mm.tracking import ui_url
    result, _ = invert(tmp_path, '--tracking-uri', mlflow_server,
                       '--experiment', 'leaps_ui')
    assert result.exit_code == 0, result.output
    client = MlflowClient(mlflow_server)
    child = check_runs(client, 'leaps_ui')[0]
    experiment = child.info.experiment_id
    parent = client.get_run(child.data.tags['mlflow.parentRunId'])
    experiment_url = ui_url(mlflow_server, experiment)
    assert experiment_url in result.output  # the link the sweep prints
    parent_url = ui_url(mlflow_server, experiment, parent.info.run_id)
    assert parent_url in result.output
    shots = {name: tmp_path / f'{name}.png'
             for name in ('runs', 'child', 'gallery')}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path='/usr/bin/chromium',
            args=['--no-sandbox', '--disable-gpu',
                  '--disable-background-networking',
                  '--disable-component-update', '--disable-sync'])
        context = browser.new_context(viewport={'width': 1280,
                                                'height': 720})
        # the experiment: the runs table with the sweep's parent run
        page = _new_page(context, experiment_url, lambda page, timeout: (
            page.get_by_text(parent.info.run_name).first.wait_for(
                timeout=timeout)))
        page.get_by_text('matching runs').first.wait_for(timeout=10_000)
        text = page.inner_text('body')
        assert 'Runs' in text and 'Group by' in text  # the runs table
        for genai in ('Observability', 'Prompts & versions', 'Tool calls'):
            assert genai not in text, genai
        assert '/overview' not in page.url
        page.screenshot(path=str(shots['runs']))
        page.close()

        # a child run: params and every loss term
        page = _new_page(context, ui_url(mlflow_server, experiment,
                                         child.info.run_id),
                         lambda page, timeout: page.get_by_text(
                             'loss_prim').first.wait_for(timeout=timeout))
        text = page.inner_text('body')
        for name in LOSS_TERMS + ('target_name', 'move left'):
            assert name in text, name
        page.close()
        page = _new_page(
            context, ui_url(mlflow_server, experiment, child.info.run_id,
                            'synth.gif'),
            lambda page, timeout: page.get_by_text('KB').first.wait_for(
                timeout=timeout))  # the preview
        page.wait_for_timeout(1_000)
        text = page.inner_text('body')
        for name in ARTIFACTS:
            assert name in text, name
        page.screenshot(path=str(shots['child']))
        page.close()

        # the parent run: the gallery contact sheet, shown as an image
        sheet = client.download_artifacts(parent.info.run_id,
                                          'gallery/gallery.png', str(tmp_path))
        height, width = cv2.imread(sheet).shape[:2]
        shown = ("Array.from(document.images).some(i => i.alt === "
                 "'gallery/gallery.png' && i.naturalWidth === %d && "
                 "i.naturalHeight === %d)" % (width, height))
        page = _new_page(
            context, ui_url(mlflow_server, experiment, parent.info.run_id,
                            'gallery/gallery.png'),
            lambda page, timeout: page.wait_for_function(shown,
                                                         timeout=timeout))
        text = page.inner_text('body')
        for name in GALLERY:
            assert osp.basename(name) in text, name
        page.screenshot(path=str(shots['gallery']))
        browser.close()
    for shot in shots.values():
        assert 10_000 < shot.stat().st_size < 600_000, shot
    if os.environ.get('LEAPS_UPDATE_DOCS'):  # refresh the README's pictures
        shutil.copyfile(shots['child'], SCREENSHOT)
        shutil.copyfile(shots['gallery'], GALLERY_SCREENSHOT)


def test_the_hook_gets_the_sweep_from_the_runner_config(monkeypatch):
    """build_runner_config hands the hook what it logs (identity, seed, fps,
    resume) and the loop the same identity; the runner config holds no
    other copy of it."""
    from mmengine.config import Config

    from leaps_mm.apis import build_runner_config
    cfg = Config.fromfile(CONFIG)
    cfg.leaps.loop.resume = True  # what tools/invert.py --resume sets
    cfg.leaps.loop.fps = 12
    runner_cfg = build_runner_config(cfg)
    hook, = [h for h in runner_cfg.custom_hooks
             if h['type'] == 'MLflowTrackingHook']
    assert hook['identity'] == runner_cfg.test_cfg.identity
    assert hook['identity']['config'] == osp.abspath(CONFIG)
    assert (hook['seed'], hook['fps'], hook['resume']) == (
        cfg.leaps.seed, 12, True)
    assert 'leaps_identity' not in runner_cfg
    cfg.leaps.tracking.enabled = False
    assert not [h for h in build_runner_config(cfg).custom_hooks
                if h['type'] == 'MLflowTrackingHook']
