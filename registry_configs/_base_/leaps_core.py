# LEAPS defaults (paper §3.4, §4.1) without a verifier. Inherit `leaps.py`
# (this plus the X3D-S verifier) next to an MMAction2 recognizer config;
# `model` stays the recognizer to invert.
r = 0.1  # regulariser scale of eq. 4: L = L_CE + L_prim + r (R_coh + R_feat)

leaps = dict(
    inverter=dict(
        losses=[
            dict(type='ClassificationLoss', weight=1.0),
            dict(type='PrimingLoss', distance='jvs', layer_weights=1.0),
            dict(type='TemporalCoherenceLoss', margin=1.0, normalize='mean',
                 weight=r),
            dict(type='FeatureDiversityLoss', weight=r),
        ],
        # inputs of every BatchNorm3d / LayerNorm of the backbone
        # (_BatchNormXd: what SyncBatchNorm becomes on a single process)
        taps=dict(module_types=('BatchNorm3d', '_BatchNormXd', 'LayerNorm'),
                  include=r'^backbone\.'),
        input_size=(8, 224, 224),  # x*: 8 x 224^2, noise in normalised space
        target_input_size=None,  # set for fixed-size models
        verifier_input_size=None,
        # x* = Gaussian noise in the normalised space, clamped to the image of
        # [0, 255] after every step; no random transforms (the paper's set-up)
        parameterization=dict(type='PixelVideo', init_std=1.0,
                              colour='rgb', value_range='clip'),
        transforms=[],
        autocast=None,  # 'bf16' or 'fp16' (loss-scaled), on CPUs and GPUs
        target_checkpoint=None,
        verifier_checkpoint=None,
    ),
    loop=dict(
        iters=2000,
        # fused: the whole Adam update in one kernel (CPU and CUDA; ~4x
        # cheaper than the per-op update on a 16x64^2 x*)
        optim_wrapper=dict(type='OptimWrapper',
                           optimizer=dict(type='Adam', lr=0.2, fused=True)),
        param_scheduler=dict(type='CosineAnnealingLR', eta_min=0.0),
        log_interval=50,
        fps=8,
    ),
    stimuli=dict(ann_file='', stimuli=[]),
    classes='kinetics400',  # a label file, a list, or 'kinetics400'
    evaluation=dict(is_splits=10),  # Inception Score: mean ± std over splits
    batch_size=1,
    seed=0,
    log_level='WARNING',  # mmengine's INFO lists every hook and the config
    # MLflow: a parent run per sweep, a child run per video. tracking_uri None:
    # $MLFLOW_TRACKING_URI, else sqlite:///<work_dir>/mlflow.db (artifacts in
    # <work_dir>/mlartifacts)
    tracking=dict(enabled=True, tracking_uri=None, experiment='leaps'),
)
