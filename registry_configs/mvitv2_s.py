# MViTv2-S, 16 x 224^2 test clips; the weights are PySlowFast's MViTv2_S_16x4
# (converted by MMAction2), the ones the paper inverts. Tokens are
# (N, 1 + T'H'W', C), time-major, T' = T / 2 (patch 3x7x7, stride 2x4x4).
_base_ = ['mmaction::recognition/mvit/mvit-small-p244_32xb16-16x4x1-200e_kinetics400-rgb.py',
          '_base_/leaps.py']
leaps = dict(inverter=dict(
    target_checkpoint='https://download.openmmlab.com/mmaction/v1.0/recognition/mvit/converted/mvit-small-p244_16x4x1_kinetics400-rgb_20221021-9ebaaeed.pth',
    target_input_size=(16, 224, 224),
    taps=dict(module_types=('LayerNorm', ), token_grid=dict(cls_token=True, temporal_stride=2),
              temporal_layer='backbone.norm3')))
