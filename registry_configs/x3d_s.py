# X3D-S (the paper's verifier, here also the target): 13 x 182^2 test clips.
_base_ = ['mmaction::recognition/x3d/x3d_s_13x6x1_facebook-kinetics400-rgb.py',
          '_base_/leaps.py']
leaps = dict(inverter=dict(
    target_checkpoint='https://download.openmmlab.com/mmaction/v1.0/recognition/x3d/facebook/x3d_s_13x6x1_facebook-kinetics400-rgb_20201027-623825a0.pth',
    target_input_size=(13, 182, 182),
    taps=dict(module_types=('BatchNorm3d', ), temporal_layer='backbone.conv5.bn')))
