"""The gallery of a sweep: every finished job as one labelled tile.

A tile shows the job's target class, its stimulus above its synthesized
video x* and one bar per scoring network (model, verifier, judge) with that
network's prediction: green when it is the target class, red when not. The
tiles are laid out in a grid under a title line with the sweep's top-1
counts, and written as

- ``gallery.gif`` and ``gallery.mp4``: every tile playing at once;
- ``gallery.png``: a contact sheet, each panel ``sheet_frames`` evenly
  spaced frames side by side.

:func:`write_sweep_gallery` reads the job folders of a work dir (with the
readers of :mod:`.job_outputs`) and writes the three files atomically;
:class:`InversionLoop` calls it at the end of a sweep (rank 0, after all
jobs), ``tools/gallery.py`` for a finished work dir.
"""
from __future__ import annotations

import functools
import math
import os
import os.path as osp
from dataclasses import dataclass, field, replace
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from leaps_mm.evaluation.record_metrics import scorer_keys
from leaps_mm.fileio.atomic import atomic_path
from leaps_mm.fileio.job_outputs import finished_jobs, read_job_record
from leaps_mm.fileio.video_io import (VideoReadError, count_frames, iter_frames,
                       open_video, write_gif, write_mp4)

__all__ = ['GALLERY_FILES', 'RIGHT_COLOUR', 'WRONG_COLOUR', 'GalleryJob',
           'GalleryLayout', 'load_gallery_jobs', 'render_gallery',
           'write_sweep_gallery']

NETS = ('model', 'verifier', 'judge')
# the files write_sweep_gallery writes into the work dir, by kind
GALLERY_FILES = {'png': 'gallery.png', 'gif': 'gallery.gif',
                 'mp4': 'gallery.mp4'}
RIGHT_COLOUR = (20, 130, 50)  # prediction bar: the target class
WRONG_COLOUR = (200, 35, 35)  # prediction bar: another class
TEXT_COLOUR = (20, 20, 20)
BAR_TEXT_COLOUR = (255, 255, 255)
BACKGROUND = (255, 255, 255)
MISSING_COLOUR = (200, 200, 200)  # a stimulus panel without a readable file


@dataclass
class GalleryJob:
    """What one tile shows.

    Attributes:
        job_id: the job folder's name (``00003_move_left``).
        target_name: the target class.
        synth: x*, ``(T, H, W, 3)`` uint8.
        stimulus: the stimulus, ``(T', H', W', 3)`` uint8; None when its file
            cannot be read.
        predictions: per net that scored the job (:func:`gallery_scorers`),
            ``(net, predicted class name, probability of that class, whether
            it is the target)``.
    """
    job_id: str
    target_name: str
    synth: np.ndarray
    stimulus: Optional[np.ndarray] = None
    predictions: List[Tuple[str, str, float, bool]] = field(
        default_factory=list)


def gallery_scorers(record: dict) -> List[str]:
    """The scorers a tile shows: ``model``, ``verifier``, then every judge
    (``judge_<name>``; the bare ``judge`` only when no judge is named, as it
    repeats the first), no motion probes (``model_reversed`` ...)."""
    keys = scorer_keys(record)
    named = [k for k in keys if k.startswith('judge_')]
    return [k for k in keys if not (k == 'judge' and named)]


def stimulus_path(record: dict) -> Optional[str]:
    """The record's stimulus file: as written (a relative path is relative
    to where the sweep ran), else relative to a folder above the sweep's
    config (a project's ``data/`` beside its configs); None if neither is
    a file."""
    path = record.get('stimulus')
    if not path:
        return None
    candidates = [path]
    config = record.get('config')
    if not osp.isabs(path) and config:
        folder = osp.dirname(osp.abspath(config))
        for _ in range(4):
            candidates.append(osp.join(folder, path))
            folder = osp.dirname(folder)
    return next((p for p in candidates if osp.isfile(p)), None)


