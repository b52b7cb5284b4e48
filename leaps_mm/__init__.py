"""leaps_mm: LEAPS model inversion for MMAction2 video recognizers."""
from . import compat  # noqa: F401  (must run before mmaction.models)

import mmaction.models  # noqa: E402,F401  registers every recognizer

from . import (datasets, evaluation, loops, losses, models,  # noqa: E402,F401
               parameterizations, transforms)
from .apis import build_runner_config  # noqa: E402,F401

__version__ = '0.1.0'
