# The demo verifier's backbone, shared by its two training stages
# (train_r2plus1d.py, train_r2plus1d_noise.py): ResNet2Plus1d-18 with 3
# stages and base width 16, the size of the demo target.
r2plus1d_backbone = dict(
    type='ResNet2Plus1d', depth=18, base_channels=16, num_stages=3,
    out_indices=(2, ), spatial_strides=(1, 2, 2), temporal_strides=(1, 1, 1),
    dilations=(1, 1, 1), inflate=(1, 1, 1), conv_cfg=dict(type='Conv2plus1d'),
    pretrained=None, pretrained2d=False, norm_eval=False,
    zero_init_residual=False)
