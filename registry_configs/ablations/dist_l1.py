# Table 2, on the trained demo models: full LEAPS (eq. 4, full.py) with the
# priming distance of eq. 1 set to l1: ||a - b||_1.
_base_ = ['./full.py']
r = 0.1
leaps = dict(inverter=dict(losses=[
    dict(type='ClassificationLoss', weight=1.0),
    dict(type='PrimingLoss', distance='l1', layer_weights=1.0),
    dict(type='TemporalCoherenceLoss', margin=1.0, normalize='mean', weight=r),
    dict(type='FeatureDiversityLoss', weight=r),
]))
work_dir = 'work_dirs/ablations/dist_l1'
