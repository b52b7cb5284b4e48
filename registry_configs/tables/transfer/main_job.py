# The main job's recipe (demo/leaps_r3d.py) in the transfer grid: no
# verifier (the recipe has no R_feat), every demo model a judge; the grid's
# rows set the target (target.from_config / target.checkpoint).
_base_ = ['../../demo/leaps_r3d.py', './scorers.py']
verifier = None
judge = None
target = dict(from_config=None, checkpoint=None)  # set by the grid rows
leaps = dict(inverter=dict(verifier_checkpoint=None, judge_checkpoint=None))
