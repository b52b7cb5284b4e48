# irCSN-50 (IG65M-pretrained, BN frozen) fine-tuned on Kinetics-400. Any input
# size works: x* stays 8 x 224^2. Time is halved in layers 2-4 (T/8): at 8
# frames layer4 has one time step, so coherence is read before its stride.
_base_ = ['mmaction::recognition/csn/ircsn_ig65m-pretrained-r50-bnfrozen_8xb12-32x2x1-58e_kinetics400-rgb.py',
          '_base_/leaps.py']
model = dict(backbone=dict(pretrained=None))
leaps = dict(inverter=dict(
    target_checkpoint='https://download.openmmlab.com/mmaction/v1.0/recognition/csn/ircsn_ig65m-pretrained-r50-bnfrozen_8xb12-32x2x1-58e_kinetics400-rgb/ircsn_ig65m-pretrained-r50-bnfrozen_8xb12-32x2x1-58e_kinetics400-rgb_20220811-44395bae.pth',
    taps=dict(module_types=('BatchNorm3d', ), temporal_layer='backbone.layer4.0.conv1.bn')))
