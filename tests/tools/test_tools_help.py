"""Every command-line tool's ``--help``: exit status 0, its usage example,
and (all but the two that build data at import) no torch or mmaction."""
import importlib
import os.path as osp
import subprocess
import sys

import pytest

from conftest import REPO, run_tool

TOOLS = osp.join(REPO, 'tools')
sys.path.insert(0, TOOLS)

NAMES = ['invert', 'evaluate', 'tables', 'tune', 'train', 'benchmark',
         'gallery', 'showcase', 'scaling', 'make_stimuli']
FAST = [n for n in NAMES if n not in ('tables', 'make_stimuli')]


@pytest.mark.parametrize('name', NAMES)
def test_help_exits_0_and_shows_an_example(name):
    result = run_tool(importlib.import_module(name).main, ['--help'])
    assert result.exit_code == 0, result.output
    assert result.output.startswith('usage: ')
    example = result.output.split('\nexample')[1]
    assert f'python tools/{name}.py' in example, result.output


def test_help_imports_no_torch():
    """``--help`` of the fast tools loads neither torch nor mmaction."""
    script = (
        'import runpy, sys\n'
        f'sys.path.insert(0, {TOOLS!r})  # as for a script in tools/\n'
        f'for name in {FAST!r}:\n'
        f'    sys.argv = [f"{TOOLS}/{{name}}.py", "--help"]\n'
        '    try:\n'
        '        runpy.run_path(sys.argv[0], run_name="__main__")\n'
        '    except SystemExit as exit:\n'
        '        assert exit.code == 0, (name, exit.code)\n'
        'print("loaded:", sorted(m for m in ("torch", "mmaction", "leaps_mm")'
        ' if m in sys.modules))\n')
    done = subprocess.run([sys.executable, '-c', script], capture_output=True,
                          text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines()[-1] == 'loaded: []'
