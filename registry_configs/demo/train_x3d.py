# Demo VERIFIER model (BatchNorm, for LEAPS's feature-diversity term): a small
# X3D (gamma_w 0.5, gamma_d 1) trained from scratch on the motion dataset.
# Like the others it warms up on clean, high-contrast clips (phased out over
# the first third of training, see train_r3d.py); without that X3D learns
# the motion axis but not its direction.
#   python tools/train.py registry_configs/demo/train_x3d.py
_base_ = './train_r3d.py'

model = dict(
    backbone=dict(_delete_=True, type='X3D', gamma_w=0.5, gamma_b=2.25,
                  gamma_d=1.0),
    cls_head=dict(in_channels=288))
max_epochs = 24
train_cfg = dict(max_epochs=max_epochs, val_interval=8)
train_dataloader = dict(dataset=dict(warmup_epochs=max_epochs // 3))
optim_wrapper = dict(optimizer=dict(lr=2e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 1, eta_min=1e-5,
         by_epoch=True, begin=1, end=max_epochs, convert_to_iter_based=True),
]
export_name = 'x3d'
channels_last_3d = True  # ~2x faster depthwise Conv3d backward on CPU
work_dir = 'work_dirs/demo_train_x3d'
