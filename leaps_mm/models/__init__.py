from .branch_scaling import RandomBranchScaling
from .inverter import LEAPSInverter, build_frozen_recognizer
from .taps import FeatureTaps, TokenGrid

__all__ = ['LEAPSInverter', 'build_frozen_recognizer', 'FeatureTaps',
           'TokenGrid', 'RandomBranchScaling']
from .adversarial import AdversarialRecognizer3D  # noqa: E402
from .wrappers import IndependentJobsWrapper  # noqa: E402

__all__ += ['AdversarialRecognizer3D', 'IndependentJobsWrapper']
