"""The Python API (leaps_mm.apis.init_inverter / invert) on the demo models
and the shipped stimuli: the README's example, the same x* as the loop, and
the errors a notebook user gets."""
import json
import os
import os.path as osp
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

from conftest import REPO
from leaps_mm.apis import init_inverter, invert
from leaps_mm.structures import JobRecord

MAIN_JOB = osp.join(REPO, 'registry_configs', 'demo', 'leaps_r3d.py')
LEFT = osp.join(REPO, 'data', 'stimuli', 'move_left', '0.mp4')


@pytest.fixture(scope='module')
def main_job():
    cwd = os.getcwd()
    os.chdir(REPO)  # the demo config's paths are relative to the repo
    try:
        yield init_inverter(MAIN_JOB)
    finally:
        os.chdir(cwd)


def readme_example() -> str:
    with open(osp.join(REPO, 'README.md')) as file:
        text = file.read()
    block = re.search(r'<!-- api-example[^>]*-->\n```python\n(.*?)```', text,
                      re.S)
    assert block, 'README.md lost its API example block'
    return block.group(1)


def test_readme_api_example_runs(tmp_path, monkeypatch):
    code = readme_example()
    assert 'init_recognizer' in code and "init_inverter('registry" in code
    code = code.replace("'work_dirs/notebook'", repr(str(tmp_path / 'nb')))
    monkeypatch.chdir(REPO)
    scope: dict = {}
    exec(compile(code, 'README.md', 'exec'), scope)
    result = scope['result']
    assert result.videos.shape == (1, 16, 64, 64, 3)
    assert result.videos.dtype == np.uint8
    assert result.tensor.shape == (1, 3, 16, 64, 64)
    record = result.records[0]
    assert isinstance(record, JobRecord) and record.target_name == 'move up'
    assert len(record.history) == 20 and record.iterations == 20
    # the built-model inverter has only the target as scorer
    assert set(record.scorers()) == {'model'}
    # files only where asked: the job folder with its result.json
    folder = tmp_path / 'nb' / record.job_id
    saved = json.loads((folder / 'result.json').read_text())
    assert saved['model_pred'] == record.preds['model']
    assert np.array_equal(np.load(folder / 'synth.npy'), result.videos[0])
    assert set(scope['inverter'].model.scorers) == {'model'}
    # the config-path inverter scored with its verifier and judge too
    assert {'verifier', 'judge_mvit'} <= set(scope['record'].preds)


def test_invert_raises_the_target_probability(main_job):
    short = invert(main_job, [LEFT], ['move left'], iters=1, progress=False)
    long = invert(main_job, [LEFT], ['move left'], iters=25, progress=False)
    record = long.records[0]
    assert record.prob_targets['model'] > short.records[0].prob_targets['model']
    assert record.correct('model')
    assert record.history[-1]['loss'] < record.history[0]['loss']
    # every scorer of the config, with its motion probes, in the record
    assert {'model', 'verifier', 'judge_mvit', 'model_reversed'} <= set(
        record.preds)


def test_callback_sees_the_losses_and_stops_the_run(main_job):
    seen = []

    def callback(steps, window):
        seen.append(steps[-1])
        assert window['loss'].shape == (len(steps), 2)
        return steps[-1] < 20  # stop at the first read-out from step 20

    result = invert(main_job, [LEFT, LEFT], [0, 0], iters=100, seed=3,
                    callback=callback, progress=False)
    assert seen == [20]  # log_interval 20: read-outs at 20, 40, ...
    assert [len(r.history) for r in result.records] == [20, 20]
    assert [r.seed for r in result.records] == [3, 4]


def test_api_and_loop_make_the_same_video(main_job, tmp_path):
    """One step: tools/invert.py's loop and invert() give the same x* for
    the same job (seed, stimulus, iterations)."""
    jobs = tmp_path / 'one.txt'
    jobs.write_text(f'{LEFT} 0\n')
    work = tmp_path / 'loop'
    subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'invert.py'), MAIN_JOB,
         '--work-dir', str(work), '--cfg-options', 'leaps.loop.iters=4',
         f'leaps.stimuli.ann_file={jobs}', 'leaps.stimuli.data_prefix.video=',
         'leaps.batch_size=1', 'leaps.tracking.enabled=False',
         'leaps.loop.gallery=False'],
        cwd=REPO, check=True, capture_output=True)
    loop = np.load(work / '00000_move_left' / 'synth.npy')
    api = invert(main_job, [LEFT], [0], iters=4, seed=0, progress=False)
    diff = np.abs(loop.astype(int) - api.videos[0].astype(int))
    assert diff.max() <= 1  # equal up to float rounding of a grey level
    saved = json.loads((work / '00000_move_left' / 'result.json').read_text())
    assert saved['model_pred'] == api.records[0].preds['model']


def test_stimuli_as_arrays(main_job):
    frames = np.full((1, 16, 64, 64, 3), 128, np.uint8)  # uint8 N,T,H,W,3
    result = invert(main_job, frames, 'move up', iters=2, progress=False)
    assert result.records[0].target == 2 and result.records[0].stimulus is None


@pytest.mark.parametrize('call, message', [
    (lambda inv: invert(inv, [LEFT], ['move sideways'], iters=1),
     'move sideways'),
    (lambda inv: invert(inv, [LEFT, LEFT], [0], iters=1),
     '2 stimulus files for 1 targets'),
    (lambda inv: invert(inv, np.zeros((16, 64, 64, 3), np.uint8), [0]),
     'got shape (16, 64, 64, 3)'),
    (lambda inv: invert(inv, [LEFT], [0], iters=0), 'iters must be >= 1'),
    (lambda inv: invert(inv, ['no/such.mp4'], [0], iters=1),
     "'no/such.mp4' does not exist"),
])
def test_bad_invert_input_is_named(main_job, call, message):
    with pytest.raises((ValueError, FileNotFoundError, KeyError)) as error:
        call(main_job)
    assert message in str(error.value)


def test_bad_init_input_is_named(tmp_path):
    with pytest.raises(Exception, match='did you mean `input_size`'):
        init_inverter(MAIN_JOB, imput_size=(8, 64, 64))
    with pytest.raises(FileNotFoundError, match='nope.py'):
        init_inverter('nope.py')
    with pytest.raises(TypeError, match='config path, an mmengine Config'):
        init_inverter(42)
    bare = tmp_path / 'bare.py'
    bare.write_text("model = dict(type='Recognizer3D')\n")
    with pytest.raises(KeyError, match='no `leaps` section'):
        init_inverter(str(bare))


def test_verifier_and_judge_can_be_dropped_or_given(main_job, monkeypatch):
    monkeypatch.chdir(REPO)
    lean = init_inverter(MAIN_JOB, verifier=None, judge=None)
    assert set(lean.model.scorers) == {'model'}
    # a built module as the judge, scored in the target's class order
    judged = init_inverter(MAIN_JOB, judge=main_job.model.verifier,
                           verifier=None)
    assert set(judged.model.scorers) == {'model', 'judge_judge0'}
    out = invert(judged, [LEFT], [0], iters=1, progress=False)
    assert out.videos.shape[0] == 1
