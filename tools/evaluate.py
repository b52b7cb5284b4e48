"""Evaluate a finished inversion sweep from its job folders.

    python tools/evaluate.py work_dirs/leaps_random_x3d

Reads every ``<WORK_DIR>/<job>/result.json`` (and ``synth.npy``), computes
the set metrics of the paper (§4.2–4.4): top-1 accuracy (%) of the inverted
model, the verifier and (when present) the judge, Inception Score (mean ± std
over splits) of the model and verifier predictions, consecutive-frame SSIM and
PSNR of the synthesized videos and, when the stimulus files can be read, of
the stimuli. Writes ``<WORK_DIR>/metrics.json`` (atomically), prints a table
and, when the run has an MLflow store, logs the metrics (``eval/<name>``) and
``metrics.json`` to the sweep's parent run.

Non-finite values (PSNR of a completely static set, a metric with no data)
are written to metrics.json as ``null`` and not logged to MLflow.
"""
import math
import os.path as osp
import sys
import time
from typing import Dict, List, Optional, Tuple

import click

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import _omp  # noqa: E402,F401  (OpenMP wait policy, before torch)

NETS = ('model', 'verifier', 'judge')
METRIC_PREFIX = 'eval/'


def load_records(work_dir: str) -> List[dict]:
    """The ``result.json`` of every finished job, each with its folder
    under ``_folder``."""
    from leaps_mm.visualization.job_outputs import (finished_jobs,
                                                    read_job_record)
    records = []
    for folder in finished_jobs(work_dir):
        try:
            record = read_job_record(folder)
        except ValueError as error:
            raise click.ClickException(str(error))
        record['_folder'] = folder
        records.append(record)
    return records


def top1_metrics(records: List[dict]) -> Dict[str, float]:
    """``top1_{net}`` (%) and ``prob_target_{net}`` for every net whose
    predictions every record has."""
    metrics = {}
    for net in NETS:
        if not all(f'{net}_pred' in r for r in records):
            continue
        correct = [r[f'{net}_pred'] == r['target_index'] for r in records]
        metrics[f'top1_{net}'] = 100.0 * sum(correct) / len(records)
        if all(f'{net}_prob_target' in r for r in records):
            metrics[f'prob_target_{net}'] = (
                sum(r[f'{net}_prob_target'] for r in records) / len(records))
    return metrics


def video_metrics(records: List[dict],
                  notes: List[str]) -> Dict[str, float]:
    """Consecutive-frame SSIM / PSNR of ``synth.npy`` and of the stimuli."""
    import numpy as np

    from leaps_mm.evaluation import set_frame_similarity
    from leaps_mm.visualization import VideoReadError, read_video

    synth = []
    for record in records:
        path = osp.join(record['_folder'], 'synth.npy')
        try:
            synth.append(np.load(path))
        except (OSError, ValueError) as error:
            notes.append(f'{path} unreadable ({error}); left out of SSIM/PSNR')
    metrics = {}
    if synth:
        values = set_frame_similarity(synth)
        metrics.update(ssim_consecutive=values['ssim'],
                       psnr_consecutive=values['psnr'])
    stimuli, missing = [], []
    for record in records:
        path = record.get('stimulus')
        if not path:
            missing.append(record['_folder'])
            continue
        try:
            stimuli.append(read_video(path))
        except VideoReadError as error:
            missing.append(str(error))
    if missing:
        notes.append(f'{len(missing)} stimulus video(s) not readable; '
                     'stimulus SSIM/PSNR ' +
                     ('over the others' if stimuli else 'skipped') +
                     f' (first: {missing[0]})')
    if stimuli:
        values = set_frame_similarity(stimuli)
        metrics.update(ssim_consecutive_stimulus=values['ssim'],
                       psnr_consecutive_stimulus=values['psnr'])
    return metrics


def evaluate(work_dir: str, splits: int = 10) -> Tuple[Dict[str, float],
                                                        List[str]]:
    """The metrics of a finished sweep and notes about what was skipped."""
    from leaps_mm.evaluation import inception_scores
    notes: List[str] = []
    records = load_records(work_dir)
    if not records:
        raise click.ClickException(
            f'{work_dir!r} has no job folders (sub-folders with a '
            'result.json); is it the work dir of a finished tools/invert.py '
            'run?')
    metrics: Dict[str, float] = {'num_videos': len(records)}
    metrics.update(top1_metrics(records))
    scores = inception_scores(records, NETS, splits)
    for net in NETS:
        if f'{net}_pred' in records[0] and f'is_{net}' not in scores:
            notes.append(f'no Inception Score for the {net}: result.json '
                         f'lacks `{net}_probs` (written by newer runs)')
    metrics.update(scores)
    metrics.update(video_metrics(records, notes))
    return metrics, notes


MIN_VIDEOS_PER_SPLIT = 10


