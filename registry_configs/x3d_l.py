# X3D-L (X3D paper, Table 1): X3D-S's widths with gamma_d=5.0 (deeper), 16
# frames (sampling rate 5), trained at 312^2, tested with 3 crops of 356^2
# (PySlowFast's X3D_L.yaml). MMAction2 has no X3D-L weights: bring them (e.g.
# PySlowFast's x3d_l.pyth converted to MMAction2 keys).
_base_ = ['mmaction::recognition/x3d/x3d_m_16x5x1_facebook-kinetics400-rgb.py',
          '_base_/leaps.py']
model = dict(backbone=dict(gamma_d=5.0))
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=16, frame_interval=5, num_clips=10, target_fps=30, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 356)),
    dict(type='ThreeCrop', crop_size=356),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')]
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
leaps = dict(inverter=dict(
    target_checkpoint=None, target_input_size=(16, 356, 356),
    taps=dict(module_types=('BatchNorm3d', ), temporal_layer='backbone.conv5.bn')))
