# X3D-XS (X3D paper, Table 1): X3D-S's network on 4-frame clips (sampling rate
# 12), trained at 160^2 and tested, like MMAction2's X3D-S, with 3 crops of
# 182^2 (PySlowFast's X3D_XS.yaml). MMAction2 has no X3D-XS weights: bring
# them (e.g. PySlowFast's x3d_xs.pyth converted to MMAction2 keys).
_base_ = ['mmaction::recognition/x3d/x3d_s_13x6x1_facebook-kinetics400-rgb.py',
          '_base_/leaps.py']
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=4, frame_interval=12, num_clips=10, target_fps=30, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 182)),
    dict(type='ThreeCrop', crop_size=182),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')]
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
leaps = dict(inverter=dict(
    target_checkpoint=None, target_input_size=(4, 182, 182),
    taps=dict(module_types=('BatchNorm3d', ), temporal_layer='backbone.conv5.bn')))
