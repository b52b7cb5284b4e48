"""tools/tables.py: grid files, the paper's table layouts, and a real tiny
grid on the trained demo models (run, resume, a failing row, MLflow)."""
import json
import os.path as osp
import sys

import pytest

from conftest import REPO, run_tool
from leaps_mm.evaluation.tables import (GridError, format_cell, load_grid,
                                        option_args, render_markdown)

sys.path.insert(0, osp.join(REPO, 'tools'))
import tables  # noqa: E402

CONFIGS = osp.join(REPO, 'registry_configs')
DEEPDREAM = osp.join(CONFIGS, 'baselines', 'deepdream_3d.py')
FULL = osp.join(CONFIGS, 'ablations', 'full.py')


def write_grid(tmp_path, text: str, name: str = 'grid.py') -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


# --- grid files -------------------------------------------------------------
def test_shipped_grids_load(monkeypatch):
    monkeypatch.chdir(REPO)  # row configs are relative to the current dir
    table1 = load_grid('registry_configs/tables/table1_demo.py')
    assert [r.name for r in table1.rows] == [
        '3D DeepDream', '3D AM', 'LEAPS (L_prim)', 'LEAPS (L_prim + R_feat)',
        'LEAPS (logit + L_prim + R_coh + TV, l2, still: the main job)',
        'LEAPS (full)']
    assert table1.layout == 'table1' and table1.iters == 200
    assert table1.rows[3].slug == 'leaps_l_prim_r_feat'
    table2 = load_grid('registry_configs/tables/table2_demo.py')
    assert table2.layout == 'table2'
    assert [r.name for r in table2.rows] == ['l2', 'l1', 'cos', 'JVS']
    # measured before the target's adversarial training: pinned to it
    for row in table2.rows:
        assert row.cfg_options['leaps.inverter.target_checkpoint'] == \
            'checkpoints/demo/r3d_noise.pth'


def test_grid_options_merge_and_become_cli_arguments(tmp_path):
    grid = load_grid(write_grid(tmp_path, f"""
cfg_options = dict(leaps=dict(batch_size=2), **{{'leaps.seed': 3}})
rows = [dict(name='a', config={DEEPDREAM!r},
             cfg_options={{'leaps.seed': 4,
                          'leaps.inverter.input_size': (4, 32, 32),
                          'leaps.tracking.experiment': 'x',
                          'leaps.classes': None, 'leaps.flag': True}})]
"""))
    row = grid.rows[0]
    assert row.cfg_options == {
        'leaps.batch_size': 2, 'leaps.seed': 4,
        'leaps.inverter.input_size': (4, 32, 32),
        'leaps.tracking.experiment': 'x', 'leaps.classes': None,
        'leaps.flag': True}
    assert option_args(row.cfg_options) == [
        '--cfg-options', 'leaps.batch_size=2', '--cfg-options',
        'leaps.seed=4', '--cfg-options', 'leaps.inverter.input_size=(4,32,32)',
        '--cfg-options', 'leaps.tracking.experiment=x', '--cfg-options',
        'leaps.classes=None', '--cfg-options', 'leaps.flag=true']
    assert grid.title == 'grid.py' and grid.layout == 'table1'
    assert grid.iters is None and grid.columns is None


