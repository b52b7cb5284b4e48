# 3D AM (baselines/am_3d.py) in the transfer grid, with the main job's
# parameterisation and transforms.
_base_ = ['../../baselines/am_3d.py', './scorers.py']
verifier = None
judge = None
target = dict(from_config=None, checkpoint=None)  # set by the grid rows
leaps = dict(inverter=dict(verifier_checkpoint=None, judge_checkpoint=None))