def read_frames(path: str, count: int, max_side: int = 320) -> np.ndarray:
    """``count`` evenly spaced frames of the video ``path`` as ``(count',
    H, W, 3)`` uint8 (``count' <= count``), shrunk to a longer side of at
    most ``max_side``; decodes the stream once, keeping only those frames
    (a long stimulus never sits in memory whole)."""
    with open_video(path) as container:
        total = count_frames(container)
        wanted = set(_sample(max(total, 1), count).tolist())
        frames = []
        for t, frame in enumerate(iter_frames(container)):
            if t in wanted:
                scale = max_side / max(frame.shape[:2])
                if scale < 1:
                    frame = cv2.resize(
                        frame, (max(1, round(frame.shape[1] * scale)),
                                max(1, round(frame.shape[0] * scale))),
                        interpolation=cv2.INTER_AREA)
                frames.append(frame)
    if not frames:
        raise VideoReadError(f'video {path!r} has zero frames')
    return np.stack(frames)


def job_from_record(folder: str, record: dict) -> GalleryJob:
    """The :class:`GalleryJob` of a finished job folder and its record."""
    synth = np.load(osp.join(folder, 'synth.npy'))
    stimulus = None
    path = stimulus_path(record)
    if path is not None:
        try:  # as many frames as x* (the animation plays them together)
            stimulus = read_frames(path, len(synth))
        except (VideoReadError, OSError):
            stimulus = None  # unreadable since the sweep: a grey panel
    predictions = []
    for net in gallery_scorers(record):
        pred = int(record[f'{net}_pred'])
        probs = record.get(f'{net}_probs')
        prob = (float(probs[pred]) if probs and 0 <= pred < len(probs)
                else float('nan'))
        predictions.append((net.replace('_', ' '),
                            str(record.get(f'{net}_pred_name', pred)),
                            prob, pred == int(record['target_index'])))
    return GalleryJob(job_id=record.get('job_id', osp.basename(folder)),
                      target_name=str(record.get('target_name', '?')),
                      synth=synth, stimulus=stimulus, predictions=predictions)


def load_gallery_jobs(work_dir: str,
                      max_jobs: Optional[int] = None) -> List[GalleryJob]:
    """The finished jobs of ``work_dir`` in job order, at most ``max_jobs``;
    ValueError naming the file when a record or ``synth.npy`` is
    unreadable."""
    jobs = []
    for folder in finished_jobs(work_dir)[:max_jobs]:
        record = read_job_record(folder)
        try:
            jobs.append(job_from_record(folder, record))
        except (OSError, ValueError) as error:
            raise ValueError(f'Cannot read {osp.join(folder, "synth.npy")}: '
                             f'{error}') from error
    return jobs


@functools.lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.ImageFont:
    """Pillow's bundled scalable font (the same glyphs on every machine),
    its fixed bitmap font where Pillow lacks FreeType."""
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ImportError, OSError):
        return ImageFont.load_default()


