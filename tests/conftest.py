import contextlib
import io
import os
import os.path as osp
from typing import Callable, Dict, NamedTuple, Optional, Sequence

import pytest

os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import leaps_mm  # noqa: E402,F401  (patches mmaction before anything else)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
STIMULI = osp.join(REPO, 'data', 'stimuli')
DEMO_CONFIG = osp.join(REPO, 'registry_configs', 'demo',
                       'leaps_random_x3d.py')


class ToolResult(NamedTuple):
    """What :func:`run_tool` saw: the exit status, stdout and stderr
    together, and the ``SystemExit`` the tool raised (None when it
    returned)."""
    exit_code: int
    output: str
    exception: Optional[BaseException] = None


def run_tool(main: Callable, args: Sequence[str],
             env: Optional[Dict[str, Optional[str]]] = None) -> ToolResult:
    """A tool's ``main(argv)`` (tools/*.py) in this process, as its command
    line would run it: what it writes to stdout and stderr, and its exit
    status (its return value, or the code of a ``SystemExit``, e.g.
    argparse's 2). ``env`` sets variables for the call (None: unset). Any
    other exception propagates."""
    saved = {key: os.environ.get(key) for key in env or {}}
    for key, value in (env or {}).items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    output, stop = io.StringIO(), None
    try:
        with contextlib.redirect_stdout(output), \
                contextlib.redirect_stderr(output):
            try:
                code = main([str(arg) for arg in args])
            except SystemExit as exit:
                stop, code = exit, exit.code
                if isinstance(code, str):  # sys.exit('message')
                    print(code, file=output)
                    code = 1
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return ToolResult(code or 0, output.getvalue(), stop)


@pytest.fixture
def two_job_list(tmp_path) -> str:
    """An annotation file with the first stimulus of two classes."""
    with open(osp.join(STIMULI, 'stimuli.txt')) as file:
        lines = [line.split() for line in file if line.strip()]
    chosen = [lines[0], lines[2]]
    path = tmp_path / 'jobs.txt'
    path.write_text(''.join(f'{osp.join(STIMULI, p)} {label}\n'
                            for p, label in chosen))
    return str(path)
