# The paper's objective (ablations/full.py: eq. 4, L_CE + L_prim +
# r (R_coh + R_feat), r = 0.1, R_feat normalised per layer and over the
# batch of all 16 jobs) in the transfer grid, on the main job's
# parameterisation and transforms. Over the batch rather than per video
# (row "paper objective: r3d", R(2+1)D statistics): the R(2+1)D read 2/16
# per video, 9/16 over the batch; the MViT 6/16 and 5/16; with 8 jobs,
# 4 classes a batch, 6/16 and 6/16. The grid's rows set the target and the
# verifier that supplies R_feat's statistics (a scorer that is then not
# independent).
_base_ = ['../../ablations/full.py', './scorers.py']
verifier = dict(_delete_=True,  # the grid's rows may set another
                from_config='../../demo/train_r2plus1d.py')
judge = None
target = dict(from_config=None, checkpoint=None)  # set by the grid rows
leaps = dict(inverter=dict(
    judge_checkpoint=None,
    verifier_checkpoint='checkpoints/demo/r2plus1d.pth'))
