"""Run a grid of inversion configs, evaluate each and write the paper's table.

    python tools/tables.py registry_configs/tables/table1_demo.py

Every row of GRID (see ``leaps_mm.evaluation.tables``) is a
``tools/invert.py`` run in its own process, work dir ``<out>/<row slug>``
(its output is shown and kept in ``<out>/<row slug>/tables.log``), then
evaluated with ``tools/evaluate.py``'s functions into its ``metrics.json``.
Writes ``<out>/table.md`` and ``<out>/table.json`` and logs the table to
MLflow: a parent run with both files as artifacts (and the markdown as the
run's description), and one child run per row with its metrics. The rows'
own runs (a parent per row, a child per video) go to the same store.

Resumable: a row whose work dir holds ``metrics.json`` from the same settings
(its config as resolved, inherited files included) is not run again
(``--force`` runs it from scratch); a row that stopped halfway resumes
with ``invert.py --resume``; a row whose settings changed starts over.
``--rescore`` scores finished rows' videos again with the networks their
configs name now (a row's settings record checkpoint paths,
not their contents). A failing row is reported with its log and marked
``failed``; the others still run, and the exit status is 1.
"""
import argparse
import functools
import hashlib
import json
import math
import os
import os.path as osp
import shutil
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence, Tuple

TOOLS = osp.dirname(osp.abspath(__file__))
sys.path.insert(0, osp.dirname(TOOLS))
sys.path.insert(0, TOOLS)
import _omp  # noqa: E402,F401  (OpenMP wait policy, before torch)
from _argtypes import int_range  # noqa: E402

from evaluate import evaluate, log_to_mlflow, to_json_value  # noqa: E402

from leaps_mm.apis.cli_config import ConfigError  # noqa: E402
from leaps_mm.evaluation.tables import (Grid, GridError, Row,  # noqa: E402
                                        load_grid, option_args,
                                        render_markdown)
from leaps_mm.evaluation.transfer import transfer_summary  # noqa: E402
from leaps_mm.fileio.atomic import atomic_path, write_json  # noqa: E402

ROW_FILE = 'row.json'  # the settings a row's results come from
LOG_FILE = 'tables.log'


def duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return (f'{hours}h{rest // 60:02d}m' if hours else
            f'{rest // 60}m{rest % 60:02d}s')


