# Table 3, row "LEAPS L_prim + R_feat", on the trained demo models:
# L_CE + L_prim + r R_feat (r = 0.1), R_feat as in full.py.
_base_ = ['../demo/leaps_r3d.py']
r = 0.1
# one batch of all 16 demo jobs: R_feat's batch statistics cover every class
leaps = dict(batch_size=16, inverter=dict(losses=[
    dict(type='ClassificationLoss', weight=1.0),
    dict(type='PrimingLoss', distance='jvs', layer_weights=1.0),
    dict(type='FeatureDiversityLoss', batch_statistics=True, normalize=True,
         weight=r),
]))
work_dir = 'work_dirs/ablations/priming_diversity'
