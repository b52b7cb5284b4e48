# Demo JUDGE model: a different family (a tiny Video Swin, LayerNorm, no
# BatchNorm), never used in synthesis, only to score synthesized videos.
#   python tools/train.py registry_configs/demo/train_judge.py
_base_ = './train_r3d.py'

model = dict(
    backbone=dict(
        _delete_=True, type='SwinTransformer3D',
        arch=dict(embed_dims=32, depths=[2, 2, 2], num_heads=[2, 4, 8]),
        pretrained=None, pretrained2d=False, patch_size=(2, 4, 4),
        window_size=(8, 4, 4), drop_path_rate=0.1, out_indices=(2, )),
    cls_head=dict(in_channels=128))
max_epochs = 24
train_cfg = dict(max_epochs=max_epochs, val_interval=8)
train_dataloader = dict(dataset=dict(warmup_epochs=max_epochs // 3))
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
    paramwise_cfg=dict(
        norm_decay_mult=0.0, bias_decay_mult=0.0,
        custom_keys=dict(relative_position_bias_table=dict(decay_mult=0.0))))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 1, eta_min=1e-5,
         by_epoch=True, begin=1, end=max_epochs, convert_to_iter_based=True),
]
export_name = 'judge_swin'
work_dir = 'work_dirs/demo_train_judge'
