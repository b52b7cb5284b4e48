# 3D DeepDream baseline (paper §4.2, Table 1) on the trained demo models
# (demo/leaps_r3d.py: its models, stimuli, schedule and input transforms): no
# stimulus priming; x* is optimised by cross-entropy with total-variation and
# l2 priors on the input. Weights (x* lives in the normalised space, noise
# init std 1, so TV ~ 3 and l2 ~ 1 at the start): CE 1.0, TV 0.1, l2 0.01.
# The stimuli only set the target class; they do not enter the loss.
_base_ = ['../demo/leaps_r3d.py']
leaps = dict(inverter=dict(losses=[
    dict(type='ClassificationLoss', weight=1.0),
    dict(type='TotalVariationLoss', weight=0.1),
    dict(type='InputNormLoss', weight=0.01),
]))
work_dir = 'work_dirs/baselines/deepdream_3d'
