"""leaps_mm: LEAPS model inversion for MMAction2 video recognizers."""
from . import compat  # noqa: F401  (must run before mmaction.models)

import mmaction.models  # noqa: E402,F401  registers every recognizer

from . import losses, models  # noqa: E402,F401
from .registry import MODELS  # noqa: E402,F401

__version__ = '0.1.0'
