"""(Re)make the gallery of a finished sweep and log it to its MLflow run.

    python tools/gallery.py work_dirs/leaps_random_x3d

Writes ``WORK_DIR/gallery.png`` (contact sheet), ``gallery.gif`` and
``gallery.mp4`` (all tiles playing): one tile per finished job with its
target class, the stimulus above the synthesized video and the model /
verifier / judge predictions (green: the target class, red: another).
``tools/invert.py`` writes the same at the end of every sweep; this tool is
for a sweep made before, one interrupted, or other sizes. When the work dir
names its MLflow parent run (``mlflow_parent.json``) the files are logged
to it under ``gallery/`` (``--no-mlflow``: not).
"""
import json
import os.path as osp
import sys

import click

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import _omp  # noqa: E402,F401  (OpenMP wait policy, before torch)


@click.command(context_settings=dict(help_option_names=['-h', '--help']))
@click.argument('work_dir', type=click.Path(exists=True, file_okay=False))
@click.option('--out-dir', type=click.Path(file_okay=False),
              help='Where to write the files (default: WORK_DIR).')
@click.option('--max-jobs', default=64, show_default=True,
              type=click.IntRange(1), help='Tiles at most (the first jobs).')
@click.option('--columns', type=click.IntRange(1),
              help='Tiles per row (default: a grid near 16:9).')
@click.option('--frame-side', default=160, show_default=True,
              type=click.IntRange(16, 1024),
              help='Short side of a frame in the gif/mp4 (pixels).')
@click.option('--fps', default=8.0, show_default=True,
              type=click.FloatRange(min=0, min_open=True))
@click.option('--no-mlflow', is_flag=True,
              help='Do not log the files to the MLflow parent run.')
def main(work_dir: str, out_dir: str, max_jobs: int, columns: int,
         frame_side: int, fps: float, no_mlflow: bool) -> None:
    """Write the gallery of WORK_DIR's finished jobs."""
    from leaps_mm.visualization.gallery import write_sweep_gallery
    from leaps_mm.visualization.mlflow_hook import (PARENT_RUN_FILE,
                                                    log_gallery, ui_hint)
    try:
        paths = write_sweep_gallery(work_dir, out_dir, fps=fps,
                                    frame_side=frame_side, columns=columns,
                                    max_jobs=max_jobs)
    except ValueError as error:  # an unreadable result.json / synth.npy
        raise click.ClickException(str(error))
    if not paths:
        raise click.ClickException(
            f'{work_dir}: no finished jobs (folders with result.json); run '
            'tools/invert.py first.')
    for path in paths.values():
        click.echo(f'Wrote {osp.abspath(path)}')
    parent_file = osp.join(work_dir, PARENT_RUN_FILE)
    if no_mlflow or not osp.isfile(parent_file):
        return
    try:
        with open(parent_file) as file:
            parent = json.load(file)
        from mlflow import MlflowClient
        logged = log_gallery(MlflowClient(parent['tracking_uri']),
                             parent['run_id'], paths.values())
    except Exception as error:  # the files are written; tracking is extra
        click.echo(f'MLflow: logging the gallery failed ({type(error).__name__}'
                   f': {error}); the files are complete.', err=True)
        return
    click.echo(f'MLflow: logged {", ".join(logged)} to run '
               f'{parent["run_id"]}')
    click.echo(ui_hint(parent['tracking_uri'], parent['experiment_id'],
                       parent['run_id']))


if __name__ == '__main__':
    main()
