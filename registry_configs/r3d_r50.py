# 3D ResNet-50 on Kinetics-400. The official LEAPS code inverts PySlowFast's
# SLOWONLY_8x8_R50 as its "3D R50" (a from-scratch R50 with 3D convs in res4/5
# and no temporal striding), which MMAction2 ships as SlowOnly R50 8x8x1: the
# same architecture and frame count as x* (8 frames), so it is used here
# rather than I3D R50 (32-frame clips, time strided 8x, ImageNet-inflated).
# Any input size works: x* stays 8 x 224^2.
_base_ = ['mmaction::recognition/slowonly/slowonly_r50_8xb16-8x8x1-256e_kinetics400-rgb.py',
          '_base_/leaps.py']
model = dict(backbone=dict(pretrained=None))
leaps = dict(inverter=dict(
    target_checkpoint='https://download.openmmlab.com/mmaction/v1.0/recognition/slowonly/slowonly_r50_8xb16-8x8x1-256e_kinetics400-rgb/slowonly_r50_8xb16-8x8x1-256e_kinetics400-rgb_20220901-2132fc87.pth',
    taps=dict(module_types=('BatchNorm3d', ), temporal_layer='backbone.layer4.2.conv3.bn')))
