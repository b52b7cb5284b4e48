"""Work-arounds for the installed OpenMMLab packages; imported before anything else.

The MMAction2 1.2.0 wheel ships without ``mmaction/models/localizers/drn/``
(open-mmlab/mmaction2#2714), yet ``mmaction.models.localizers`` imports ``DRN``
from it, so ``import mmaction.models`` fails. A placeholder module in
``sys.modules`` lets the import succeed without touching the installation; using
the placeholder ``DRN`` (a temporal grounding localizer LEAPS never needs) raises
a clear error. mmcv-lite's warning about ``MultiScaleDeformableAttention`` and
setuptools' about ``pkg_resources`` (warnings to OpenMMLab's developers, not to
a user) are filtered.
"""
import importlib.util
import sys
import types
import warnings

# mmcv-lite has no compiled ops: every import of mmaction.models reaches
# mmcv.cnn.bricks.transformer, which warns that MultiScaleDeformableAttention
# (an op no video recognizer here uses) cannot be imported
warnings.filterwarnings(
    'ignore', message=r'Fail to import ``MultiScaleDeformableAttention``',
    category=UserWarning)
# mmengine imports setuptools' pkg_resources, which warns of its removal
warnings.filterwarnings('ignore', message=r'pkg_resources is deprecated',
                        category=UserWarning)

_DRN_PACKAGE = 'mmaction.models.localizers.drn'


class _MissingDRN:
    """Stands in for MMAction2's DRN localizer, which the wheel lacks."""

    def __init__(self, *args, **kwargs) -> None:
        raise ImportError(
            'DRN is missing from the installed mmaction2 wheel '
            '(open-mmlab/mmaction2#2714); install mmaction2 from source to use it.')


def _drn_is_missing() -> bool:
    if _DRN_PACKAGE in sys.modules:
        return False
    try:
        return importlib.util.find_spec(_DRN_PACKAGE) is None
    except ModuleNotFoundError:
        return True


def patch_mmaction_drn() -> None:
    """Register placeholder ``drn`` modules when the wheel lacks them."""
    if not _drn_is_missing():
        return
    package = types.ModuleType(_DRN_PACKAGE)
    package.__path__ = []  # a package, so ``drn.drn`` resolves below it
    module = types.ModuleType(f'{_DRN_PACKAGE}.drn')
    module.DRN = _MissingDRN
    package.drn = module
    sys.modules[_DRN_PACKAGE] = package
    sys.modules[f'{_DRN_PACKAGE}.drn'] = module


patch_mmaction_drn()
