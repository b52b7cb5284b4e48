# Control for grid_priming_clean.py: the same objective without the class
# term (no logit, no still-frame prior), so x* only reproduces the
# stimulus's cell means in the target's features. What this row's scorers
# read is what the stimulus alone carries into x*.
_base_ = ['./grid_priming_clean.py']
leaps = dict(inverter=dict(losses=[
    dict(type='PrimingLoss', distance='jvs', layer_weights=1.0,
         grid=(4, 2, 2), weight=10.0),
    dict(type='TemporalCoherenceLoss', margin=1.0, normalize='mean',
         weight=0.1),
    dict(type='TotalVariationLoss', weight=0.1),
    dict(type='InputNormLoss', weight=0.01),
]))
