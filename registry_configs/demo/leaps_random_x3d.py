# The main job until trained demo models exist: a real LEAPS inversion of a
# RANDOMLY INITIALISED X3D-S (8 motion classes) with a random X3D-S verifier,
# primed with the shipped stimuli. The videos show what random features
# respond to, not learned classes; it exercises the whole pipeline on a CPU,
# with the paper's set-up (_base_/leaps_paper.py: pixel x*, no transforms,
# eq. 4 with R_feat on the X3D-S verifier, Adam lr 0.2), 60 steps.
_base_ = [
    'mmaction::recognition/x3d/x3d_s_13x6x1_facebook-kinetics400-rgb.py',
    '../_base_/leaps_paper.py',
]
model = dict(cls_head=dict(num_classes=8))
verifier = dict(cls_head=dict(num_classes=8))
test_pipeline = [
    dict(type='PyAVInit'),
    # 8 frames (x*'s length) at interval 2: the stimuli's 16 frames
    dict(type='SampleFrames', clip_len=8, frame_interval=2, num_clips=1,
         test_mode=True),
    dict(type='PyAVDecode'),
    dict(type='Resize', scale=(-1, 64)),
    dict(type='CenterCrop', crop_size=64),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
leaps = dict(
    inverter=dict(input_size=(8, 64, 64), verifier_input_size=None,
                  target_checkpoint=None, verifier_checkpoint=None),
    loop=dict(iters=60, log_interval=10),
    stimuli=dict(ann_file='data/stimuli/stimuli.txt',
                 data_prefix=dict(video='data/stimuli')),
    classes='data/stimuli/classes.txt',
    # 16 videos: one Inception-Score split (a split of 1-2 videos scores 1);
    # partners: each class is the other played backwards
    evaluation=dict(is_splits=1, partners={
        'move left': 'move right', 'move up': 'move down',
        'rotate clockwise': 'rotate counterclockwise',
        'expand': 'contract'}),
    batch_size=8)
work_dir = 'work_dirs/leaps_random_x3d'
