"""The mmaction DRN work-around and leaps_mm's registries."""
import subprocess
import sys

import pytest
from mmengine.registry import DefaultScope

import leaps_mm  # noqa: F401
import mmaction.models.recognizers as mm_recognizers
from leaps_mm.registry import MODELS
from mmaction.registry import MODELS as MMACTION_MODELS

RECOGNIZERS = ('Recognizer2D', 'Recognizer3D', 'RecognizerAudio',
               'RecognizerGCN', 'RecognizerOmni', 'MMRecognizer3D')


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-c', code], capture_output=True,
                          text=True, timeout=120)


def test_mmaction_models_import_needs_the_shim():
    """Without leaps_mm first the wheel's ``import mmaction.models`` fails on
    the missing DRN package; with it, the same import succeeds."""
    bare = _python('import mmaction.models')
    patched = _python('import leaps_mm, mmaction.models; '
                      'from mmaction.models import Recognizer3D; '
                      'print(Recognizer3D.__name__)')
    if bare.returncode == 0:  # a fixed mmaction2 (source install, > 1.2.0)
        assert 'drn' not in bare.stderr
    else:
        assert 'mmaction.models.localizers.drn' in bare.stderr
    assert patched.returncode == 0, patched.stderr
    assert patched.stdout.strip() == 'Recognizer3D'


def test_shim_leaves_the_installation_untouched():
    import importlib.util
    spec = importlib.util.find_spec('mmaction')
    drn = sys.modules['mmaction.models.localizers.drn']
    # a placeholder in sys.modules, not a file added to site-packages
    assert getattr(drn, '__file__', None) is None
    assert spec.origin and 'site-packages' in spec.origin


def test_drn_placeholder_raises_a_clear_error():
    from mmaction.models.localizers import DRN
    with pytest.raises(ImportError, match=r'DRN.*mmaction2.*2714'):
        DRN()


def test_registry_is_a_child_of_mmaction():
    assert MODELS.parent is MMACTION_MODELS
    assert MODELS.scope == 'leaps_mm'


def test_every_mmaction_recognizer_is_reachable():
    names = set(mm_recognizers.__all__) - {'BaseRecognizer'}
    assert set(RECOGNIZERS) <= names
    with DefaultScope.overwrite_default_scope('leaps_mm'):
        for name in sorted(names):
            cls = getattr(mm_recognizers, name)
            assert MODELS.get(name) is cls, name
            assert MODELS.get(f'mmaction.{name}') is cls, name


def test_leaps_and_mmaction_types_from_the_leaps_scope():
    from leaps_mm.losses import PrimingLoss
    from leaps_mm.models import LEAPSInverter
    from mmaction.models.backbones import X3D
    with DefaultScope.overwrite_default_scope('leaps_mm'):
        assert MODELS.get('LEAPSInverter') is LEAPSInverter
        assert MODELS.get('PrimingLoss') is PrimingLoss
        assert MODELS.get('X3D') is X3D
        assert MODELS.get('mmaction.X3D') is X3D
        assert MODELS.get('NoSuchModel') is None
        loss = MODELS.build(dict(type='PrimingLoss', distance='l1',
                                 weight=2.0))
    assert isinstance(loss, PrimingLoss)
    assert loss.distance == 'l1' and loss.weight == 2.0
    # leaps_mm's own types are not visible from mmaction's scope
    with DefaultScope.overwrite_default_scope('mmaction'):
        assert MMACTION_MODELS.get('LEAPSInverter') is None
        assert MMACTION_MODELS.get('X3D') is X3D
