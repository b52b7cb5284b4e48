# TimeSformer (divided space-time attention), 8 x 224^2 (fixed: num_frames,
# img_size). Tokens are (N, 1 + HW*T, C), patch-major, with a class token.
_base_ = ['mmaction::recognition/timesformer/timesformer_divST_8xb8-8x32x1-15e_kinetics400-rgb.py',
          '_base_/leaps.py']
model = dict(backbone=dict(pretrained=None))
leaps = dict(inverter=dict(
    target_checkpoint='https://download.openmmlab.com/mmaction/v1.0/recognition/timesformer/timesformer_divST_8xb8-8x32x1-15e_kinetics400-rgb/timesformer_divST_8xb8-8x32x1-15e_kinetics400-rgb_20220815-a4d0d01f.pth',
    target_input_size=(8, 224, 224),
    taps=dict(module_types=('LayerNorm', ), token_grid=dict(cls_token=True, time_major=False),
              temporal_layer='backbone.norm')))
