# Video Swin-S, 32 x 224^2 test clips (taps as in swin_t.py).
_base_ = ['mmaction::recognition/swin/swin-small-p244-w877_in1k-pre_8xb8-amp-32x2x1-30e_kinetics400-rgb.py',
          '_base_/leaps.py']
model = dict(backbone=dict(pretrained=None, pretrained2d=False))
leaps = dict(inverter=dict(
    target_checkpoint='https://download.openmmlab.com/mmaction/v1.0/recognition/swin/swin-small-p244-w877_in1k-pre_8xb8-amp-32x2x1-30e_kinetics400-rgb/swin-small-p244-w877_in1k-pre_8xb8-amp-32x2x1-30e_kinetics400-rgb_20220930-e91ab986.pth',
    target_input_size=(32, 224, 224),
    taps=dict(module_types=('LayerNorm', ), token_grid=dict(temporal_stride=2),
              temporal_layer='backbone.norm3')))
