# "Another team's model" for the worked example of a recipe applied to a
# model of another clip length (docs/reference.md, "A recipe on another
# model"): the demo ResNet3d-18 (demo/train_r3d.py) as an 8-frame model that
# reads every second frame at 56 x 56, stated, as MMAction2 configs do, in
# its test pipeline. The network takes any clip size, so the demo weights
# (checkpoints/demo/r3d_noise.pth) fit it.
_base_ = ['../../demo/train_r3d.py']
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=2, num_clips=1,
         test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 64)),
    dict(type='CenterCrop', crop_size=56),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
