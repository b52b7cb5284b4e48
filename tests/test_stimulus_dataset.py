import os.path as osp

import pytest
import torch

from conftest import STIMULI
from leaps_mm.datasets import (KINETICS400_CLASSES, StimulusDataset,
                               resolve_class, stimulus_pipeline)

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
    assert kinds == ['PyAVInit', 'SampleFrames', 'PyAVDecode', 'Resize',
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
