# UniFormerV2-L/14 (CLIP, Kinetics-710 pre-training) on Kinetics-400, 8 x 224^2
# (fixed: T = t_size, H = input_resolution). Taps as in uniformerv2_b.py; the
# last of its 24 CLIP blocks feeds the coherence term.
_base_ = ['mmaction::recognition/uniformerv2/uniformerv2-large-p14-res224_clip-kinetics710-pre_u8_kinetics400-rgb.py',
          '_base_/leaps.py']
model = dict(backbone=dict(clip_pretrained=False, pretrained=None))
leaps = dict(inverter=dict(
    target_checkpoint='https://download.openmmlab.com/mmaction/v1.0/recognition/uniformerv2/kinetics400/uniformerv2-large-p14-res224_clip-kinetics710-pre_u8_kinetics400-rgb_20221219-972ea063.pth',
    target_input_size=(8, 224, 224),
    taps=dict(module_types=('LayerNorm', ), exclude=r'transformer\.dec\.0\.ln_1$',
              token_grid=dict(batch_dim=1, cls_token=True, batch_first_layers=r'\.ln_pre$|transformer\.norm$'),
              temporal_layer='backbone.transformer.resblocks.23.ln_2')))
