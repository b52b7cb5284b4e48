"""Packaging: pyproject.toml's metadata, the clear error without MMCV, and
(slow) the wheel installed into a fresh venv with its `lite` extra, imported
from outside the repo and taking one inversion step."""
import email.parser
import importlib.metadata
import json
import os
import os.path as osp
import re
import shutil
import subprocess
import sys
import time
import zipfile

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import leaps_mm

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
MMCV_NAMES = {'mmcv', 'mmcv-lite', 'mmcv-full'}
# the project venv's CUDA torch stack (~5 GB), linked into the fresh venv
# rather than installed twice
TORCH_STACK = re.compile(r'(torch|torchvision|triton|nvidia-.+|cuda-.+)')


def clean_env() -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ('PYTHONPATH', 'PYTHONHOME', 'VIRTUAL_ENV')}
    env['PIP_DISABLE_PIP_VERSION_CHECK'] = '1'
    return env


def run(args, timeout, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(args, capture_output=True, text=True,
                            timeout=timeout, env=clean_env(), **kwargs)
    assert result.returncode == 0, (
        f'{args} failed ({result.returncode}):\n{result.stdout}\n'
        f'{result.stderr}')
    return result


def test_version_is_stated_once():
    from leaps_mm import version
    assert leaps_mm.__version__ == version.__version__
    with open(osp.join(REPO, 'pyproject.toml')) as file:
        text = file.read()
    assert 'dynamic = ["version"]' in text
    assert 'attr = "leaps_mm.version.__version__"' in text
    assert not re.search(r'^version\s*=\s*["\']', text, re.M)
    assert not osp.exists(osp.join(REPO, 'setup.py'))


def test_import_without_mmcv_names_both_packages():
    # a None entry in sys.modules: neither mmcv nor mmcv-lite installed
    result = subprocess.run(
        [sys.executable, '-c',
         "import sys; sys.modules['mmcv'] = None; import leaps_mm"],
        cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith('ImportError: leaps_mm needs MMCV>=2.0.0rc4,<2.2.0')
    assert 'mmcv-lite' in last and "'mmcv>=2.0.0rc4,<2.2.0'" in last
    assert 'mmaction' not in result.stderr  # fails before importing MMAction2


# Run by the fresh venv's python, cwd outside the repo.
STEP_SCRIPT = r'''
import importlib.metadata, importlib.util, math, os, sys, tempfile
import leaps_mm
venv = os.path.realpath(sys.argv[1])
assert os.path.realpath(leaps_mm.__file__).startswith(venv + os.sep), \
    leaps_mm.__file__
package = os.path.dirname(leaps_mm.__file__)
assert os.path.isfile(os.path.join(package, 'data', 'kinetics400_classes.txt'))
assert leaps_mm.__version__ == importlib.metadata.version('leaps_mm')
# optuna (extra `tune`) is not installed; it is imported only when tuning
assert importlib.util.find_spec('optuna') is None
import leaps_mm.tuning  # noqa: F401

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from leaps_mm.models import LEAPSInverter
from leaps_mm.registry import MODELS

# a small X3D from MMAction2's own config (an `mmaction::` base, resolved
# through setuptools' pkg_resources)
with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, 'tiny.py')
    with open(path, 'w') as file:
        file.write(
            "_base_ = 'mmaction::recognition/x3d/"
            "x3d_s_13x6x1_facebook-kinetics400-rgb.py'\n"
            "model = dict(backbone=dict(gamma_w=1, gamma_b=1.0, gamma_d=0.5), "
            "cls_head=dict(in_channels=192, num_classes=5), "
            "data_preprocessor=dict(_delete_=True, "
            "type='mmaction.ActionDataPreprocessor', mean=[114.75] * 3, "
            "std=[57.38] * 3, format_shape='NCTHW'))\n")
    target = Config.fromfile(path).model
torch.manual_seed(0)
with DefaultScope.overwrite_default_scope('leaps_mm'):
    inverter = MODELS.build(dict(
        type='LEAPSInverter', target=target,
        losses=[dict(type='ClassificationLoss')], input_size=(4, 32, 32)))
assert isinstance(inverter, LEAPSInverter)
inverter.reset(torch.tensor([0]), None)
optimizer = torch.optim.Adam(inverter.parameterization.parameters(), lr=0.1)
optimizer.zero_grad()
loss = sum(term.sum() for term in inverter(mode='loss').values())
loss.backward()
optimizer.step()
assert math.isfinite(loss.item()), loss
print('one inversion step, loss', loss.item())
'''


def copy_sources(dest: str) -> None:
    """What the wheel is built from: pyproject.toml, README.md, leaps_mm/
    (a copy, so that the build leaves no build/ folder in the repo)."""
    os.makedirs(dest)
    for name in ('pyproject.toml', 'README.md'):
        shutil.copy(osp.join(REPO, name), dest)
    shutil.copytree(osp.join(REPO, 'leaps_mm'), osp.join(dest, 'leaps_mm'),
                    ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))


def wheel_requirements(wheel: str):
    """(base requirements, {extra: requirements}) from the wheel's METADATA,
    and the ``.py`` files it holds."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = next(n for n in names
                        if n.endswith('.dist-info/METADATA'))
        message = email.parser.Parser().parsestr(
            archive.read(metadata).decode())
    base, extras = [], {}
    for line in message.get_all('Requires-Dist') or []:
        req = Requirement(line)
        extra = re.search(r'extra == "([^"]+)"', str(req.marker or ''))
        if extra:
            extras.setdefault(extra.group(1), []).append(req)
        else:
            base.append(req)
    return base, extras, {n for n in names if n.endswith('.py')}


def link_torch_stack(dest: str) -> dict:
    """Symlinks to the project venv's torch, torchvision, triton, nvidia-*
    and cuda-* files (packages and their .dist-info), so that the fresh venv
    has them installed; returns their versions."""
    os.makedirs(dest)
    linked, versions = set(), {}
    for dist in importlib.metadata.distributions():
        name = canonicalize_name(dist.metadata['Name'])
        if not TORCH_STACK.fullmatch(name) or name in versions:
            continue
        versions[name] = dist.version
        for file in dist.files or ():
            top = file.parts[0]
            if top in ('..', '__pycache__') or top in linked:
                continue
            linked.add(top)
            os.symlink(dist.locate_file(top), osp.join(dest, top))
    assert {'torch', 'torchvision'} <= set(versions)
    return versions


@pytest.mark.slow
def test_wheel_installs_and_inverts_in_a_fresh_venv(tmp_path):
    times = {}
    start = last = time.monotonic()

    def lap(what):
        nonlocal last
        now = time.monotonic()
        times[what] = round(now - last, 1)
        last = now

    # 1. the wheel (an isolated build: setuptools evaluates the version
    # statically, without leaps_mm's dependencies)
    src, dist = str(tmp_path / 'src'), str(tmp_path / 'dist')
    copy_sources(src)
    run([sys.executable, '-m', 'pip', 'wheel', '-q', '--no-deps', src,
         '-w', dist], timeout=600)
    wheel, = [osp.join(dist, n) for n in os.listdir(dist)
              if n.endswith('.whl')]
    lap('build')
    base, extras, py_files = wheel_requirements(wheel)
    base_names = {canonicalize_name(r.name) for r in base}
    assert not {n for n in base_names if n.startswith('opencv')}, base_names
    assert not base_names & MMCV_NAMES, base_names
    assert [canonicalize_name(r.name) for r in extras['lite']] == ['mmcv-lite']
    assert 'optuna' not in base_names
    assert {'torch', 'mmengine', 'mmaction2', 'setuptools'} <= base_names
    sources = {osp.relpath(osp.join(d, f), src)
               for d, _, fs in os.walk(osp.join(src, 'leaps_mm'))
               for f in fs if f.endswith('.py')}
    assert sources == py_files, sources ^ py_files  # e.g. a missing __init__

    # 2. a fresh venv holding opencv-python-headless and, linked, torch
    venv = str(tmp_path / 'venv')
    run([sys.executable, '-m', 'venv', venv], timeout=300)
    python = osp.join(venv, 'bin', 'python')
    site = run([python, '-c', 'import sysconfig; '
                'print(sysconfig.get_paths()["purelib"])'],
               timeout=60).stdout.strip()
    versions = link_torch_stack(str(tmp_path / 'torch_stack'))
    with open(osp.join(site, 'leaps_torch_stack.pth'), 'w') as file:
        file.write(str(tmp_path / 'torch_stack') + '\n')
    constraints = tmp_path / 'constraints.txt'
    constraints.write_text(''.join(f'{n}=={versions[n]}\n'
                                   for n in ('torch', 'torchvision')))
    pip = [python, '-m', 'pip', 'install', '-q', '--no-compile']
    run(pip + ['opencv-python-headless'], timeout=900)
    lap('venv')

    # 3. the wheel with `lite`; pip resolves everything but torch itself
    run(pip + ['-c', str(constraints), f'{wheel}[lite]'], timeout=1800)
    lap('install')
    listed = json.loads(run([python, '-m', 'pip', 'list', '--format=json'],
                            timeout=120).stdout)
    opencv = sorted(f"{p['name']}=={p['version']}" for p in listed
                    if p['name'].lower().startswith('opencv'))
    print('\nOpenCV distributions in the fresh venv:', ', '.join(opencv))
    check = subprocess.run([python, '-m', 'pip', 'check'], capture_output=True,
                           text=True, timeout=120, env=clean_env())
    print('pip check in the fresh venv:', check.stdout.strip() or check.stderr)

    # 4. import and one inversion step, outside the repo
    script = tmp_path / 'step.py'
    script.write_text(STEP_SCRIPT)
    work = tmp_path / 'elsewhere'
    work.mkdir()
    result = run([python, str(script), venv], timeout=600, cwd=str(work))
    assert 'one inversion step, loss' in result.stdout
    lap('step')
    print(result.stdout.strip())
    print('times (s):', times, 'total', round(time.monotonic() - start, 1))
    shutil.rmtree(venv)  # 1.5 GB; pytest keeps the last runs' tmp folders
