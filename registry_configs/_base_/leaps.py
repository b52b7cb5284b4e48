_base_ = ['./leaps_core.py']

# Full LEAPS with the paper's verifier: X3D-S trained on Kinetics-400 (it has BatchNorm, which
# the feature-diversity term needs).
verifier = dict(
    type='Recognizer3D',
    backbone=dict(type='X3D', gamma_w=1, gamma_b=2.25, gamma_d=2.2),
    cls_head=dict(type='X3DHead', in_channels=432, num_classes=400,
                  spatial_type='avg', dropout_ratio=0.5, fc1_bias=False,
                  average_clips='prob'),
    data_preprocessor=dict(type='ActionDataPreprocessor',
                           mean=[114.75, 114.75, 114.75],
                           std=[57.38, 57.38, 57.38], format_shape='NCTHW'))
leaps = dict(inverter=dict(
    verifier_checkpoint='https://download.openmmlab.com/mmaction/v1.0/'
    'recognition/x3d/facebook/x3d_s_13x6x1_facebook-kinetics400-rgb_'
    '20201027-623825a0.pth',
    verifier_input_size=(13, 182, 182)))
