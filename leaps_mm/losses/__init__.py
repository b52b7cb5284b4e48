from .base import InversionState, LossTerm
from .classification import ClassificationLoss, LogitMaximization
from .coherence import TemporalCoherenceLoss
from .distances import DISTANCES, jaccard_similarity
from .diversity import FeatureDiversityLoss
from .input_priors import InputNormLoss, TotalVariationLoss
from .priming import PrimingLoss, resolve_layer_weights
from .still_frame import StillFrameLoss

__all__ = [
    'InversionState', 'LossTerm', 'ClassificationLoss', 'LogitMaximization',
    'TemporalCoherenceLoss', 'DISTANCES', 'jaccard_similarity',
    'FeatureDiversityLoss', 'InputNormLoss', 'TotalVariationLoss',
    'PrimingLoss', 'resolve_layer_weights', 'StillFrameLoss'
]
