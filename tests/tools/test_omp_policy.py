"""tools/_omp.py: OpenMP threads may spin unless this process shares its
node's cores with others of its launch."""
import os
import subprocess
import sys

import pytest

from conftest import REPO

PROBE = ('import os, sys; sys.path.insert(0, "tools"); import _omp; '
         'print(os.environ.get("OMP_WAIT_POLICY", "unset"))')


@pytest.mark.parametrize('launch, expected', [
    ({}, 'unset'),
    ({'LOCAL_WORLD_SIZE': '1'}, 'unset'),
    ({'LOCAL_WORLD_SIZE': '2'}, 'PASSIVE'),
    ({'SLURM_TASKS_PER_NODE': '8(x2)'}, 'PASSIVE'),
    ({'LOCAL_WORLD_SIZE': '2', 'OMP_WAIT_POLICY': 'ACTIVE'}, 'ACTIVE'),
])
def test_passive_only_when_sharing_the_node(launch, expected):
    env = {k: v for k, v in os.environ.items()
           if k not in ('OMP_WAIT_POLICY', 'LOCAL_WORLD_SIZE',
                        'SLURM_NTASKS_PER_NODE', 'SLURM_TASKS_PER_NODE')}
    done = subprocess.run([sys.executable, '-c', PROBE], cwd=REPO,
                          env=dict(env, **launch), capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == expected