def check_splits(splits: int, num_videos: int) -> Tuple[int, Optional[str]]:
    """``splits`` clamped so that every Inception-Score split holds at
    least :data:`MIN_VIDEOS_PER_SPLIT` videos (at least one split), and a
    warning when it was clamped: a split of a few videos scores about 1
    whatever they show."""
    most = max(1, num_videos // MIN_VIDEOS_PER_SPLIT)
    if splits <= most:
        return splits, None
    return most, (f'--splits {splits} would put fewer than '
                  f'{MIN_VIDEOS_PER_SPLIT} of the {num_videos} videos in a '
                  f'split (an Inception Score over a few videos is about 1 '
                  f'whatever they show); using {most} split'
                  f'{"s" if most > 1 else ""}. Give at most --splits {most}, '
                  f'or evaluate more videos.')


def to_json_value(value):
    """Floats as they are; inf / nan as None (not valid JSON)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def format_table(metrics: Dict[str, float]) -> str:
    width = max(len(k) for k in metrics)
    lines = [f'{"metric":<{width}}  value', f'{"-" * width}  ' + '-' * 10]
    for key, value in metrics.items():
        text = (str(value) if isinstance(value, int) else
                f'{value:.4f}' if math.isfinite(value) else str(value))
        if key.startswith('is_') and not key.endswith('_std') and \
                f'{key}_std' in metrics:
            text = f'{value:.4f} ± {metrics[key + "_std"]:.4f}'
        elif key.startswith('is_') and key.endswith('_std'):
            continue
        lines.append(f'{key:<{width}}  {text}')
    return '\n'.join(lines)


def find_parent_run(client, work_dir: str):
    """The newest parent run (no ``mlflow.parentRunId``) that
    :class:`MLflowTrackingHook` tagged with this ``work_dir``."""
    candidates = {osp.abspath(work_dir), osp.realpath(work_dir)}
    experiment_ids = [e.experiment_id for e in client.search_experiments()]
    if not experiment_ids:
        return None
    runs = []
    for path in candidates:
        quoted = path.replace("'", "\\'")
        runs += client.search_runs(
            experiment_ids, filter_string=f"tags.work_dir = '{quoted}'",
            order_by=['attributes.start_time DESC'], max_results=100)
    runs = [r for r in runs if 'mlflow.parentRunId' not in r.data.tags]
    return max(runs, key=lambda r: r.info.start_time) if runs else None


def log_to_mlflow(uri: str, work_dir: str, metrics: Dict[str, float],
                  metrics_path: str) -> str:
    """Log the finite metrics and metrics.json to the sweep's parent run;
    return a line saying what happened."""
    from mlflow import MlflowClient
    from mlflow.entities import Metric
    client = MlflowClient(uri)
    parent = find_parent_run(client, work_dir)
    if parent is None:
        return (f'MLflow: no parent run tagged work_dir={osp.abspath(work_dir)}'
                f' at {uri}; metrics not logged.')
    run_id = parent.info.run_id
    now = int(time.time() * 1000)
    entries = [Metric(METRIC_PREFIX + k, float(v), now, 0)
               for k, v in metrics.items()
               if isinstance(v, (int, float)) and math.isfinite(v)]
    client.log_batch(run_id, metrics=entries)
    client.log_artifact(run_id, metrics_path)
    return f'MLflow: logged {len(entries)} metrics to run {run_id} at {uri}.'


@click.command(context_settings=dict(help_option_names=['-h', '--help']))
@click.argument('work_dir', type=click.Path(exists=True, file_okay=False))
@click.option('--splits', type=click.IntRange(min=1), default=10,
              show_default=True, help='Inception Score splits; fewer when '
              f'a split would hold under {MIN_VIDEOS_PER_SPLIT} videos.')
@click.option('--tracking-uri', help='MLflow store of the run (default: '
              'sqlite:///<WORK_DIR>/mlflow.db when that file exists).')
@click.option('--no-mlflow', is_flag=True, help='Do not log to MLflow.')
def main(work_dir: str, splits: int, tracking_uri: Optional[str],
         no_mlflow: bool) -> None:
    """Compute the metrics of a finished sweep in WORK_DIR and write
    WORK_DIR/metrics.json."""
    from leaps_mm.utils.fileio import write_json
    from leaps_mm.visualization.mlflow_hook import default_tracking_uri

    num_videos = len(load_records(work_dir))
    splits, warning = (check_splits(splits, num_videos) if num_videos
                       else (splits, None))
    if warning:
        click.echo(f'Warning: {warning}', err=True)
    metrics, notes = evaluate(work_dir, splits)
    metrics_path = osp.join(work_dir, 'metrics.json')
    write_json(metrics_path, {k: to_json_value(v) for k, v in metrics.items()})
    click.echo(format_table(metrics))
    click.echo(f'\nWrote {osp.abspath(metrics_path)}')
    for note in notes:
        click.echo(f'Note: {note}')
    if no_mlflow:
        return
    if tracking_uri is None and osp.isfile(osp.join(work_dir, 'mlflow.db')):
        tracking_uri = default_tracking_uri(work_dir)
    if tracking_uri is None:
        click.echo('MLflow: no mlflow.db in the work dir and no '
                   '--tracking-uri; metrics not logged.')
        return
    try:
        click.echo(log_to_mlflow(tracking_uri, work_dir, metrics,
                                 metrics_path))
    except Exception as error:  # metrics.json is written; tracking is extra
        click.echo(f'MLflow: logging to {tracking_uri} failed '
                   f'({type(error).__name__}: {error}); metrics.json is '
                   'complete.', err=True)


if __name__ == '__main__':
    main()
