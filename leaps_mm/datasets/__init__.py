from .motion_dataset import MotionDataset, MotionEpochHook
from .stimulus_dataset import (KINETICS400_CLASSES, StimulusDataset,
                               resolve_class, stimulus_pipeline)

__all__ = ['KINETICS400_CLASSES', 'MotionDataset', 'MotionEpochHook',
           'StimulusDataset', 'resolve_class',
           'stimulus_pipeline']
