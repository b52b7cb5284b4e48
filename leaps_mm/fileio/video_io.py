"""Small, dependable video I/O over PyAV.

Videos are ``uint8`` numpy arrays shaped ``(T, H, W, 3)`` in RGB order.
Every writer is atomic: it writes a temporary file next to the target and
moves it into place with :func:`os.replace`, so the target either appears
complete or not at all.
"""
from __future__ import annotations

import functools
import os
from fractions import Fraction
from typing import Iterator, Sequence

import av
import cv2
import numpy as np

from leaps_mm.fileio.atomic import atomic_path

__all__ = [
    'VideoReadError',
    'count_frames',
    'iter_frames',
    'open_video',
    'read_video',
    'write_gif',
    'write_mp4',
    'write_strip',
]

# x264 settings that make the encoder a pure function of its input frames.
_X264_DETERMINISTIC = ('rc-lookahead=0:mbtree=0:b-adapt=0:scenecut=0:'
                       'weightp=0:sync-lookahead=0:sliced-threads=0')


class VideoReadError(ValueError):
    """A file could not be read as a video (missing, not a video, empty)."""


def _check_video(frames: np.ndarray) -> np.ndarray:
    """Return ``frames`` as a C-contiguous (T, H, W, 3) uint8 array."""
    arr = np.asarray(frames)
    if arr.ndim != 4 or arr.shape[-1] != 3:
        raise ValueError(
            f'expected a video shaped (T, H, W, 3), got shape {arr.shape}')
    if arr.dtype != np.uint8:
        raise ValueError(f'expected dtype uint8, got {arr.dtype}')
    if min(arr.shape[:3]) < 1:
        raise ValueError(f'video has an empty dimension: shape {arr.shape}')
    return np.ascontiguousarray(arr)


def _as_rate(fps: float | Fraction) -> Fraction:
    rate = Fraction(fps).limit_denominator(1001)
    if rate <= 0:
        raise ValueError(f'fps must be positive, got {fps}')
    return rate


def _pad_even(frames: np.ndarray) -> np.ndarray:
    """Pad height/width to even sizes by replicating the last row/column."""
    _, h, w, _ = frames.shape
    if h % 2 == 0 and w % 2 == 0:
        return frames
    return np.pad(frames, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)),
                  mode='edge')


def write_mp4(path: str | os.PathLike,
              frames: np.ndarray,
              fps: float = 8,
              crf: int = 18) -> None:
    """Write ``frames`` as an H.264 (yuv420p) mp4, byte-identical for equal
    input. Odd heights/widths are padded by one replicated row/column."""
    video = _pad_even(_check_video(frames))
    rate = _as_rate(fps)
    _, h, w, _ = video.shape
    with atomic_path(path) as tmp:
        with av.open(tmp, mode='w', format='mp4') as container:
            stream = container.add_stream(
                'libx264',
                rate=rate,
                options={
                    'crf': str(crf),
                    'preset': 'medium',
                    'threads': '1',
                    'x264-params': _X264_DETERMINISTIC,
                })
            stream.width, stream.height = w, h
            stream.pix_fmt = 'yuv420p'
            stream.time_base = 1 / rate
            stream.codec_context.time_base = 1 / rate
            for i, img in enumerate(video):
                frame = av.VideoFrame.from_ndarray(img, format='rgb24')
                frame = frame.reformat(format='yuv420p')
                frame.pts = i
                frame.time_base = 1 / rate
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode(None):
                container.mux(packet)


def _gif_palette() -> np.ndarray:
    """Fixed 256-colour RGB palette: a 6x6x6 colour cube plus 40 grays."""
    levels = np.arange(6, dtype=np.uint8) * 51
    cube = np.stack(np.meshgrid(levels, levels, levels, indexing='ij'),
                    axis=-1).reshape(-1, 3)
    gray_levels = np.setdiff1d(
        np.round(np.linspace(0, 255, 48)).astype(np.uint8), levels)[:40]
    grays = np.repeat(gray_levels[:, None], 3, axis=1)
    palette = np.concatenate([cube, grays]).astype(np.uint8)
    if len(palette) < 256:  # fill unused slots with black
        palette = np.concatenate(
            [palette, np.zeros((256 - len(palette), 3), np.uint8)])
    return palette


