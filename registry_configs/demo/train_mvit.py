# Demo JUDGE: a small multiscale vision transformer (MMAction2's MViT:
# 4 layers, width 48 -> 192, pooling attention; its convolutional patch
# embedding, 3x7x7 with stride 2x4x4, is what lets it learn motion from
# scratch here), of another family than the target and the verifier. It
# never enters the loss; it only scores synthesized videos.
#   python tools/train.py registry_configs/demo/train_mvit.py
# writes checkpoints/demo/mvit_stage1.pth (held-out top-1 0.871: rotation
# directions at ~60 %, still rising); train_mvit_continue.py trains it on
# and train_mvit_noise.py makes the demo judge of that. Transformers without a convolutional
# stem (a tiny Video Swin, a TimeSformer) stayed at chance even on clean
# clips of the four translations within 150 steps here; this one fits them
# in 50.
_base_ = './train_r3d.py'

model = dict(
    backbone=dict(_delete_=True, type='MViT',
                  arch=dict(embed_dims=48, num_layers=4, num_heads=1,
                            downscale_indices=[1, 3]),
                  spatial_size=64, temporal_size=16,
                  adaptive_kv_stride=(1, 4, 4), drop_path_rate=0.0),
    cls_head=dict(_delete_=True, type='MViTHead', in_channels=192,
                  num_classes=8, dropout_ratio=0.0, average_clips='prob'))
max_epochs = 16
train_cfg = dict(max_epochs=max_epochs, val_interval=4)
train_dataloader = dict(dataset=dict(warmup_epochs=max_epochs // 3))
val_dataloader = dict(dataset=dict(num_samples=128))
# the usual transformer recipe: lower learning rate, weight decay, tight
# gradient clipping
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=5e-4, weight_decay=0.05),
                     clip_grad=dict(max_norm=1.0, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 1, eta_min=1e-5,
         by_epoch=True, begin=1, end=max_epochs, convert_to_iter_based=True),
]
export_name = 'mvit_stage1'
work_dir = 'work_dirs/demo_train_mvit'
