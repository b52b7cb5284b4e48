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
import argparse
import json
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import _omp  # noqa: E402,F401  (OpenMP wait policy, before torch)
from _argtypes import (existing_dir, int_range, not_file,  # noqa: E402
                       positive_float)


def run(work_dir: str, out_dir: str, max_jobs: int, columns: int,
        frame_side: int, fps: float, no_mlflow: bool) -> None:
    """Write the gallery of WORK_DIR's finished jobs."""
    from leaps_mm.apis.cli_config import ConfigError
    from leaps_mm.visualization.gallery import write_sweep_gallery
    from leaps_mm.tracking import PARENT_RUN_FILE, log_gallery, ui_hint
    try:
        paths = write_sweep_gallery(work_dir, out_dir, fps=fps,
                                    frame_side=frame_side, columns=columns,
                                    max_jobs=max_jobs)
    except ValueError as error:  # an unreadable result.json / synth.npy
        raise ConfigError(str(error))
    if not paths:
        raise ConfigError(
            f'{work_dir}: no finished jobs (folders with result.json); run '
            'tools/invert.py first.')
    for path in paths.values():
        print(f'Wrote {osp.abspath(path)}')
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
        print(f'MLflow: logging the gallery failed ({type(error).__name__}'
              f': {error}); the files are complete.', file=sys.stderr)
        return
    print(f'MLflow: logged {", ".join(logged)} to run '
          f'{parent["run_id"]}')
    print(ui_hint(parent['tracking_uri'], parent['experiment_id'],
                  parent['run_id']))


EXAMPLES = """examples:
  python tools/gallery.py work_dirs/leaps_random_x3d
  python tools/gallery.py work_dirs/leaps_r3d --columns 4 --frame-side 240 \\
      --out-dir docs/gallery --no-mlflow
"""


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(
            "Write the gallery of WORK_DIR's finished jobs (gallery.png,\n"
            "gallery.gif, gallery.mp4) and log it to the sweep's MLflow\n"
            'parent run.'),
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('work_dir', metavar='WORK_DIR', type=existing_dir,
                        help='Work dir of a tools/invert.py sweep.')
    parser.add_argument('--out-dir', type=not_file,
                        help='Where to write the files (default: WORK_DIR).')
    parser.add_argument(
        '--max-jobs', default=64, type=int_range(1),
        help='Tiles at most (the first jobs; default: %(default)s).')
    parser.add_argument('--columns', type=int_range(1),
                        help='Tiles per row (default: a grid near 16:9).')
    parser.add_argument(
        '--frame-side', default=160, type=int_range(16, 1024),
        help='Short side of a frame in the gif/mp4 (pixels; default: '
        '%(default)s).')
    parser.add_argument('--fps', default=8.0, type=positive_float,
                        help='Default: %(default)s.')
    parser.add_argument(
        '--no-mlflow', action='store_true',
        help='Do not log the files to the MLflow parent run.')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from leaps_mm.apis.cli_config import run_command
    return run_command(lambda: run(**vars(args)))


if __name__ == '__main__':
    sys.exit(main())
