import os
import os.path as osp

import pytest

os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import leaps_mm  # noqa: E402,F401  (patches mmaction before anything else)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
STIMULI = osp.join(REPO, 'data', 'stimuli')
DEMO_CONFIG = osp.join(REPO, 'registry_configs', 'demo',
                       'leaps_random_x3d.py')


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
