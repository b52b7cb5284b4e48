# Worked example: any MMAction2 recognizer config becomes an inversion config
# with a few lines. I3D halves time three times, so at 8 frames only layer1
# has a frame pair: coherence is read there.
_base_ = ['mmaction::recognition/i3d/i3d_imagenet-pretrained-r50_8xb8-32x2x1-100e_kinetics400-rgb.py',
          '../_base_/leaps.py']
model = dict(backbone=dict(pretrained=None, pretrained2d=False))
leaps = dict(inverter=dict(
    target_checkpoint='https://download.openmmlab.com/mmaction/v1.0/recognition/i3d/i3d_imagenet-pretrained-r50_8xb8-32x2x1-100e_kinetics400-rgb/i3d_imagenet-pretrained-r50_8xb8-32x2x1-100e_kinetics400-rgb_20220812-e213c223.pth',
    taps=dict(temporal_layer='backbone.layer1.2.conv3.bn')))