@pytest.mark.parametrize('text, message', [
    ('title = "x"', 'needs `rows`'),
    ('rows = []', 'needs `rows`'),
    ('rows = [1]', 'rows[0] must be dict(name=..., config=...)'),
    ("rows = [dict(name='a')]", "row 'a': needs `config`"),
    ("rows = [dict(config='{d}')]", 'rows[0]: needs `name`'),
    ("rows = [dict(name='a', config='nope.py')]",
     "row 'a': config 'nope.py' does not exist"),
    ("rows = [dict(name='a', config='{d}', cfg_option={{}})]",
     "row 'a': unknown key(s) ['cfg_option']"),
    ("rows = [dict(name='a', config='{d}')]\nlayuot = 'table2'",
     "unknown key(s) ['layuot']"),
    ("rows = [dict(name='a', config='{d}')]\nlayout = 'table3'",
     "layout 'table3' is not one of ['generic', 'table1', 'table2', 'transfer']"),
    ("rows = [dict(name='a', config='{d}')]\niters = 0",
     'iters must be a positive integer, not 0'),
    ("rows = [dict(name='a', config='{d}')]\ncolumns = 'top1_model'",
     'columns must be a non-empty list of metric names'),
    ("rows = [dict(name='A b', config='{d}'), dict(name='a-b', config='{d}')]",
     "rows 'A b' and 'a-b' have the same slug 'a_b'"),
    ("rows = [dict(name='a', config='{d}'), dict(name='a', config='{d}')]",
     "rows 'a' and 'a' have the same name"),
    ("rows = [dict(name='a', config='{d}', cfg_options={{'leaps.inverter."
     "losses': [dict(type='X')]}})]",
     "row 'a': cfg_options leaps.inverter.losses=[{'type': 'X'}] cannot be "
     'passed as --cfg-options'),
    ("rows = [dict(name='a', config='{d}')]\ncfg_options = {{'k': 'x,y'}}",
     "cfg_options k='x,y' cannot be passed"),
    ('rows = [', 'Could not read grid'),
])
def test_bad_grids_name_what_is_wrong(tmp_path, text, message):
    path = write_grid(tmp_path, text.format(d=DEEPDREAM))
    with pytest.raises(GridError) as error:
        load_grid(path)
    assert message in str(error.value)
    assert str(path) in str(error.value)


def test_cli_reports_grid_errors_without_traceback(tmp_path):
    result = run_tool(tables.main, [str(tmp_path / 'missing.py')])
    assert result.exit_code == 1
    assert f"Grid file '{tmp_path / 'missing.py'}' does not exist." in \
        result.output
    grid = write_grid(tmp_path, f"rows = [dict(name='a', config={FULL!r})]")
    result = run_tool(tables.main, [grid, '--rows', 'b',
                                    '--out', str(tmp_path / 'o')])
    assert result.exit_code == 2
    assert "--rows ['b']: no such row" in result.output
    assert "rows are ['a']" in result.output
    grid = write_grid(tmp_path, f"rows = [dict(name='a', config={FULL!r}, "
                      "cfg_options={'lepas.seed': 1})]", 'typo.py')
    result = run_tool(tables.main, [grid, '--out',
                                    str(tmp_path / 'o')])
    assert result.exit_code == 1
    assert "Row 'a': --cfg-options lepas.seed: the config has no key " \
        "'lepas'" in result.output
    assert 'Traceback' not in result.output
    assert not (tmp_path / 'o' / 'table.md').exists()
    # an argument the parameterisation does not take fails before any row
    grid = write_grid(tmp_path, f"rows = [dict(name='a', config={FULL!r}, "
                      "cfg_options={'leaps.inverter.parameterization.type': "
                      "'PixelVideo'})]", 'pixel.py')
    result = run_tool(tables.main, [grid, '--out',
                                    str(tmp_path / 'o')])
    assert result.exit_code == 1
    assert "Row 'a': leaps.inverter.parameterization" in result.output
    assert "'time_weight'" in result.output
    assert 'Traceback' not in result.output
    assert not (tmp_path / 'o' / 'a').exists()


@pytest.mark.parametrize('grid', ['table1_demo', 'table2_demo',
                                  'parameterizations_demo'])
def test_shipped_grid_rows_build(monkeypatch, grid):
    """Every row's parameterisation, transforms and losses build from its
    merged config (a row's options once merged PixelVideo into the main
    job's FourierVideo settings and failed only when it ran)."""
    monkeypatch.chdir(REPO)
    loaded = load_grid(f'registry_configs/tables/{grid}.py')
    splits = tables.check_rows(loaded.rows, loaded)
    assert set(splits) == {row.name for row in loaded.rows}