@functools.lru_cache(maxsize=1)
def _gif_lut() -> tuple[np.ndarray, np.ndarray]:
    """Palette and a 32x32x32 lookup table from 5-bit RGB to palette index."""
    palette = _gif_palette().astype(np.int32)
    centres = np.arange(32, dtype=np.int32) * 8 + 4
    grid = np.stack(np.meshgrid(centres, centres, centres, indexing='ij'),
                    axis=-1).reshape(-1, 1, 3)
    dist = ((grid - palette[None]) ** 2).sum(-1)
    lut = dist.argmin(axis=1).astype(np.uint8).reshape(32, 32, 32)
    return palette.astype(np.uint8), lut


def _quantize(img: np.ndarray) -> np.ndarray:
    """Map an (H, W, 3) RGB image to (H, W) palette indices."""
    _, lut = _gif_lut()
    q = img >> 3
    return lut[q[..., 0], q[..., 1], q[..., 2]]


def write_gif(path: str | os.PathLike,
              frames: np.ndarray,
              fps: float = 8) -> None:
    """Write ``frames`` as an endlessly looping GIF (fixed 256-colour
    palette; frame delays are rounded to centiseconds)."""
    video = _check_video(frames)
    rate = _as_rate(fps)
    _, h, w, _ = video.shape
    palette, _ = _gif_lut()
    argb = np.concatenate(
        [np.full((256, 1), 255, np.uint8), palette], axis=1)
    time_base = Fraction(1, 100)
    with atomic_path(path) as tmp:
        with av.open(tmp, mode='w', format='gif',
                     container_options={'loop': '0'}) as container:
            stream = container.add_stream('gif', rate=rate)
            stream.width, stream.height = w, h
            stream.pix_fmt = 'pal8'
            stream.time_base = time_base
            stream.codec_context.time_base = time_base
            for i, img in enumerate(video):
                frame = av.VideoFrame.from_ndarray((_quantize(img), argb),
                                                   format='pal8')
                frame.pts = round(i / rate / time_base)
                frame.time_base = time_base
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode(None):
                container.mux(packet)