@functools.lru_cache(maxsize=None)
def recipe_digest(config: str, options: str) -> Optional[str]:
    """SHA-256 of the row's config as invert.py resolves it (``_base_``
    files and cfg-options merged, ``work_dir`` left out): a change in an
    inherited file makes the row stale, not only one in its own settings.
    None when the config does not load (check_rows reports why)."""
    from leaps_mm.apis.cli_config import load_config
    try:
        cfg = load_config(config, json.loads(options)).to_dict()
    except Exception:  # reported with the row's name by check_rows
        return None
    cfg.pop('work_dir', None)
    text = json.dumps(cfg, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def row_spec(row: Row, iters: Optional[int]) -> dict:
    return dict(name=row.name, config=row.config, cfg_options=row.cfg_options,
                iters=iters, recipe_digest=recipe_digest(
                    row.config, json.dumps(dict(row.cfg_options),
                                           sort_keys=True)))


def read_json(path: str) -> Optional[dict]:
    try:
        with open(path) as file:
            return json.load(file)
    except (OSError, ValueError):
        return None


def row_state(work_dir: str, spec: dict) -> Tuple[str, Optional[dict]]:
    """``('done', metrics)`` when ``metrics.json`` comes from ``spec``;
    ``('partial' | 'stale' | 'new', None)`` otherwise."""
    saved = read_json(osp.join(work_dir, ROW_FILE))
    if saved is None:
        return ('new' if not osp.isdir(work_dir) else 'partial'), None
    if {k: saved.get(k) for k in spec} != json.loads(json.dumps(spec)):
        return 'stale', None
    metrics = read_json(osp.join(work_dir, 'metrics.json'))
    return ('done', metrics) if metrics is not None else ('partial', None)


def build_objective(cfg) -> None:
    """Build what a row's ``leaps.inverter`` makes of x* without its
    networks (parameterisation, transforms, loss terms), so that an argument
    a component does not take fails here; raises the component's error."""
    from mmengine.registry import DefaultScope

    from leaps_mm.registry import MODELS
    inverter = cfg.get('leaps', {}).get('inverter', {})
    parts = [('parameterization', inverter.get('parameterization'))]
    parts += [(f'{key}.{i}', part) for key in ('transforms', 'losses')
              for i, part in enumerate(inverter.get(key) or [])]
    with DefaultScope.overwrite_default_scope('leaps_mm'):
        for key, part in parts:
            if part is None:
                continue
            try:
                MODELS.build(part)
            except Exception as error:
                raise ValueError(f'leaps.inverter.{key} ({dict(part)}): '
                                 f'{error}') from error


def check_rows(rows: Sequence[Row], grid: Grid) -> Dict[str, int]:
    """Load every row's config with its cfg-options (what invert.py will
    do) and build its parameterisation, transforms and loss terms, so that a
    wrong key fails now, not after an hour of other rows; return each row's
    Inception Score splits (the grid's, else the config's
    ``leaps.evaluation.is_splits``)."""
    from leaps_mm.apis.cli_config import load_config
    splits = {}
    for row in rows:
        try:
            cfg = load_config(row.config, dict(row.cfg_options))
            build_objective(cfg)
        except ConfigError as error:
            raise ConfigError(f'Row {row.name!r}: {error.message}')
        except ValueError as error:
            raise ConfigError(f'Row {row.name!r}: {error}')
        splits[row.name] = grid.is_splits or cfg.get('leaps', {}).get(
            'evaluation', {}).get('is_splits', 10)
    return splits


def stream(command: List[str], log_path: str) -> int:
    """Run ``command``, echoing its output (progress bars included) and
    copying it to ``log_path``; return its exit status."""
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    out = sys.stdout.buffer if hasattr(sys.stdout, 'buffer') else None
    sys.stdout.flush()
    with open(log_path, 'ab') as log:
        log.write(('$ ' + ' '.join(command) + '\n').encode())
        process = subprocess.Popen(command, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, env=env)
        try:
            while chunk := os.read(process.stdout.fileno(), 4096):
                log.write(chunk)
                if out is not None:
                    out.write(chunk)
                    out.flush()
                else:  # a text stream (run_tool in the tests)
                    sys.stdout.write(chunk.decode(errors='replace'))
            return process.wait()
        finally:
            if process.poll() is None:
                process.terminate()
                process.wait()


def last_error(log_path: str) -> str:
    """The last ``Error:`` line of a row's log, else its last line."""
    try:
        with open(log_path, errors='replace') as file:
            lines = [line.strip() for line in
                     file.read().replace('\r', '\n').splitlines()
                     if line.strip()]
    except OSError:
        return ''
    errors = [line for line in lines if 'Error' in line]
    return (errors or lines or [''])[-1][:500]


def run_row(row: Row, work_dir: str, state: str, iters: Optional[int],
            uri: str, experiment: str, splits: int) -> Dict[str, float]:
    """Invert (resuming a partial row) and evaluate one row; return its
    metrics. Raises ``RuntimeError`` naming the log when it fails."""
    if state == 'stale' and osp.isdir(work_dir):
        print(f'  settings changed since the last run: starting '
              f'{work_dir} over')
        shutil.rmtree(work_dir)
    os.makedirs(work_dir, exist_ok=True)
    spec = row_spec(row, iters)
    write_json(osp.join(work_dir, ROW_FILE), spec)
    log_path = osp.join(work_dir, LOG_FILE)
    command = [sys.executable, osp.join(TOOLS, 'invert.py'), row.config,
               '--work-dir', work_dir, '--tracking-uri', uri,
               '--experiment', experiment] + option_args(row.cfg_options)
    if iters is not None:
        command += ['--iters', str(iters)]
    if state == 'partial':
        command.append('--resume')
    code = stream(command, log_path)
    if code != 0:
        raise RuntimeError(f'tools/invert.py exited with {code}: '
                           f'{last_error(log_path)} (log: {log_path})')
    return evaluate_row(work_dir, uri, splits)


def evaluate_row(work_dir: str, uri: str, splits: int,
                 rescore: bool = False) -> Dict[str, float]:
    """Evaluate a row's finished sweep into its ``metrics.json`` (and its
    MLflow parent run); ``rescore``: score x* again with the networks the
    run's config names now instead of reading the scores recorded when it
    ran."""
    try:
        metrics, notes = evaluate(work_dir, splits, rescore_run=rescore)
    except ConfigError as error:
        raise RuntimeError(f'evaluation failed: {error.message}')
    metrics_path = osp.join(work_dir, 'metrics.json')
    write_json(metrics_path, {k: to_json_value(v) for k, v in metrics.items()})
    for note in notes:
        print(f'  note: {note}')
    try:
        print('  ' + log_to_mlflow(uri, work_dir, metrics, metrics_path))
    except Exception as error:  # metrics.json is written; tracking is extra
        print(f'  MLflow: logging the row failed ({error})', file=sys.stderr)
    return json.loads(json.dumps(
        {k: to_json_value(v) for k, v in metrics.items()}))


def notes_for(grid: Grid, iters: Optional[int], rows: List[dict]) -> List[str]:
    videos = {r['metrics'].get('num_videos') for r in rows
              if r['status'] == 'done'}
    budget = (f'{iters} iterations per video' if iters is not None else
              "each config's own iterations per video")
    if len(videos) == 1:
        budget += f', {videos.pop()} videos per row'
    lines = [f'Top-1 in %; IS: mean ± std over splits; {budget}.']
    for r in rows:
        if r['status'] == 'failed':
            lines.append(f'Failed: {r["name"]}: {r["error"]}')
    return lines


def write_table(out: str, grid: Grid, iters: Optional[int],
                rows: List[dict]) -> Tuple[str, str, str]:
    """Write table.md and table.json; return their paths and the markdown."""
    markdown = render_markdown(grid.title, grid.layout, rows, grid.columns,
                               notes_for(grid, iters, rows), grid.scorers)
    md_path, json_path = osp.join(out, 'table.md'), osp.join(out, 'table.json')
    with atomic_path(md_path) as tmp, open(tmp, 'w') as file:
        file.write(markdown)
    extra = (dict(scorers=grid.scorers,
                  summary=transfer_summary(rows, grid.scorers))
             if grid.layout == 'transfer' else {})
    write_json(json_path, dict(title=grid.title, layout=grid.layout,
                               grid=osp.abspath(grid.path), iters=iters,
                               columns=grid.columns, rows=rows, **extra))
    return md_path, json_path, markdown


def log_table(uri: str, experiment: str, grid: Grid, iters: Optional[int],
              rows: List[dict], paths: Sequence[str], markdown: str) -> str:
    """The table as an MLflow parent run (table.md, table.json and the grid
    as artifacts, the markdown as description), a child run per row."""
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag

    from leaps_mm.tracking import (check_tracking_store, find_parent_run,
                                   get_or_create_experiment)
    check_tracking_store(uri)
    client = MlflowClient(uri)
    experiment_id = get_or_create_experiment(client, experiment)
    parent = client.create_run(experiment_id, run_name=grid.title, tags={
        'table': grid.name, 'layout': grid.layout,
        'mlflow.note.content': markdown[:8000]}).info.run_id
    client.log_batch(parent, params=[
        Param('grid', osp.abspath(grid.path)), Param('layout', grid.layout),
        Param('iters', str(iters)), Param('rows', str(len(rows)))])
    for path in list(paths) + [grid.path]:
        client.log_artifact(parent, path)
    now = int(time.time() * 1000)
    for row in rows:
        tags = {'mlflow.parentRunId': parent, 'status': row['status'],
                'row_work_dir': row['work_dir']}
        source = (find_parent_run(client, row['work_dir'])
                  if row['status'] == 'done' else None)
        if source is not None:
            tags['inversion_run_id'] = source.info.run_id
        child = client.create_run(experiment_id, run_name=row['name'],
                                  tags=tags).info.run_id
        metrics = [Metric(k, float(v), now, 0)
                   for k, v in (row.get('metrics') or {}).items()
                   if isinstance(v, (int, float)) and math.isfinite(v)]
        client.log_batch(child, metrics=metrics, params=[
            Param('config', row['config']),
            Param('cfg_options', json.dumps(row['cfg_options'])[:6000])],
            tags=[RunTag('error', row['error'][:5000])] if row.get('error')
            else [])
        client.set_terminated(child, 'FINISHED' if row['status'] == 'done'
                              else 'FAILED')
    client.set_terminated(parent)
    return parent


def run(grid_file: str, out: Optional[str], iters: Optional[int],
        only: Sequence[str], force: bool, tracking_uri: Optional[str],
        experiment: str, rescore: bool = False) -> None:
    """Run every row of GRID (a grid file from registry_configs/tables/),
    evaluate it and write <out>/table.md and <out>/table.json."""
    from leaps_mm.tracking import resolve_tracking_uri
    try:
        grid = load_grid(grid_file)
    except GridError as error:
        raise ConfigError(str(error))
    names = [row.name for row in grid.rows]
    known = set(names) | {row.slug for row in grid.rows}
    unknown = [name for name in only if name not in known]
    if unknown:
        raise ConfigError(f'--rows {unknown}: no such row in '
                          f'{grid_file}; rows are {names}.', exit_code=2)
    selected = [row for row in grid.rows
                if not only or {row.name, row.slug} & set(only)]
    out = out or osp.join('work_dirs', 'tables', grid.name)
    iters = iters or grid.iters
    os.makedirs(out, exist_ok=True)
    uri = resolve_tracking_uri(tracking_uri, out)

    states = {row.name: row_state(osp.join(out, row.slug),
                                  row_spec(row, iters)) for row in grid.rows}
    if force and rescore:
        raise ConfigError('--force and --rescore exclude each other: --force '
                          'inverts again, --rescore only scores the finished '
                          'videos again.', exit_code=2)
    todo = [row for row in selected
            if force or rescore or states[row.name][0] != 'done']
    splits = check_rows(todo, grid)
    print(f'{grid.title}: {len(grid.rows)} rows, {len(todo)} to run, '
          f'{iters or "config"} iterations per video -> {out}')
    results: Dict[str, dict] = {}
    spent: List[float] = []
    start = time.time()
    for index, row in enumerate(todo):
        work_dir = osp.join(out, row.slug)
        eta = (duration(sum(spent) / len(spent) * (len(todo) - index))
               if spent else 'after the first row')
        print(f'\n[{index + 1}/{len(todo)}] {row.name} ({row.config}) '
              f'-> {work_dir}   elapsed {duration(time.time() - start)}'
              f', ETA {eta}')
        state = 'stale' if force else states[row.name][0]
        began = time.time()
        try:
            if rescore and state == 'done':
                print('  re-scoring its finished videos (--rescore)')
                metrics = evaluate_row(work_dir, uri, splits[row.name],
                                       rescore=True)
            else:
                metrics = run_row(row, work_dir, state, iters, uri,
                                  experiment, splits[row.name])
            results[row.name] = dict(status='done', metrics=metrics)
            print(f'  {row.name}: done in {duration(time.time() - began)}')
        except (RuntimeError, OSError) as error:
            results[row.name] = dict(status='failed', metrics=None,
                                     error=str(error))
            print(f'  Row {row.name!r} FAILED: {error}', file=sys.stderr)
        spent.append(time.time() - began)

    rows = []
    for row in grid.rows:
        state, metrics = states[row.name]
        result = results.get(row.name) or (
            dict(status='done', metrics=metrics) if state == 'done'
            else dict(status='not run', metrics=None))
        entry = dict(name=row.name, slug=row.slug, config=row.config,
                     cfg_options=row.cfg_options, error=None,
                     target=row.target, recipe=row.recipe,
                     shared=list(row.shared), family=row.family,
                     work_dir=osp.abspath(osp.join(out, row.slug)))
        entry.update(result)
        rows.append(entry)
    md_path, json_path, markdown = write_table(out, grid, iters, rows)
    print('\n' + markdown)
    print(f'Wrote {osp.abspath(md_path)} and table.json '
          f'({duration(time.time() - start)})')
    try:
        run_id = log_table(uri, experiment, grid, iters, rows,
                           (md_path, json_path), markdown)
        print(f'MLflow: table run {run_id} at {uri}' + (
            '' if uri.startswith('http') else
            f'  (browse: mlflow ui --backend-store-uri {uri})'))
    except Exception as error:  # the table files are written
        print(f'MLflow: logging the table to {uri} failed '
              f'({type(error).__name__}: {error}).', file=sys.stderr)
    failed = [r['name'] for r in rows if r['status'] == 'failed']
    if failed:
        raise ConfigError(f'{len(failed)} row(s) failed: {failed}; '
                          'their errors are in the table notes.')


EXAMPLES = """examples:
  python tools/tables.py registry_configs/tables/table1_demo.py
  python tools/tables.py registry_configs/tables/table1_demo.py --iters 50 \\
      --rows "LEAPS (full)" --out work_dirs/tables/quick
"""


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(
            'Run every row of GRID (a grid file from\n'
            'registry_configs/tables/), evaluate it and write\n'
            '<out>/table.md and <out>/table.json.'),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('grid_file', metavar='GRID', help='Grid file.')
    parser.add_argument(
        '--out', help='Output folder (default: work_dirs/tables/<grid '
        'name>).')
    parser.add_argument(
        '--iters', type=int_range(1), help='Steps per video for every row '
        "(default: the grid's `iters`, else each config's).")
    parser.add_argument(
        '--rows', dest='only', action='append', default=[], metavar='NAME',
        help='Run only this row, by name or work-dir slug (repeatable); '
        'finished others still appear in the table.')
    parser.add_argument(
        '--force', action='store_true', help='Run the selected rows from '
        'scratch even when they are finished.')
    parser.add_argument(
        '--rescore', action='store_true', help='Score the selected finished '
        "rows' videos again with the networks their configs name now (e.g. "
        "after a scorer's checkpoint was retrained; the grid's settings "
        'record paths, not weights), without inverting again; unfinished '
        'rows run as usual.')
    parser.add_argument(
        '--tracking-uri', help='MLflow store for the rows and the table '
        '(default: $MLFLOW_TRACKING_URI, else sqlite:///<out>/mlflow.db).')
    parser.add_argument('--experiment', default='leaps-tables',
                        help='MLflow experiment (default: %(default)s).')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from leaps_mm.apis.cli_config import run_command
    return run_command(lambda: run(**vars(args)))


if __name__ == '__main__':
    sys.exit(main())
