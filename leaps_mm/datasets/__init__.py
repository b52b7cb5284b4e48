from .motion_dataset import MotionDataset, MotionEpochHook
from .stimulus_dataset import (KINETICS400_CLASSES, StimulusDataset,
                               resolve_class, stimulus_pipeline)
from .video_transforms import StimulusVideoDecode, StimulusVideoInit

__all__ = ['KINETICS400_CLASSES', 'MotionDataset', 'MotionEpochHook',
           'StimulusDataset', 'StimulusVideoDecode', 'StimulusVideoInit',
           'resolve_class',
           'stimulus_pipeline']
