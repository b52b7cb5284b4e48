# The main job: LEAPS on the demo models trained on the procedural motion
# dataset (tools/train.py registry_configs/demo/train_*.py): invert the
# ordinarily trained ResNet3d-18 target (stage 2, r3d_noise.pth: no
# adversarial training, like the Kinetics checkpoints users hold), score
# with the R(2+1)D verifier and the MViT judge (a transformer), for every
# class with the shipped stimuli (data/stimuli, 8 classes x 2).
#
# Measured choices (README "Main job"), each against the paper's set-up on
# these models: x* as a space-time spectrum with decorrelated colour (pixels
# under Adam stay high-frequency noise); the class term is the target's
# logit, not its cross-entropy (which saturates near p 0.9 and then adds no
# evidence), with the total-variation and l2 priors of 3D AM; R_feat is off
# (matching the verifier's BatchNorm statistics pulled x* towards noise).
# Priming (JVS) and temporal coherence are the paper's. Pixel noise of a
# random std up to 0.6 (normalised units, ~34 grey levels) on x* before the
# networks see it: the class evidence must survive noise that a
# low-amplitude pattern fooling only the target does not (docs/results.md,
# "Transfer matrix"). StillFrameLoss: the target must not name the class
# from a still of x*, so the class lives in the motion (without it the
# target named it from frame 0 repeated on 6 of 16 videos; with it on
# none). The paper's full objective is ablations/full.py.
_base_ = ['./train_r3d.py', '../_base_/leaps.py']

# {{ fileDirname }}: this folder, so configs inheriting this one from
# anywhere find the verifier's and judge's configs
verifier = dict(_delete_=True,
                from_config='{{ fileDirname }}/train_r2plus1d.py')
# name: the judge's key in results and metrics (judge_mvit_pred,
# top1_judge_mvit); more judges go in `judges = [dict(from_config=...,
# checkpoint=..., classes=..., name=...)]`
judge = dict(from_config='{{ fileDirname }}/train_mvit.py', name='mvit')
test_pipeline = [
    dict(type='PyAVInit'),
    dict(type='SampleFrames', clip_len=16, frame_interval=1, num_clips=1,
         test_mode=True),
    dict(type='PyAVDecode'),
    dict(type='Resize', scale=(-1, 64)),
    dict(type='CenterCrop', crop_size=64),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
leaps = dict(
    inverter=dict(
        input_size=(16, 64, 64),  # the demo models' clip size
        target_checkpoint='checkpoints/demo/r3d_noise.pth',
        verifier_checkpoint='checkpoints/demo/r2plus1d.pth',
        verifier_input_size=None,
        judge_checkpoint='checkpoints/demo/mvit.pth',
        losses=[
            dict(type='LogitMaximization', weight=1.0),
            dict(type='PrimingLoss', distance='jvs', layer_weights=1.0),
            dict(type='TemporalCoherenceLoss', margin=1.0, normalize='mean',
                 weight=0.1),
            dict(type='TotalVariationLoss', weight=0.1),
            dict(type='InputNormLoss', weight=0.01),
            # the class must not show in a still of x* (a random frame
            # repeated): its evidence goes into the motion
            dict(type='StillFrameLoss', weight=3.0),
        ],
        # time_weight 4 damps temporal frequencies 4x more than spatial ones
        parameterization=dict(type='FourierVideo', init_std=0.1,
                              colour='decorrelated', time_weight=4.0),
        # random transforms every step (none flips space or time: the demo
        # classes are directions)
        transforms=[
            dict(type='RandomRoll', max_shift=4),
            dict(type='RandomScale', scale=(0.9, 1.1)),
            dict(type='RandomRotation', degrees=5),
            dict(type='RandomGaussianBlur', sigma=(0.5, 1.0), p=0.5),
            dict(type='RandomTemporalShift', max_shift=1),
            dict(type='RandomGaussianNoise', std=(0.0, 0.6)),
        ]),
    loop=dict(iters=200, log_interval=20,
              optim_wrapper=dict(optimizer=dict(lr=0.05))),
    stimuli=dict(ann_file='data/stimuli/stimuli.txt',
                 data_prefix=dict(video='data/stimuli')),
    classes='data/stimuli/classes.txt',
    # 16 videos: one Inception-Score split (a split of 1-2 videos scores 1);
    # partners: each class is the other played backwards (partner_rate_*:
    # how often a scorer names the partner of x*'s class for x* reversed)
    evaluation=dict(is_splits=1, partners={
        'move left': 'move right', 'move up': 'move down',
        'rotate clockwise': 'rotate counterclockwise',
        'expand': 'contract'}),
    batch_size=8)
work_dir = 'work_dirs/leaps_r3d'
