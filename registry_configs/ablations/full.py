# Table 3, row "LEAPS (full)", on the trained demo models: eq. 4,
# L_CE + L_prim + r (R_coh + R_feat), r = 0.1, JVS priming (the losses of
# _base_/leaps_paper.py, spelled out) on the main job's parameterisation,
# transforms and schedule (demo/leaps_r3d.py).
_base_ = ['../demo/leaps_r3d.py']
r = 0.1
leaps = dict(inverter=dict(losses=[
    dict(type='ClassificationLoss', weight=1.0),
    dict(type='PrimingLoss', distance='jvs', layer_weights=1.0),
    dict(type='TemporalCoherenceLoss', margin=1.0, normalize='mean', weight=r),
    dict(type='FeatureDiversityLoss', weight=r),
]))
work_dir = 'work_dirs/ablations/full'
