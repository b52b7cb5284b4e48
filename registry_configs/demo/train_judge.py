# Demo JUDGE model: a different architecture, an R(2+1)D (factorised
# spatial + temporal convolutions, ResNet2Plus1d-18, 3 stages, base 16),
# never used in synthesis, only to score synthesized videos.
# (A tiny Video Swin, SwinTransformer3D embed 32 depths [2, 2, 2], stayed at
# chance for 14 of 24 epochs of this recipe here, warm-up included, so it was
# dropped for now.)
#   python tools/train.py registry_configs/demo/train_judge.py
_base_ = './train_r3d.py'

model = dict(
    backbone=dict(
        _delete_=True, type='ResNet2Plus1d', depth=18, base_channels=16,
        num_stages=3, out_indices=(2, ), spatial_strides=(1, 2, 2),
        temporal_strides=(1, 1, 1), dilations=(1, 1, 1), inflate=(1, 1, 1),
        conv_cfg=dict(type='Conv2plus1d'), pretrained=None,
        pretrained2d=False, norm_eval=False, zero_init_residual=False),
    cls_head=dict(in_channels=64))
export_name = 'judge_r2plus1d'
work_dir = 'work_dirs/demo_train_judge'
