# Table 3, row "LEAPS L_prim + R_coh", on the trained demo models:
# L_CE + L_prim + r R_coh (r = 0.1).
_base_ = ['../demo/leaps_r3d.py']
r = 0.1
leaps = dict(inverter=dict(losses=[
    dict(type='ClassificationLoss', weight=1.0),
    dict(type='PrimingLoss', distance='jvs', layer_weights=1.0),
    dict(type='TemporalCoherenceLoss', margin=1.0, normalize='mean', weight=r),
]))
work_dir = 'work_dirs/ablations/priming_coherence'
