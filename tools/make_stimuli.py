"""Write the procedural motion stimuli used by the LEAPS examples.

Layout (under ``--out``)::

    <class_name_with_underscores>/<k>.mp4   clips, k = 0 .. per-class - 1
    stimuli.txt                             MMAction2 video list: "path label"
    classes.txt                             class names, one per line
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from leaps_mm.datasets.motion import (MOTION_CLASSES,  # noqa: E402
                                      render_motion_clip)
from leaps_mm.visualization.video_io import write_mp4  # noqa: E402


def _write_text(path: Path, lines: list[str]) -> None:
    """Atomically write ``lines`` (newline-terminated) to ``path``."""
    tmp = path.with_name(f'.{path.name}.tmp')
    try:
        tmp.write_text(''.join(f'{line}\n' for line in lines))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@click.command()
@click.option('--out', type=click.Path(file_okay=False, path_type=Path),
              default=Path('data/stimuli'), show_default=True,
              help='Output folder.')
@click.option('--per-class', type=click.IntRange(min=1), default=2,
              show_default=True, help='Clips per class.')
@click.option('--seed', type=int, default=0, show_default=True,
              help='Base random seed.')
@click.option('--num-frames', type=click.IntRange(min=2), default=16,
              show_default=True)
@click.option('--size', type=click.IntRange(min=16), default=64,
              show_default=True, help='Frame height and width.')
@click.option('--fps', type=int, default=8, show_default=True)
def main(out: Path, per_class: int, seed: int, num_frames: int, size: int,
         fps: int) -> None:
    """Render MOTION_CLASSES clips to mp4 plus MMAction2 annotation files."""
    out.mkdir(parents=True, exist_ok=True)
    entries: list[str] = []
    total = 0
    for label, name in enumerate(MOTION_CLASSES):
        folder = name.replace(' ', '_')
        for k in range(per_class):
            # One independent stream per (class, clip): adding classes or
            # clips never changes the existing ones.
            rng = np.random.default_rng([seed, label, k])
            clip = render_motion_clip(label, rng, num_frames=num_frames,
                                      size=size)
            rel = f'{folder}/{k}.mp4'
            write_mp4(out / rel, clip, fps=fps)
            total += (out / rel).stat().st_size
            entries.append(f'{rel} {label}')
    _write_text(out / 'stimuli.txt', entries)
    _write_text(out / 'classes.txt', list(MOTION_CLASSES))
    click.echo(f'wrote {len(entries)} clips ({total / 1024:.1f} KiB) '
               f'to {out}')


if __name__ == '__main__':
    main()
