# Table 3, row "LEAPS (full)": eq. 4, L_CE + L_prim + r (R_coh + R_feat),
# r = 0.1, JVS priming (the same as the base config, spelled out).
_base_ = ['../demo/leaps_random_x3d.py']
r = 0.1
leaps = dict(inverter=dict(losses=[
    dict(type='ClassificationLoss', weight=1.0),
    dict(type='PrimingLoss', distance='jvs', layer_weights=1.0),
    dict(type='TemporalCoherenceLoss', margin=1.0, normalize='mean', weight=r),
    dict(type='FeatureDiversityLoss', weight=r),
]))
work_dir = 'work_dirs/ablations/full'
