import os.path as osp
from typing import Optional

import av
import numpy as np
import pytest
import torch

from conftest import STIMULI
from leaps_mm.datasets import (KINETICS400_CLASSES, StimulusDataset,
                               resolve_class, stimulus_pipeline)
from leaps_mm.fileio.video_io import VideoReadError

SWIN_TEST_PIPELINE = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=32, frame_interval=2, num_clips=4,
         test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 224)),
    dict(type='ThreeCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]


def test_test_pipeline_becomes_one_pyav_clip():
    pipeline = stimulus_pipeline(SWIN_TEST_PIPELINE)
    kinds = [step['type'] for step in pipeline]
    assert kinds == ['StimulusVideoInit', 'SampleFrames',
                     'StimulusVideoDecode', 'Resize',
                     'CenterCrop', 'FormatShape', 'PackActionInputs']
    assert pipeline[1]['num_clips'] == 1 and pipeline[1]['clip_len'] == 32
    assert pipeline[4]['crop_size'] == 224
    assert 'filename' in pipeline[-1]['meta_keys']
    assert SWIN_TEST_PIPELINE[1]['num_clips'] == 4  # the input is untouched


def test_dataset_decodes_stimuli_like_the_test_pipeline():
    pipeline = [dict(step) for step in SWIN_TEST_PIPELINE]
    pipeline[1].update(clip_len=8, frame_interval=1)
    pipeline[3]['scale'] = (-1, 40)
    pipeline[4]['crop_size'] = 40
    dataset = StimulusDataset(
        ann_file=osp.join(STIMULI, 'stimuli.txt'),
        data_prefix=dict(video=STIMULI), pipeline=pipeline,
        classes=osp.join(STIMULI, 'classes.txt'))
    assert len(dataset) == 16
    sample = dataset[5]
    assert sample['inputs'].shape == (1, 3, 8, 40, 40)
    assert sample['inputs'].dtype == torch.uint8
    assert int(sample['data_samples'].gt_label) == 2
    assert sample['data_samples'].metainfo['filename'].endswith('.mp4')


def test_class_names_indices_and_suggestions():
    with open(KINETICS400_CLASSES) as file:
        kinetics = [line.strip() for line in file]
    assert len(kinetics) == 400
    assert resolve_class('riding a bike', kinetics) == kinetics.index(
        'riding a bike')
    assert resolve_class('Riding_A_Bike', kinetics) == kinetics.index(
        'riding a bike')
    assert resolve_class('7', kinetics) == 7 and resolve_class(3, []) == 3
    with pytest.raises(ValueError, match="Closest: .*'riding a bike'"):
        resolve_class('riding a bicycle', kinetics)
    with pytest.raises(ValueError, match='out of range'):
        resolve_class(400, kinetics)


def test_missing_stimulus_names_the_file(tmp_path):
    ann = tmp_path / 'jobs.txt'
    ann.write_text('gone.mp4 0\n')
    with pytest.raises(FileNotFoundError, match='gone.mp4'):
        StimulusDataset(ann_file=str(ann), pipeline=SWIN_TEST_PIPELINE)
    ann.write_text('only_a_path_and no label\n')
    with pytest.raises(ValueError, match='jobs.txt:1'):
        StimulusDataset(ann_file=str(ann), pipeline=SWIN_TEST_PIPELINE)


# --- stimulus edge cases: every file is written here with PyAV -------------
DEMO_PIPELINE = [
    dict(type='PyAVInit'),
    dict(type='SampleFrames', clip_len=16, frame_interval=1, num_clips=1,
         test_mode=True),
    dict(type='PyAVDecode'),
    dict(type='Resize', scale=(-1, 64)),
    dict(type='CenterCrop', crop_size=64),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]


def encode(path, frames: np.ndarray, codec: str = 'ffv1',
           pix_fmt: str = 'yuv444p', fmt: str = 'matroska',
           options: Optional[dict] = None) -> str:
    """Write ``frames`` (T,H,W) gray or (T,H,W,3) RGB with PyAV."""
    with av.open(str(path), 'w', format=fmt, options=options or {}) as out:
        stream = out.add_stream(codec, rate=8)
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = pix_fmt
        for i, img in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(
                img, format='gray' if img.ndim == 2 else 'rgb24')
            frame = frame.reformat(format=pix_fmt)
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return str(path)


def one_clip(path: str, pipeline=DEMO_PIPELINE) -> torch.Tensor:
    dataset = StimulusDataset(stimuli=[dict(filename=path, label=0)],
                              pipeline=pipeline)
    return dataset[0]['inputs'][0]  # C,T,H,W uint8


def test_grayscale_mkv_becomes_rgb_with_every_frame(tmp_path):
    """A gray (single-channel) lossless mkv, whose container keeps no frame
    count (MMAction2's PyAVInit reads 0 and repeats frame 0), decodes to
    3 equal channels with its frames in order."""
    levels = np.arange(20, dtype=np.uint8) * 12
    frames = np.broadcast_to(levels[:, None, None], (20, 64, 64)).copy()
    path = encode(tmp_path / 'gray.mkv', frames, pix_fmt='gray')
    clip = one_clip(path)
    assert clip.shape == (3, 16, 64, 64)
    assert torch.equal(clip[0], clip[1]) and torch.equal(clip[0], clip[2])
    # test-mode SampleFrames centres the 16-frame clip: frames 2..17
    assert clip[0, :, 0, 0].tolist() == levels[2:18].tolist()


def test_short_video_loops_from_the_start(tmp_path):
    """Fewer frames than the clip spans: SampleFrames' default
    out_of_bound_opt='loop' takes frame indices modulo the frame count."""
    levels = np.array([0, 50, 100, 150, 200], np.uint8)
    frames = np.broadcast_to(levels[:, None, None, None],
                             (5, 64, 64, 3)).copy()
    clip = one_clip(encode(tmp_path / 'short.mkv', frames))
    assert clip[0, :, 0, 0].tolist() == [int(levels[t % 5])
                                         for t in range(16)]
    still = one_clip(encode(tmp_path / 'still.mkv', frames[:1]))
    assert (still == 0).all() and still.shape == (3, 16, 64, 64)


def test_odd_sized_frames_go_through_resize_and_crop(tmp_path):
    frames = np.random.default_rng(0).integers(0, 256, (16, 47, 63, 3),
                                               dtype=np.uint8)
    for name, codec, pix_fmt, fmt in (('odd.mkv', 'ffv1', 'yuv444p',
                                       'matroska'),
                                      ('odd.mp4', 'libx264', 'yuv444p', 'mp4'),
                                      ('odd.avi', 'mpeg4', 'yuv420p', 'avi')):
        clip = one_clip(encode(tmp_path / name, frames, codec, pix_fmt, fmt))
        assert clip.shape == (3, 16, 64, 64), name
        assert clip.float().std() > 20, name  # real content, not padding


def _bad_stimuli(tmp_path) -> dict:
    """Files that are not usable videos, with a part of their message."""
    text = tmp_path / 'notes.mp4'
    text.write_text('not a video\n' * 50)
    empty = tmp_path / 'empty.mp4'
    empty.write_bytes(b'')
    audio = tmp_path / 'tone.wav'
    with av.open(str(audio), 'w', format='wav') as out:
        stream = out.add_stream('pcm_s16le', rate=8000)
        frame = av.AudioFrame.from_ndarray(
            np.zeros((1, 800), np.int16), format='s16', layout='mono')
        frame.sample_rate = 8000
        for packet in stream.encode(frame):
            out.mux(packet)
    # a faststart mp4 cut right after its index: it announces 8 frames and
    # holds none
    frames = np.zeros((8, 32, 32, 3), np.uint8)
    whole = encode(tmp_path / 'whole.mp4', frames, 'libx264', 'yuv420p',
                   'mp4', options={'movflags': 'faststart'})
    data = open(whole, 'rb').read()
    hollow = tmp_path / 'hollow.mp4'
    hollow.write_bytes(data[:data.index(b'mdat') + 4])
    truncated = tmp_path / 'truncated.mp4'
    shipped = open(osp.join(STIMULI, 'expand', '0.mp4'), 'rb').read()
    truncated.write_bytes(shipped[:len(shipped) // 2])
    return {text: 'cannot read', empty: 'cannot read', audio: 'no video',
            hollow: 'no decodable frame', truncated: 'cannot read'}


def test_unusable_stimuli_are_one_clear_error(tmp_path):
    for path, message in _bad_stimuli(tmp_path).items():
        with pytest.raises(VideoReadError) as info:
            one_clip(str(path))
        text = str(info.value)
        assert str(path) in text and message in text, text
        assert 'ffmpeg -i' in text  # says what to do
        assert 'Traceback' not in text
