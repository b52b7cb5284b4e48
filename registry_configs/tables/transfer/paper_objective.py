# The paper's objective (ablations/full.py: eq. 4, L_CE + L_prim +
# r (R_coh + R_feat), r = 0.1) in the transfer grid, on the main job's
# parameterisation and transforms. R_feat is normalised per layer
# (FeatureDiversityLoss(normalize=True)): summed over the verifier's 39
# BatchNorm layers it starts at 123 against a class term of 2.3 and swamps
# the objective. The grid's rows set the target and the verifier that
# supplies R_feat's statistics (a scorer that is then not independent).
_base_ = ['../../ablations/full.py', './scorers.py']
r = 0.1
verifier = dict(_delete_=True,  # the grid's rows may set another
                from_config='../../demo/train_r2plus1d.py')
judge = None
target = dict(from_config=None, checkpoint=None)  # set by the grid rows
leaps = dict(inverter=dict(
    judge_checkpoint=None,
    verifier_checkpoint='checkpoints/demo/r2plus1d.pth',
    losses=[
        dict(type='ClassificationLoss', weight=1.0),
        dict(type='PrimingLoss', distance='jvs', layer_weights=1.0),
        dict(type='TemporalCoherenceLoss', margin=1.0, normalize='mean',
             weight=r),
        dict(type='FeatureDiversityLoss', normalize=True, weight=r),
    ]))
