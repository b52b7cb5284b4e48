# Table 2, on the trained demo models: full LEAPS (eq. 4) with the priming
# distance of eq. 1 set to JVS: 1 - JVS(a, b), the paper's choice, so it is
# exactly full.py.
_base_ = ['./full.py']
work_dir = 'work_dirs/ablations/dist_jvs'
