# 3D Activation Maximisation baseline (paper §4.2, Table 1), after
# Feichtenhofer et al. (spatiotemporal AM), on the trained demo models
# (demo/leaps_r3d.py: its models, stimuli, schedule and input transforms,
# whose random roll is AM's jitter): gradient ascent on the target
# class logit from noise, with total-variation and l2 priors on the input.
# Weights: -logit 1.0, TV 0.1, l2 0.01 (the l2 prior also keeps the unbounded
# logit objective from blowing x* up; values are clamped to [0, 255] anyway).
# No stimulus priming; the stimuli only set the target class.
_base_ = ['../demo/leaps_r3d.py']
leaps = dict(inverter=dict(losses=[
    dict(type='LogitMaximization', weight=1.0),
    dict(type='TotalVariationLoss', weight=0.1),
    dict(type='InputNormLoss', weight=0.01),
]))
work_dir = 'work_dirs/baselines/am_3d'
