"""OpenMP's wait policy for the command-line tools; imported before torch.

OpenMP threads spin between parallel regions by default: fastest on cores a
process has to itself (one X3D-S LEAPS step at 8x112^2 on 2 idle cores:
0.31 s, against 0.53 s with ``OMP_WAIT_POLICY=PASSIVE``), but 10-20x slower
when several processes share the cores and spin against each other. So
PASSIVE is set only when this process is one of several on its node
(torchrun's ``LOCAL_WORLD_SIZE``, Slurm's tasks per node). An
``OMP_WAIT_POLICY`` in the environment always wins: export PASSIVE when the
cores are shared with other jobs.
"""
import os
import re


def processes_on_node() -> int:
    """Processes of this launch on this node (1 outside torchrun/srun)."""
    for key in ('LOCAL_WORLD_SIZE', 'SLURM_NTASKS_PER_NODE',
                'SLURM_TASKS_PER_NODE'):  # the last reads like '8(x2)'
        found = re.match(r'\d+', os.environ.get(key, ''))
        if found:
            return int(found.group())
    return 1


if processes_on_node() > 1:
    os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
