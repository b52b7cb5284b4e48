from .inverter import LEAPSInverter, build_frozen_recognizer
from .taps import FeatureTaps, TokenGrid

__all__ = ['LEAPSInverter', 'build_frozen_recognizer', 'FeatureTaps',
           'TokenGrid']
from .wrappers import IndependentJobsWrapper  # noqa: E402

__all__ += ['IndependentJobsWrapper']
