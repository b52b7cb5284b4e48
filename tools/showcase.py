"""An animated overview of a finished sweep: stimuli above their
synthesized videos, one column per job.

    python tools/showcase.py work_dirs/leaps_r3d --out docs/demo_leaps_r3d.gif

Takes the first job of each target class (up to ``--max-jobs``), reads its
stimulus with PyAV and its ``synth.npy``, and writes one looping GIF (row 1:
stimuli, row 2: synthesized videos, enlarged ``--scale`` times).
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from _argtypes import existing_dir, int_range, not_dir  # noqa: E402


def run(work_dir: str, out: str, max_jobs: int, scale: int,
        fps: float) -> None:
    """Stimuli above synthesized videos of WORK_DIR's jobs, as a GIF."""
    import numpy as np

    from leaps_mm.apis.cli_config import ConfigError
    from leaps_mm.fileio.job_outputs import (finished_jobs,
                                                    read_job_record)
    from leaps_mm.fileio.video_io import (VideoReadError, read_video,
                                                 tile_videos, write_gif)
    columns, seen = [], set()
    for folder in finished_jobs(work_dir):
        result = osp.join(folder, 'result.json')
        try:
            record = read_job_record(folder)
        except ValueError as error:
            raise ConfigError(str(error))
        if record['target_index'] in seen or not record.get('stimulus'):
            continue
        try:
            stimulus = read_video(record['stimulus'])
        except (VideoReadError, OSError) as error:
            raise ConfigError(f'{result}: its stimulus cannot be '
                              f'read ({error}).')
        seen.add(record['target_index'])
        columns.append((stimulus, np.load(osp.join(folder, 'synth.npy'))))
        if len(columns) == max_jobs:
            break
    if not columns:
        raise ConfigError(
            f'{work_dir}: no finished jobs (folders with result.json); run '
            'tools/invert.py first.')
    synth = columns[0][1]
    size = (synth.shape[1] * scale, synth.shape[2] * scale)
    grid = [[s for s, _ in columns], [x for _, x in columns]]
    write_gif(out, tile_videos(grid, len(synth), size), fps=fps)
    print(f'{len(columns)} jobs -> {out}')


EXAMPLES = """example:
  python tools/showcase.py work_dirs/leaps_r3d --out docs/demo_leaps_r3d.gif
"""


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Stimuli above synthesized videos of WORK_DIR's jobs, "
        'as a GIF.', epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('work_dir', metavar='WORK_DIR', type=existing_dir,
                        help='Work dir of a tools/invert.py sweep.')
    parser.add_argument('--out', required=True, type=not_dir,
                        help='The GIF to write.')
    parser.add_argument(
        '--max-jobs', default=4, type=int_range(1),
        help='Columns (one class each; default: %(default)s).')
    parser.add_argument(
        '--scale', default=2, type=int_range(1), help='Enlargement of the '
        'frames (nearest neighbour; default: %(default)s).')
    parser.add_argument('--fps', default=8.0, type=float,
                        help='Default: %(default)s.')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from leaps_mm.apis.cli_config import run_command
    return run_command(lambda: run(**vars(args)))


if __name__ == '__main__':
    sys.exit(main())
