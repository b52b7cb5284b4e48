"""Tests for leaps_mm.fileio.video_io (tiny videos, fast)."""
from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import av
import cv2
import numpy as np
import pytest

from conftest import REPO, STIMULI, run_tool
from leaps_mm.fileio import video_io
from leaps_mm.fileio.video_io import (VideoReadError, read_video,
                                             write_gif, write_mp4,
                                             write_strip)


def smooth_video(t: int = 6, h: int = 32, w: int = 48,
                 seed: int = 0) -> np.ndarray:
    """A smooth, moving colour pattern (compresses well, low codec error)."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    phase = rng.uniform(0, 2 * np.pi, size=3)
    frames = []
    for i in range(t):
        chans = [
            128 + 90 * np.sin((xs + 2 * i) / 9.0 + phase[0]),
            128 + 90 * np.cos((ys - i) / 7.0 + phase[1]),
            128 + 90 * np.sin((xs + ys + 3 * i) / 13.0 + phase[2]),
        ]
        frames.append(np.stack(chans, axis=-1))
    return np.clip(np.stack(frames), 0, 255).astype(np.uint8)


def mae(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).mean())


def test_mp4_round_trip(tmp_path: Path) -> None:
    video = smooth_video()
    path = tmp_path / 'clip.mp4'
    write_mp4(path, video, fps=8)
    back = read_video(path)
    assert back.shape == video.shape and back.dtype == np.uint8
    assert mae(back, video) < 6.0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == 'h264'
        assert stream.average_rate == 8


def test_mp4_byte_identical(tmp_path: Path) -> None:
    video = smooth_video(t=10)
    write_mp4(tmp_path / 'a.mp4', video)
    write_mp4(tmp_path / 'b.mp4', video)
    data_a = (tmp_path / 'a.mp4').read_bytes()
    assert data_a == (tmp_path / 'b.mp4').read_bytes()
    write_mp4(tmp_path / 'c.mp4', smooth_video(t=10, seed=1))
    assert data_a != (tmp_path / 'c.mp4').read_bytes()


def test_mp4_odd_size_is_edge_padded(tmp_path: Path) -> None:
    video = smooth_video(t=4, h=15, w=17)
    write_mp4(tmp_path / 'odd.mp4', video)
    back = read_video(tmp_path / 'odd.mp4')
    assert back.shape == (4, 16, 18, 3)
    assert mae(back[:, :15, :17], video) < 6.0


def test_gif_readable(tmp_path: Path) -> None:
    video = smooth_video(t=5, h=15, w=17)
    path = tmp_path / 'clip.gif'
    write_gif(path, video, fps=8)
    back = read_video(path)
    assert back.shape == video.shape
    assert mae(back, video) < 30.0
    # NETSCAPE2.0 application extension with loop count 0 (= forever).
    assert b'NETSCAPE2.0\x03\x01\x00\x00' in path.read_bytes()


def test_strip_handles_mixed_rows(tmp_path: Path) -> None:
    top = smooth_video(t=8, h=20, w=24)
    bottom = smooth_video(t=5, h=40, w=30, seed=3)
    path = tmp_path / 'strip.png'
    write_strip(path, [top, bottom], gap=2)
    image = cv2.imread(str(path))[..., ::-1]
    assert image.shape == (2 * 20 + 2, 5 * 24 + 4 * 2, 3)
    # First row keeps its size: sampled frames are copied exactly.
    assert np.array_equal(image[:20, :24], top[0])
    assert np.array_equal(image[:20, -24:], top[-1])
    assert (image[20:22] == 255).all()


@pytest.mark.parametrize('writer,name', [(write_mp4, 'x.mp4'),
                                         (write_gif, 'x.gif')])
def test_writers_are_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                            writer, name: str) -> None:
    seen_during_write: list[list[str]] = []
    calls = {'n': 0}

    def flaky_from_ndarray(*args, **kwargs):
        calls['n'] += 1
        seen_during_write.append(sorted(os.listdir(tmp_path)))
        if calls['n'] == 3:
            raise RuntimeError('simulated failure mid-write')
        return av.VideoFrame.from_ndarray(*args, **kwargs)

    fake_av = SimpleNamespace(
        open=av.open,
        FFmpegError=av.FFmpegError,
        VideoFrame=SimpleNamespace(from_ndarray=flaky_from_ndarray))
    monkeypatch.setattr(video_io, 'av', fake_av)
    with pytest.raises(RuntimeError, match='simulated'):
        writer(tmp_path / name, smooth_video())
    # The temporary file existed while writing ...
    assert any(f.endswith('.tmp') for f in seen_during_write[-1])
    # ... and nothing at all is left behind.
    assert os.listdir(tmp_path) == []


def test_failed_write_keeps_previous_file(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    path = tmp_path / 'strip.png'
    write_strip(path, [smooth_video()])
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError('simulated rename failure')

    monkeypatch.setattr(video_io.os, 'replace', broken_replace)
    with pytest.raises(OSError, match='simulated'):
        write_strip(path, [smooth_video(seed=5)])
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ['strip.png']


def test_invalid_input_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match='uint8'):
        write_mp4(tmp_path / 'f.mp4', smooth_video().astype(np.float32))
    with pytest.raises(ValueError, match='shaped'):
        write_gif(tmp_path / 'f.gif', smooth_video()[..., 0])
    assert os.listdir(tmp_path) == []


def test_read_missing_file(tmp_path: Path) -> None:
    path = tmp_path / 'nope.mp4'
    with pytest.raises(VideoReadError, match='not found') as info:
        read_video(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_read_text_file_named_mp4(tmp_path: Path) -> None:
    path = tmp_path / 'fake.mp4'
    path.write_text('this is not a video\n' * 20)
    with pytest.raises(VideoReadError) as info:
        read_video(path)
    assert str(path) in str(info.value)


def test_read_truncated_and_empty(tmp_path: Path) -> None:
    good = tmp_path / 'good.mp4'
    write_mp4(good, smooth_video())
    cut = tmp_path / 'cut.mp4'
    cut.write_bytes(good.read_bytes()[:200])
    empty = tmp_path / 'empty.mp4'
    empty.write_bytes(b'')
    for path in (cut, empty):
        with pytest.raises(VideoReadError, match=str(path.name)):
            read_video(path)


def test_written_files_honour_umask(tmp_path: Path) -> None:
    umask = os.umask(0)
    os.umask(umask)
    path = tmp_path / 'clip.mp4'
    write_mp4(path, smooth_video())
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def load_showcase():
    import importlib.util
    import sys
    tools = str(Path(REPO) / 'tools')
    if tools not in sys.path:  # its _argtypes helper
        sys.path.insert(0, tools)
    spec = importlib.util.spec_from_file_location(
        'showcase', Path(REPO) / 'tools' / 'showcase.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tile_videos_places_each_video_in_its_cell():
    from leaps_mm.fileio.video_io import tile_videos
    red = np.zeros((4, 8, 8, 3), np.uint8)
    red[..., 0] = 200
    ramp = np.stack([np.full((6, 6, 3), 40 * t, np.uint8) for t in range(6)])
    tiled = tile_videos([[red, ramp], [ramp]], num_frames=3,
                        frame_size=(8, 8), gap=2)
    assert tiled.shape == (3, 18, 18, 3)
    assert (tiled[:, :8, :8] == [200, 0, 0]).all()
    # the 6-frame ramp sampled to 3 frames: frames 0, 2 (2.5 rounds), 5
    assert [int(tiled[i, 0, 10, 0]) for i in range(3)] == [0, 80, 200]
    assert (tiled[:, 8:10] == 255).all()  # the gap row
    assert (tiled[:, 10:, 10:] == 255).all()  # no video in cell (1, 1)


def test_showcase_puts_stimuli_above_synthesized_videos(tmp_path):
    import json

    from leaps_mm.fileio.video_io import read_video
    showcase = load_showcase()
    stimuli = sorted(Path(STIMULI).glob('*/0.mp4'))[:2]
    for index, stimulus in enumerate(stimuli):
        job = tmp_path / f'{index:05d}_job'
        job.mkdir()
        np.save(job / 'synth.npy', np.full((16, 64, 64, 3), 30 * index,
                                           np.uint8))
        (job / 'result.json').write_text(json.dumps(
            dict(target_index=index, stimulus=str(stimulus))))
    out = tmp_path / 'show.gif'
    result = run_tool(showcase.main, [str(tmp_path), '--out',
                                      str(out), '--scale', '1'])
    assert result.exit_code == 0, result.output
    frames = read_video(out)
    assert frames.shape[1:] == (2 * 64 + 2, 2 * 64 + 2, 3)
    first = read_video(stimuli[0])[0].astype(int)
    assert np.abs(frames[0, :64, :64].astype(int) - first).mean() < 12
    assert np.abs(frames[0, 66:, 66:].astype(int) - 30).max() < 12


def test_showcase_says_when_there_is_nothing_to_show(tmp_path):
    showcase = load_showcase()
    result = run_tool(showcase.main, [str(tmp_path), '--out',
                                      str(tmp_path / 'x.gif')])
    assert result.exit_code != 0
    assert 'no finished jobs' in result.output
