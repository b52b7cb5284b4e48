# The main job: LEAPS on the demo models trained on the procedural motion
# dataset (tools/train.py registry_configs/demo/train_*.py): invert the
# ordinarily trained ResNet3d-18 target (stage 2, r3d_noise.pth: no
# adversarial training, like the Kinetics checkpoints users hold), score
# with the R(2+1)D verifier and the MViT judge (a transformer), for every
# class with the shipped stimuli (data/stimuli, 8 classes x 2).
#
# The recipe (objective, x* parameterisation, transforms, 200 Adam steps at
# lr 0.05) is the default one, _base_/leaps_core.py, where its measured
# choices are explained; the transforms there are sized for this 16 x 64^2
# x*. This file holds what is the demo's: its models, clip size, stimuli,
# classes and batch. The paper's full objective is ablations/full.py.
_base_ = ['./train_r3d.py', '../_base_/leaps_core.py']

# {{ fileDirname }}: this folder, so configs inheriting this one from
# anywhere find the verifier's and judge's configs
verifier = dict(from_config='{{ fileDirname }}/train_r2plus1d.py')
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
        judge_checkpoint='checkpoints/demo/mvit.pth'),
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
