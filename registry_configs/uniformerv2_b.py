# UniFormerV2-B/16 (CLIP, Kinetics-710 pre-training) on Kinetics-400, 8 x 224^2
# (fixed: T = t_size, H = input_resolution). CLIP blocks are sequence-first
# (1 + HW, N*T, C); ln_pre and the final norm are batch-first. The first
# global block's ln_1 sees only the learned query token: not tapped.
_base_ = ['mmaction::recognition/uniformerv2/uniformerv2-base-p16-res224_clip-kinetics710-pre_8xb32-u8_kinetics400-rgb.py',
          '_base_/leaps.py']
# Zoo weights replace the Kinetics-710 initialisation of backbone and head.
model = dict(backbone=dict(clip_pretrained=False, pretrained=None, init_cfg=None),
             cls_head=dict(channel_map=None, init_cfg=dict(_delete_=True, type='TruncNormal', layer='Linear', std=0.02)))
leaps = dict(inverter=dict(
    target_checkpoint='https://download.openmmlab.com/mmaction/v1.0/recognition/uniformerv2/uniformerv2-base-p16-res224_clip-kinetics710-pre_8xb32-u8_kinetics400-rgb/uniformerv2-base-p16-res224_clip-kinetics710-pre_8xb32-u8_kinetics400-rgb_20230313-75be0806.pth',
    target_input_size=(8, 224, 224),
    taps=dict(module_types=('LayerNorm', ), exclude=r'transformer\.dec\.0\.ln_1$',
              token_grid=dict(batch_dim=1, cls_token=True, batch_first_layers=r'\.ln_pre$|transformer\.norm$'),
              temporal_layer='backbone.transformer.resblocks.11.ln_2')))
