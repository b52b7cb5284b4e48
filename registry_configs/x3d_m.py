# X3D-M: X3D-S's network (gamma_w=1, gamma_b=2.25, gamma_d=2.2) on 16 x 256^2
# test clips (trained at 224^2, tested with 3 crops of 256^2).
_base_ = ['mmaction::recognition/x3d/x3d_m_16x5x1_facebook-kinetics400-rgb.py',
          '_base_/leaps.py']
leaps = dict(inverter=dict(
    target_checkpoint='https://download.openmmlab.com/mmaction/v1.0/recognition/x3d/facebook/x3d_m_16x5x1_facebook-kinetics400-rgb_20201027-3f42382a.pth',
    target_input_size=(16, 256, 256),
    taps=dict(module_types=('BatchNorm3d', ), temporal_layer='backbone.conv5.bn')))
