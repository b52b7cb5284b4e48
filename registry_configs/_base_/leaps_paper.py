# The paper's exact set-up (§3.4, §4.1), with its X3D-S verifier (leaps.py):
# eq. 4, L = L_CE + L_prim + r (R_coh + R_feat) with r = 0.1 and JVS
# priming; x* = Gaussian noise in the normalised space, clamped to the image
# of [0, 255] after every step; no random transforms; 2000 Adam steps at
# lr 0.2, cosine schedule. On ordinarily trained models this makes
# adversarial noise (README "Limitations"); the default recipe is
# leaps_core.py. Inherit this instead of leaps.py to reproduce the paper.
_base_ = ['./leaps.py']
r = 0.1  # regulariser scale of eq. 4

leaps = dict(
    inverter=dict(
        losses=[
            dict(type='ClassificationLoss', weight=1.0),
            dict(type='PrimingLoss', distance='jvs', layer_weights=1.0),
            dict(type='TemporalCoherenceLoss', margin=1.0, normalize='mean',
                 weight=r),
            dict(type='FeatureDiversityLoss', weight=r),
        ],
        parameterization=dict(_delete_=True, type='PixelVideo', init_std=1.0,
                              colour='rgb', value_range='clip'),
        transforms=[]),
    loop=dict(iters=2000, log_interval=50,
              optim_wrapper=dict(optimizer=dict(lr=0.2))),
)
