# What a user's Kinetics model gets: the default recipe (leaps_core.py, the
# main job's) on x* 8 x 224^2, with the paper's verifier, X3D-S trained on
# Kinetics-400. In this recipe the verifier only scores x*; its BatchNorm
# layers are what R_feat reads in the paper's set-up (leaps_paper.py).
_base_ = ['./leaps_core.py']

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
    verifier_input_size=(13, 182, 182),
    # leaps_core.py's transforms, measured on a 64^2 x*, with the roll
    # (transforms[0]) scaled to this 224^2 x*: where the content sits in the
    # frame scales with x*'s side, 4 px of 64 -> 14 px of 224 (1/16 of the
    # frame; lucid-style jitter at 224^2 is 8-16 px). The rest stays: scale
    # and rotation are relative already; blur, noise (and the TV prior) are
    # against pixel-sized patterns, which the Kinetics models' stems
    # (stride-4 convolutions, 4 to 16 px patches) meet in pixels as the demo
    # models' stride-4 stem does; the temporal shift is one frame at any
    # clip length. With another input_size, scale max_shift to about
    # side / 16.
    transforms=[dict(_base_.leaps.inverter.transforms[0], max_shift=14)]
    + _base_.leaps.inverter.transforms[1:]))
