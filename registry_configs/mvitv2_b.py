# MViTv2-B, 32 x 224^2 test clips; PySlowFast's MViTv2_B_32x3 weights
# (converted by MMAction2). Taps as in mvitv2_s.py.
_base_ = ['mmaction::recognition/mvit/mvit-base-p244_32x3x1_kinetics400-rgb.py',
          '_base_/leaps.py']
leaps = dict(inverter=dict(
    target_checkpoint='https://download.openmmlab.com/mmaction/v1.0/recognition/mvit/converted/mvit-base-p244_32x3x1_kinetics400-rgb_20221021-f392cd2d.pth',
    target_input_size=(32, 224, 224),
    taps=dict(module_types=('LayerNorm', ), token_grid=dict(cls_token=True, temporal_stride=2),
              temporal_layer='backbone.norm3')))