def _resize(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize an (H, W, 3) image to ``size`` = (H, W): area when shrinking,
    nearest when enlarging."""
    h, w = size
    if img.shape[:2] == (h, w):
        return img
    shrink = h * w < img.shape[0] * img.shape[1]
    interp = cv2.INTER_AREA if shrink else cv2.INTER_NEAREST
    return cv2.resize(img, (w, h), interpolation=interp)


def _sample_indices(length: int, count: int) -> np.ndarray:
    """``count`` evenly spaced frame indices into ``length`` frames."""
    return np.round(np.linspace(0, length - 1, count)).astype(int)


def write_strip(path: str | os.PathLike,
                rows: Sequence[np.ndarray],
                num_frames: int | None = None,
                frame_size: tuple[int, int] | None = None,
                gap: int = 2) -> None:
    """Write a PNG with one row per video, frames side by side.

    Every row is sampled evenly to ``num_frames`` (default: the smallest
    frame count) and resized to ``frame_size`` = (H, W) (default: the first
    row's size). ``gap`` white pixels separate frames and rows.
    """
    videos = [_check_video(v) for v in rows]
    if not videos:
        raise ValueError('write_strip needs at least one row')
    n = num_frames or min(len(v) for v in videos)
    h, w = frame_size or videos[0].shape[1:3]
    if n < 1 or h < 1 or w < 1 or gap < 0:
        raise ValueError('num_frames, frame_size must be positive, gap >= 0')
    canvas = np.full((len(videos) * (h + gap) - gap,
                      n * (w + gap) - gap, 3), 255, np.uint8)
    for r, video in enumerate(videos):
        for c, t in enumerate(_sample_indices(len(video), n)):
            y, x = r * (h + gap), c * (w + gap)
            canvas[y:y + h, x:x + w] = _resize(video[t], (h, w))
    ok, buf = cv2.imencode('.png', canvas[..., ::-1])
    if not ok:
        raise ValueError(f'PNG encoding failed for {os.fspath(path)}')
    with atomic_path(path) as tmp:
        with open(tmp, 'wb') as f:
            f.write(buf.tobytes())


def tile_videos(grid: Sequence[Sequence[np.ndarray]],
                num_frames: int,
                frame_size: tuple[int, int],
                gap: int = 2) -> np.ndarray:
    """Play several videos at once: ``grid[r][c]`` (each ``T,H,W,3`` uint8)
    sampled evenly to ``num_frames`` and resized to ``frame_size`` = (H, W),
    tiled with ``gap`` white pixels; returns ``(num_frames, H', W', 3)``."""
    rows = [[_check_video(v) for v in row] for row in grid]
    cols = max((len(row) for row in rows), default=0)
    if not rows or not cols or num_frames < 1:
        raise ValueError('tile_videos needs at least one video and frame')
    h, w = frame_size
    out = np.full((num_frames, len(rows) * (h + gap) - gap,
                   cols * (w + gap) - gap, 3), 255, np.uint8)
    for r, row in enumerate(rows):
        for c, video in enumerate(row):
            y, x = r * (h + gap), c * (w + gap)
            for i, t in enumerate(_sample_indices(len(video), num_frames)):
                out[i, y:y + h, x:x + w] = _resize(video[t], (h, w))
    return out


_READ_ADVICE = ('give a video file FFmpeg can decode, or re-encode it, e.g. '
                '`ffmpeg -i IN -c:v libx264 -pix_fmt yuv420p OUT.mp4`')


def open_video(path: str | os.PathLike) -> 'av.container.InputContainer':
    """Open ``path`` for decoding its first video stream; raise
    :class:`VideoReadError` naming the file and what to do when it is
    missing, not a regular file, not a media file or has no video stream.
    The caller closes the returned container."""
    name = os.fspath(path)
    if not os.path.exists(name):
        raise VideoReadError(f'video file not found: {name!r}; check the path')
    if not os.path.isfile(name):
        raise VideoReadError(
            f'not a regular file: {name!r}; give a video file')
    try:
        container = av.open(name, mode='r')
    except Exception as exc:  # FFmpeg, OS and PyAV errors of every kind
        raise VideoReadError(
            f'cannot read {name!r} as a video ({_reason(exc)}); '
            f'{_READ_ADVICE}') from exc
    if not container.streams.video:
        container.close()
        raise VideoReadError(f'no video stream in {name!r} (audio or data '
                             f'only?); {_READ_ADVICE}')
    return container


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def count_frames(container: 'av.container.InputContainer') -> int:
    """Frames in the first video stream: the container's count, or, where
    the container keeps none (mkv, webm, raw streams), the number of
    non-empty packets (demuxed, not decoded). The container is rewound."""
    stream = container.streams.video[0]
    if stream.frames > 0:
        return int(stream.frames)
    try:
        count = sum(1 for packet in container.demux(stream) if packet.size)
    except Exception as exc:
        raise VideoReadError(
            f'cannot read {container.name!r} as a video ({_reason(exc)}); '
            f'{_READ_ADVICE}') from exc
    container.seek(0)
    return count


def iter_frames(container: 'av.container.InputContainer',
                limit: int | None = None) -> Iterator[np.ndarray]:
    """Decode the first video stream as (H, W, 3) uint8 RGB frames (any
    pixel format: grayscale, palette, alpha and 4:4:4 become RGB), at most
    ``limit``; a decoding failure is a :class:`VideoReadError`."""
    name = container.name
    count = 0
    try:
        for frame in container.decode(container.streams.video[0]):
            if limit is not None and count >= limit:
                return
            yield frame.to_ndarray(format='rgb24')
            count += 1
    except VideoReadError:
        raise
    except Exception as exc:  # damaged data inside the stream
        raise VideoReadError(
            f'video {name!r} is damaged: decoding failed after {count} '
            f'frames ({_reason(exc)}); {_READ_ADVICE}') from exc


def read_video(path: str | os.PathLike) -> np.ndarray:
    """Decode every frame of the first video stream as (T, H, W, 3) uint8
    RGB; raise :class:`VideoReadError` naming the file on any failure."""
    name = os.fspath(path)
    with open_video(name) as container:
        frames = list(iter_frames(container))
    if not frames:
        raise VideoReadError(f'video {name!r} has zero frames; {_READ_ADVICE}')
    return np.stack(frames)
