# The main job's recipe with priming on a coarse space-time grid: every
# tapped layer's channel means over 4 x 2 x 2 cells (time, height, width)
# of x* matched to the stimulus's (PrimingLoss grid), instead of the
# channel means over the whole clip, at weight 10 (at weight 1 the term
# stayed near 0.7 while the logit grew; docs/experiments.md, session 8).
_base_ = ['./main_job.py']
leaps = dict(inverter=dict(losses=[
    dict(type='LogitMaximization', weight=1.0),
    dict(type='PrimingLoss', distance='jvs', layer_weights=1.0,
         grid=(4, 2, 2), weight=10.0),
    dict(type='TemporalCoherenceLoss', margin=1.0, normalize='mean',
         weight=0.1),
    dict(type='TotalVariationLoss', weight=0.1),
    dict(type='InputNormLoss', weight=0.01),
    dict(type='StillFrameLoss', weight=3.0),
]))
