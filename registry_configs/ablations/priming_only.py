# Table 3, row "LEAPS L_prim", on the trained demo models: L_CE + L_prim
# (eq. 4 without regularisers).
_base_ = ['../demo/leaps_r3d.py']
leaps = dict(inverter=dict(losses=[
    dict(type='ClassificationLoss', weight=1.0),
    dict(type='PrimingLoss', distance='jvs', layer_weights=1.0),
]))
work_dir = 'work_dirs/ablations/priming_only'
