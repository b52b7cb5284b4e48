"""An animated overview of a finished sweep: stimuli above their
synthesized videos, one column per job.

    python tools/showcase.py work_dirs/leaps_r3d --out docs/demo_leaps_r3d.gif

Takes the first job of each target class (up to ``--max-jobs``), reads its
stimulus with PyAV and its ``synth.npy``, and writes one looping GIF (row 1:
stimuli, row 2: synthesized videos, enlarged ``--scale`` times).
"""
import os.path as osp
import sys

import click

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))


@click.command()
@click.argument('work_dir', type=click.Path(exists=True, file_okay=False))
@click.option('--out', required=True, type=click.Path(dir_okay=False),
              help='The GIF to write.')
@click.option('--max-jobs', default=4, show_default=True,
              type=click.IntRange(1), help='Columns (one class each).')
@click.option('--scale', default=2, show_default=True, type=click.IntRange(1),
              help='Enlargement of the frames (nearest neighbour).')
@click.option('--fps', default=8.0, show_default=True)
def main(work_dir: str, out: str, max_jobs: int, scale: int,
         fps: float) -> None:
    """Stimuli above synthesized videos of WORK_DIR's jobs, as a GIF."""
    import numpy as np

    from leaps_mm.visualization.job_outputs import (finished_jobs,
                                                    read_job_record)
    from leaps_mm.visualization.video_io import (VideoReadError, read_video,
                                                 tile_videos, write_gif)
    columns, seen = [], set()
    for folder in finished_jobs(work_dir):
        result = osp.join(folder, 'result.json')
        try:
            record = read_job_record(folder)
        except ValueError as error:
            raise click.ClickException(str(error))
        if record['target_index'] in seen or not record.get('stimulus'):
            continue
        try:
            stimulus = read_video(record['stimulus'])
        except (VideoReadError, OSError) as error:
            raise click.ClickException(f'{result}: its stimulus cannot be '
                                       f'read ({error}).')
        seen.add(record['target_index'])
        columns.append((stimulus, np.load(osp.join(folder, 'synth.npy'))))
        if len(columns) == max_jobs:
            break
    if not columns:
        raise click.ClickException(
            f'{work_dir}: no finished jobs (folders with result.json); run '
            'tools/invert.py first.')
    synth = columns[0][1]
    size = (synth.shape[1] * scale, synth.shape[2] * scale)
    grid = [[s for s, _ in columns], [x for _, x in columns]]
    write_gif(out, tile_videos(grid, len(synth), size), fps=fps)
    click.echo(f'{len(columns)} jobs -> {out}')


if __name__ == '__main__':
    main()