# --- markdown layouts -------------------------------------------------------
def metrics(top1_m, top1_v, is_m, is_v, judge=None) -> dict:
    values = dict(top1_model=top1_m, top1_verifier=top1_v, is_model=is_m,
                  is_model_std=0.25, is_verifier=is_v, is_verifier_std=0.125,
                  num_videos=16)
    if judge is not None:
        values['top1_judge'] = judge
    return values


ROWS = [
    dict(name='3D DeepDream', status='done', metrics=metrics(50, 12.5, 1.5, 1.25)),
    dict(name='LEAPS (full)', status='done',
         metrics=metrics(100, 18.75, 4.0, 1.0)),
    dict(name='3D AM', status='failed', metrics=None),
    dict(name='x | y', status='not run', metrics=None),
]


def test_table1_layout():
    text = render_markdown('Table 1', 'table1', ROWS, notes=['Note.'])
    assert text == (
        '## Table 1\n\n'
        '| Method | top-1 model | top-1 verifier | IS model | IS verifier |\n'
        '| --- | ---: | ---: | ---: | ---: |\n'
        '| 3D DeepDream | 50.0 | 12.5 | 1.50 ± 0.25 | **1.25 ± 0.12** |\n'
        '| LEAPS (full) | **100.0** | **18.8** | **4.00 ± 0.25** | '
        '1.00 ± 0.12 |\n'
        '| 3D AM | failed | failed | failed | failed |\n'
        '| x \\| y | not run | not run | not run | not run |\n'
        '\nNote.\n')


def test_table1_has_a_judge_column_when_a_row_has_a_judge():
    rows = [dict(name='a', status='done', metrics=metrics(1, 2, 3, 4, 5)),
            dict(name='b', status='done', metrics=metrics(1, 2, 3, 4))]
    lines = render_markdown('T', 'table1', rows).splitlines()
    assert lines[2] == ('| Method | top-1 model | top-1 verifier | '
                        'top-1 judge | IS model | IS verifier |')
    assert lines[4] == '| a | 1.0 | 2.0 | 5.0 | 3.00 ± 0.25 | 4.00 ± 0.12 |'
    assert lines[5] == '| b | 1.0 | 2.0 | – | 3.00 ± 0.25 | 4.00 ± 0.12 |'


def test_table2_layout_has_a_column_per_row():
    rows = [dict(name=n, status='done', metrics=dict(top1_model=m,
                                                       top1_verifier=v))
            for n, m, v in (('l2', 87.5, 25.0), ('cos', 62.5, 25.0),
                            ('JVS', 93.75, 12.5))]
    assert render_markdown('Table 2', 'table2', rows) == (
        '## Table 2\n\n'
        '| Metric | l2 | cos | JVS |\n'
        '| --- | ---: | ---: | ---: |\n'
        '| top-1 (m) | 87.5 | 62.5 | **93.8** |\n'
        '| top-1 (v) | **25.0** | **25.0** | 12.5 |\n')


def test_generic_layout_with_chosen_columns():
    rows = [dict(name='a', status='done', metrics=dict(
        ssim_consecutive=0.51234, num_videos=16, psnr_consecutive=None))]
    assert render_markdown('G', 'generic', rows, columns=[
        'ssim_consecutive', 'psnr_consecutive', 'num_videos', 'other']) == (
        '## G\n\n| Method | SSIM | PSNR (dB) | videos | other |\n'
        '| --- | ---: | ---: | ---: | ---: |\n'
        '| a | 0.512 | – | 16 | – |\n')


# --- a real grid --------------------------------------------------------------
def tiny_grid(tmp_path, two_job_list) -> str:
    """DeepDream and full LEAPS on the trained demo models, 2 stimuli at
    8x32^2, plus a row whose job list does not exist."""
    return write_grid(tmp_path, f"""
title = 'Tiny'
cfg_options = {{'leaps.stimuli.ann_file': {two_job_list!r},
               'leaps.batch_size': 2, 'leaps.inverter.input_size': (8, 32, 32)}}
rows = [dict(name='3D DeepDream', config={DEEPDREAM!r}),
        dict(name='LEAPS (full)', config={FULL!r}),
        dict(name='Broken', config={FULL!r},
             cfg_options={{'leaps.stimuli.ann_file': 'no_such_list.txt'}})]
""", 'tiny.py')


