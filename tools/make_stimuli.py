"""Write the procedural motion stimuli used by the LEAPS examples.

Layout (under ``--out``)::

    <class_name_with_underscores>/<k>.mp4   clips, k = 0 .. per-class - 1
    stimuli.txt                             MMAction2 video list: "path label"
    classes.txt                             class names, one per line
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _argtypes import int_range, not_file  # noqa: E402

from leaps_mm.datasets.motion import (MOTION_CLASSES,  # noqa: E402
                                      render_motion_clip)
from leaps_mm.fileio.video_io import write_mp4  # noqa: E402


def _write_text(path: Path, lines: list[str]) -> None:
    """Atomically write ``lines`` (newline-terminated) to ``path``."""
    tmp = path.with_name(f'.{path.name}.tmp')
    try:
        tmp.write_text(''.join(f'{line}\n' for line in lines))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def run(out: Path, per_class: int, seed: int, num_frames: int, size: int,
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
    print(f'wrote {len(entries)} clips ({total / 1024:.1f} KiB) '
          f'to {out}')


EXAMPLES = """examples:
  python tools/make_stimuli.py
  python tools/make_stimuli.py --out data/stimuli_big --per-class 8 \\
      --num-frames 32 --size 112
"""


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Render MOTION_CLASSES clips to mp4 plus MMAction2 '
        'annotation files.', epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', type=not_file, default='data/stimuli',
                        help='Output folder (default: %(default)s).')
    parser.add_argument('--per-class', type=int_range(1), default=2,
                        help='Clips per class (default: %(default)s).')
    parser.add_argument('--seed', type=int, default=0,
                        help='Base random seed (default: %(default)s).')
    parser.add_argument('--num-frames', type=int_range(2), default=16,
                        help='Frames per clip (default: %(default)s).')
    parser.add_argument('--size', type=int_range(16), default=64,
                        help='Frame height and width (default: %(default)s).')
    parser.add_argument('--fps', type=int, default=8,
                        help='Default: %(default)s.')
    args = parser.parse_args(argv)
    args.out = Path(args.out)
    return args


def main(argv=None) -> int:
    run(**vars(parse_args(argv)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
