"""leaps_mm: LEAPS model inversion for MMAction2 video recognizers."""
from . import _mmcv_check  # noqa: F401  (first: one clear error if no mmcv)
from . import compat  # noqa: F401  (must run before mmaction.models)

import mmaction.models  # noqa: E402,F401  registers every recognizer

from . import (datasets, evaluation, loops, losses, models,  # noqa: E402,F401
               parameterizations, transforms)
from .apis import build_runner_config  # noqa: E402,F401

from .version import __version__  # noqa: E402,F401