def _fit(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> str:
    """``text``, cut with an ellipsis to at most ``width`` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + '…', font=font) > width:
        text = text[:-1]
    return text.rstrip() + '…'


@dataclass(frozen=True)
class GalleryLayout:
    """Pixel geometry of the gallery (every tile the same size).

    Attributes:
        frame_size: ``(H, W)`` of one video frame in a panel.
        frames_per_panel: frames side by side in a panel (1 for the
            animation, ``sheet_frames`` for the contact sheet).
        columns: tiles per grid row.
        bars: prediction bars per tile (the nets that scored the jobs).
        header_lines: text lines above the tiles (title, counts, legend).
        font_size: text height in pixels.
        pad: margin inside and between tiles.
    """
    frame_size: Tuple[int, int]
    frames_per_panel: int = 1
    columns: int = 4
    bars: int = len(NETS)
    header_lines: int = 2
    font_size: int = 13
    pad: int = 4
    gap: int = 1  # between the frames of a panel

    @property
    def line(self) -> int:
        return self.font_size + 6

    @property
    def panel_size(self) -> Tuple[int, int]:
        h, w = self.frame_size
        n = self.frames_per_panel
        return h, n * w + (n - 1) * self.gap

    @property
    def tile_size(self) -> Tuple[int, int]:
        """``(H, W)`` of a tile: class line, two panels, the bars."""
        ph, pw = self.panel_size
        return (self.line + 2 * ph + 2 * self.pad
                + self.bars * (self.line + 1), pw)

    def stimulus_origin(self) -> Tuple[int, int]:
        """``(y, x)`` of the stimulus panel inside a tile."""
        return self.line, 0

    def synth_origin(self) -> Tuple[int, int]:
        """``(y, x)`` of the synthesized-video panel inside a tile."""
        return self.line + self.panel_size[0] + self.pad, 0

    def bar_origin(self, row: int) -> Tuple[int, int]:
        """``(y, x)`` of prediction bar ``row`` inside a tile."""
        return (self.line + 2 * self.panel_size[0] + 2 * self.pad
                + row * (self.line + 1), 0)

    def grid_size(self, num_tiles: int) -> Tuple[int, int]:
        """``(H, W)`` of a gallery of ``num_tiles`` tiles (with title), both
        even (H.264's 4:2:0 needs even sizes; the gif and mp4 then agree)."""
        rows = math.ceil(num_tiles / self.columns)
        cols = min(self.columns, num_tiles)
        th, tw = self.tile_size
        h = self.pad + self.header_lines * self.line + rows * (th + self.pad)
        w = self.pad + cols * (tw + self.pad)
        return h + h % 2, w + w % 2

    def tile_origin(self, index: int) -> Tuple[int, int]:
        """``(y, x)`` of tile ``index`` in the gallery."""
        th, tw = self.tile_size
        row, col = divmod(index, self.columns)
        return (self.pad + self.header_lines * self.line
                + row * (th + self.pad), self.pad + col * (tw + self.pad))


def _summary(jobs: Sequence[GalleryJob], total: Optional[int]) -> str:
    """Title line: job count and per-net top-1 counts."""
    counts = {}
    for job in jobs:
        for net, _, _, right in job.predictions:
            hits, seen = counts.get(net, (0, 0))
            counts[net] = (hits + right, seen + 1)
    shown = (f'{len(jobs)} of {total} jobs' if total and total > len(jobs)
             else f'{len(jobs)} jobs')
    scores = ', '.join(f'{net} {hits}/{seen} right'
                       for net, (hits, seen) in counts.items())
    return f'{shown}' + (f'; {scores}' if scores else '')


LEGEND = ('Each tile: target class, stimulus (top), synthesized video '
          '(bottom), one bar per network with its prediction: green = the '
          'target class, red = another.')


def _wrap(text: str, font, width: int) -> List[str]:
    """``text`` broken at spaces into lines of at most ``width`` pixels (a
    word longer than a line is cut)."""
    draw = ImageDraw.Draw(Image.new('RGB', (1, 1)))
    lines: List[str] = []
    for word in text.split():
        if lines and draw.textlength(f'{lines[-1]} {word}',
                                     font=font) <= width:
            lines[-1] += f' {word}'
        else:
            lines.append(_fit(draw, word, font, width))
    return lines


def gallery_header(jobs: Sequence[GalleryJob], layout: GalleryLayout,
                   title: str, total: Optional[int] = None) -> List[str]:
    """The text lines above the tiles (title; counts and legend wrapped to
    the grid's width)."""
    width = layout.grid_size(len(jobs))[1] - 2 * layout.pad
    font = _font(layout.font_size)
    return (_wrap(title, font, width)
            + _wrap(f'{_summary(jobs, total)}. {LEGEND}', font, width))


def _canvas(jobs: Sequence[GalleryJob], layout: GalleryLayout,
            header: Sequence[str]) -> np.ndarray:
    """The still part of the gallery (texts, bars, blank panels), ``(H, W,
    3)`` uint8."""
    height, width = layout.grid_size(len(jobs))
    image = Image.new('RGB', (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    font = _font(layout.font_size)
    tw = layout.tile_size[1]
    for row, line in enumerate(header):
        draw.text((layout.pad, layout.pad + row * layout.line + 2), line,
                  font=font, fill=TEXT_COLOUR)
    for index, job in enumerate(jobs):
        y0, x0 = layout.tile_origin(index)
        draw.text((x0 + 1, y0 + 2),
                  _fit(draw, f'{job.job_id[:5]} {job.target_name}', font,
                       tw - 2), font=font, fill=TEXT_COLOUR)
        if job.stimulus is None:
            y, x = layout.stimulus_origin()
            ph, pw = layout.panel_size
            draw.rectangle((x0 + x, y0 + y, x0 + x + pw - 1, y0 + y + ph - 1),
                           fill=MISSING_COLOUR)
            draw.text((x0 + x + 4, y0 + y + 4), 'stimulus missing',
                      font=font, fill=TEXT_COLOUR)
        for row, (net, name, prob, right) in enumerate(
                job.predictions[:layout.bars]):
            y, x = layout.bar_origin(row)
            draw.rectangle((x0 + x, y0 + y, x0 + x + tw - 1,
                            y0 + y + layout.line - 1),
                           fill=RIGHT_COLOUR if right else WRONG_COLOUR)
            share = '' if math.isnan(prob) else f'{prob:.0%}'
            room = tw - 6
            if share:  # right-aligned, so a long class name is what is cut
                room -= int(draw.textlength(share, font=font)) + 4
                draw.text((x0 + x + tw - 3, y0 + y + 3), share, font=font,
                          fill=BAR_TEXT_COLOUR, anchor='ra')
            draw.text((x0 + x + 3, y0 + y + 3),
                      _fit(draw, f'{net}: {name}', font, room),
                      font=font, fill=BAR_TEXT_COLOUR)
    return np.asarray(image).copy()


def _crop_to(frames: np.ndarray, aspect: float) -> np.ndarray:
    """Centre crop ``(T, H, W, 3)`` frames to width / height ``aspect`` (the
    synthesized video's; the test pipeline crops the stimulus likewise)."""
    _, h, w, _ = frames.shape
    if w / h > aspect:
        new_w = max(1, round(h * aspect))
        x = (w - new_w) // 2
        return frames[:, :, x:x + new_w]
    new_h = max(1, round(w / aspect))
    y = (h - new_h) // 2
    return frames[:, y:y + new_h]


def _frames_at(video: np.ndarray, indices: np.ndarray,
               size: Tuple[int, int]) -> np.ndarray:
    """``video[indices]`` resized to ``size`` = (H, W): nearest neighbour
    when enlarging (pixels stay sharp), area when shrinking."""
    h, w = size
    out = np.empty((len(indices), h, w, 3), np.uint8)
    for i, t in enumerate(indices):
        frame = video[t]
        shrink = h * w < frame.shape[0] * frame.shape[1]
        out[i] = (frame if frame.shape[:2] == (h, w) else cv2.resize(
            frame, (w, h), interpolation=cv2.INTER_AREA if shrink
            else cv2.INTER_NEAREST))
    return out


def _sample(length: int, count: int) -> np.ndarray:
    return np.round(np.linspace(0, length - 1, count)).astype(int)


def render_gallery(jobs: Sequence[GalleryJob], layout: GalleryLayout,
                   num_frames: int, header: Sequence[str] = ()
                   ) -> np.ndarray:
    """The gallery of ``jobs`` as ``(num_frames, H, W, 3)`` uint8 (``H, W``
    = ``layout.grid_size(len(jobs))``; ``header`` at most
    ``layout.header_lines`` lines). Output frame ``i`` shows, in every
    panel, ``layout.frames_per_panel`` frames of each video; with one frame
    per panel they play (each video sampled evenly to ``num_frames``), with
    several they are evenly spaced stills (then ``num_frames`` is 1)."""
    if not jobs:
        raise ValueError('render_gallery needs at least one job')
    canvas = _canvas(jobs, layout, list(header)[:layout.header_lines])
    out = np.repeat(canvas[None], num_frames, axis=0)
    n, (fh, fw), gap = layout.frames_per_panel, layout.frame_size, layout.gap
    aspect = jobs[0].synth.shape[2] / jobs[0].synth.shape[1]
    for index, job in enumerate(jobs):
        y0, x0 = layout.tile_origin(index)
        videos = [(layout.synth_origin(), job.synth)]
        if job.stimulus is not None:
            videos.append((layout.stimulus_origin(),
                           _crop_to(job.stimulus, aspect)))
        for (y, x), video in videos:
            if n == 1:
                picks = _sample(len(video), num_frames)[:, None]
            else:
                picks = np.broadcast_to(_sample(len(video), n),
                                        (num_frames, n))
            frames = _frames_at(video, np.unique(picks), (fh, fw))
            lookup = {t: k for k, t in enumerate(np.unique(picks))}
            for i in range(num_frames):
                for c in range(n):
                    left = x0 + x + c * (fw + gap)
                    out[i, y0 + y:y0 + y + fh, left:left + fw] = frames[
                        lookup[picks[i, c]]]
    return out


def _columns(layout: GalleryLayout, num_tiles: int,
             aspect: float = 16 / 9, most: int = 12) -> int:
    """Tiles per row (at most ``most``) that bring the grid closest to
    width / height ``aspect`` (a screen), with few empty places."""
    def error(cols: int) -> float:
        h, w = replace(layout, columns=cols).grid_size(num_tiles)
        empty = -num_tiles % cols
        return abs(math.log(w / h / aspect)) + empty / num_tiles
    return min(range(1, min(most, num_tiles) + 1), key=error)


def _write_png(path: str, image: np.ndarray) -> None:
    """Write an ``(H, W, 3)`` RGB uint8 image as PNG, atomically."""
    ok, buf = cv2.imencode('.png', np.ascontiguousarray(image[..., ::-1]))
    if not ok:
        raise ValueError(f'PNG encoding failed for {path}')
    with atomic_path(path) as tmp, open(tmp, 'wb') as file:
        file.write(buf.tobytes())


def write_sweep_gallery(work_dir: str, out_dir: Optional[str] = None,
                        fps: float = 8, frame_side: int = 160,
                        sheet_frames: int = 4, sheet_side: int = 96,
                        columns: Optional[int] = None, max_jobs: int = 64,
                        title: Optional[str] = None) -> Dict[str, str]:
    """Write the gallery of ``work_dir``'s finished jobs into ``out_dir``
    (default ``work_dir``); return ``{'png' | 'gif' | 'mp4': path}``, empty
    when no job has finished.

    Args:
        fps: frame rate of the animation.
        frame_side: short side of a frame in the animation (x* is scaled by
            nearest neighbour, the stimulus cropped to x*'s aspect).
        sheet_frames: frames per panel in the contact sheet.
        sheet_side: short side of a frame in the contact sheet.
        columns: tiles per row (default: the grid closest to 16:9 with few
            empty places, at most 12 wide).
        max_jobs: at most this many tiles, the first jobs in job order (the
            title says how many there are).
        title: the first line (default: the work dir's name).
    """
    out_dir = out_dir or work_dir
    total = len(finished_jobs(work_dir))
    jobs = load_gallery_jobs(work_dir, max_jobs)
    if not jobs:
        return {}
    title = title or f'LEAPS sweep {osp.basename(osp.abspath(work_dir))}'
    h, w = jobs[0].synth.shape[1:3]

    def size(side: int) -> Tuple[int, int]:
        scale = side / min(h, w)
        return max(1, round(h * scale)), max(1, round(w * scale))

    bars = max(len(job.predictions) for job in jobs)
    num_frames = max(len(job.synth) for job in jobs)

    def layout(side: int, frames: int) -> Tuple[GalleryLayout, List[str]]:
        plan = GalleryLayout(size(side), frames, 1, bars)
        plan = replace(plan, columns=columns or _columns(plan, len(jobs)))
        header = gallery_header(jobs, plan, title, total)
        return replace(plan, header_lines=len(header)), header

    plan, header = layout(frame_side, 1)
    animation = render_gallery(jobs, plan, num_frames, header)
    plan, header = layout(sheet_side, sheet_frames)
    sheet = render_gallery(jobs, plan, 1, header)[0]
    paths = {kind: osp.join(out_dir, name)
             for kind, name in GALLERY_FILES.items()}
    os.makedirs(out_dir, exist_ok=True)
    _write_png(paths['png'], sheet)
    write_gif(paths['gif'], animation, fps=fps)
    write_mp4(paths['mp4'], animation, fps=fps)
    return paths
