# The paper's objective (ablations/full.py: eq. 4, L_CE + L_prim +
# r (R_coh + R_feat), r = 0.1) in the transfer grid, on the main job's
# parameterisation and transforms. R_feat is normalised per layer
# (FeatureDiversityLoss(normalize=True)): summed over the verifier's 39
# BatchNorm layers it starts at 123 against a class term of 2.3 and swamps
# the objective. Its statistics are over the batch, as in DeepInversion
# (batch_statistics=True): the running statistics hold the variance between
# clips too, and matched per video they pulled each x* towards noise (row
# "paper objective: r3d", R(2+1)D statistics: the R(2+1)D read 2/16 per
# video, 9/16 over the batch; the MViT 6/16 and 5/16). The grid's rows set the
# target and the verifier that supplies R_feat's statistics (a scorer that
# is then not independent).
_base_ = ['../../ablations/full.py', './scorers.py']
r = 0.1
verifier = dict(_delete_=True,  # the grid's rows may set another
                from_config='../../demo/train_r2plus1d.py')
judge = None
target = dict(from_config=None, checkpoint=None)  # set by the grid rows
# all 16 jobs (8 classes) in one batch, so R_feat's batch statistics cover
# every class, as the running statistics do (with 8 jobs, 4 classes a batch:
# R(2+1)D 6/16, MViT 6/16 on the R3D's videos)
leaps = dict(batch_size=16, inverter=dict(
    judge_checkpoint=None,
    verifier_checkpoint='checkpoints/demo/r2plus1d.pth',
    losses=[
        dict(type='ClassificationLoss', weight=1.0),
        dict(type='PrimingLoss', distance='jvs', layer_weights=1.0),
        dict(type='TemporalCoherenceLoss', margin=1.0, normalize='mean',
             weight=r),
        dict(type='FeatureDiversityLoss', normalize=True,
             batch_statistics=True, weight=r),
    ]))