@pytest.mark.slow
def test_grid_runs_evaluates_resumes_and_logs_to_mlflow(
        tmp_path, two_job_list, monkeypatch):
    from mlflow import MlflowClient
    monkeypatch.chdir(REPO)
    out = tmp_path / 'out'
    args = [tiny_grid(tmp_path, two_job_list), '--iters', '2', '--out',
            str(out)]
    result = run_tool(tables.main, args)
    assert result.exit_code == 1, result.output  # the broken row
    assert "1 row(s) failed: ['Broken']" in result.output
    assert "Row 'Broken' FAILED: tools/invert.py exited with 1" in \
        result.output
    assert str(out / 'broken' / 'tables.log') in result.output
    assert '[2/3] LEAPS (full)' in result.output and 'ETA' in result.output
    assert 'it/s' in result.output  # the rows' progress bars
    assert "Annotation file 'no_such_list.txt' does not exist." in \
        result.output

    table = json.loads((out / 'table.json').read_text())
    markdown = (out / 'table.md').read_text()
    assert [r['status'] for r in table['rows']] == ['done', 'done', 'failed']
    for row in table['rows'][:2]:
        saved = json.loads((out / row['slug'] / 'metrics.json').read_text())
        assert row['metrics'] == saved and saved['num_videos'] == 2
        cells = [format_cell(saved, k)
                 for k in ('top1_model', 'top1_verifier', 'top1_judge',
                           'is_model', 'is_verifier')]
        line = next(l for l in markdown.splitlines()
                    if l.startswith(f'| {row["name"]} |'))
        assert [c.strip(' *') for c in line.split('|')[2:-1]] == cells
    assert '| Broken | failed |' in markdown
    assert 'top-1 judge' in markdown
    assert '2 iterations per video, 2 videos per row' in markdown

    # MLflow: the table run with its files, a child run per row
    client = MlflowClient(f'sqlite:///{out}/mlflow.db')
    experiment = client.get_experiment_by_name('leaps-tables')
    runs = client.search_runs([experiment.experiment_id],
                              "tags.table = 'tiny'")
    assert len(runs) == 1
    parent = runs[0]
    artifacts = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {'table.md', 'table.json', 'tiny.py'} <= artifacts
    assert parent.data.tags['mlflow.note.content'] == markdown
    children = client.search_runs(
        [experiment.experiment_id],
        f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    by_name = {c.info.run_name: c for c in children}
    assert set(by_name) == {'3D DeepDream', 'LEAPS (full)', 'Broken'}
    full = by_name['LEAPS (full)']
    assert full.data.metrics['top1_model'] == table['rows'][1]['metrics'][
        'top1_model']
    assert full.info.status == 'FINISHED'
    assert by_name['Broken'].info.status == 'FAILED'
    assert 'inversion_run_id' in full.data.tags  # the row's own sweep run

    # resume: finished rows are not run again, the broken one is retried
    done = out / 'leaps_full' / 'metrics.json'
    job = next((out / 'leaps_full').glob('*/result.json'))
    stamps = (done.stat().st_mtime_ns, job.stat().st_mtime_ns)
    result = run_tool(tables.main, args)
    assert '3 rows, 1 to run' in result.output
    assert '[1/1] Broken' in result.output
    assert (done.stat().st_mtime_ns, job.stat().st_mtime_ns) == stamps
    assert json.loads((out / 'table.json').read_text())['rows'][1][
        'metrics'] == table['rows'][1]['metrics']


@pytest.mark.slow
def test_rescore_scores_finished_videos_with_the_current_weights(
        tmp_path, two_job_list, monkeypatch):
    """A row records its judge's checkpoint path, not its weights: after the
    file is retrained a plain rerun keeps the old scores, --rescore scores
    the same videos with the new weights without inverting again."""
    import shutil
    monkeypatch.chdir(REPO)
    judge = tmp_path / 'judge.pth'
    shutil.copy(osp.join(REPO, 'checkpoints', 'demo', 'r3d.pth'), judge)
    grid = write_grid(tmp_path, f"""
cfg_options = {{'leaps.stimuli.ann_file': {two_job_list!r},
               'leaps.batch_size': 2, 'leaps.inverter.input_size': (8, 32, 32),
               'judge.from_config': {osp.join(CONFIGS, 'demo', 'train_r3d.py')!r},
               'judge.name': 'r3d', 'leaps.inverter.judge_checkpoint':
               {str(judge)!r}}}
rows = [dict(name='3D DeepDream', config={DEEPDREAM!r})]
""", 'rescore.py')
    out = tmp_path / 'out'
    args = [grid, '--iters', '2', '--out', str(out)]
    assert run_tool(tables.main, args).exit_code == 0
    metrics_path = out / '3d_deepdream' / 'metrics.json'
    job = next((out / '3d_deepdream').glob('*/synth.npy'))
    before = json.loads(metrics_path.read_text())
    stamp = job.stat().st_mtime_ns

    shutil.copy(osp.join(REPO, 'checkpoints', 'demo', 'r3d_noise.pth'), judge)
    assert '1 rows, 0 to run' in run_tool(tables.main, args).output
    assert json.loads(metrics_path.read_text()) == before

    result = run_tool(tables.main, args + ['--rescore'])
    assert result.exit_code == 0, result.output
    assert 're-scoring its finished videos (--rescore)' in result.output
    after = json.loads(metrics_path.read_text())
    assert job.stat().st_mtime_ns == stamp  # not inverted again
    assert after['prob_target_judge'] != before['prob_target_judge']
    # the same videos, re-read from synth.npy (x* in 8 bits) by the same
    # target and verifier
    for key in ('top1_model', 'top1_verifier'):
        assert after[key] == before[key]
    for key in ('prob_target_model', 'prob_target_verifier'):
        assert after[key] == pytest.approx(before[key], rel=1e-2)

    result = run_tool(tables.main, args + ['--rescore', '--force'])
    assert result.exit_code == 2
    assert '--force and --rescore exclude each other' in result.output


def test_a_change_in_an_inherited_file_makes_a_row_stale(tmp_path):
    """The settings a row's results come from include its config as
    resolved: editing a ``_base_`` file (not the row's own) re-runs it."""
    base = tmp_path / 'base.py'
    base.write_text("leaps = dict(loop=dict(iters=3, fps=8))\n")
    child = write_grid(tmp_path, "_base_ = ['./base.py']\n", 'child.py')
    row = load_grid(write_grid(tmp_path, f"""
layout = 'table1'
rows = [dict(name='A', config={child!r},
             cfg_options={{'leaps.seed': 1}})]
""")).rows[0]
    work_dir = tmp_path / 'a'
    work_dir.mkdir()
    spec = tables.row_spec(row, None)
    assert spec['recipe_digest'] is not None
    (work_dir / tables.ROW_FILE).write_text(json.dumps(spec))
    (work_dir / 'metrics.json').write_text('{"top1_model": 1.0}')
    assert tables.row_state(str(work_dir), tables.row_spec(row, None))[0] \
        == 'done'
    base.write_text("leaps = dict(loop=dict(iters=3, fps=4))\n")
    tables.recipe_digest.cache_clear()
    assert tables.row_state(str(work_dir), tables.row_spec(row, None))[0] \
        == 'stale'
    # the row's own cfg-options count as before
    base.write_text("leaps = dict(loop=dict(iters=3, fps=8))\n")
    tables.recipe_digest.cache_clear()
    assert tables.row_state(str(work_dir), tables.row_spec(row, None))[0] \
        == 'done'
