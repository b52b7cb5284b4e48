# Demo TARGET, stage 2: the ResNet3d-18 of train_r3d.py (stage 1, exported
# as checkpoints/demo/r3d_stage1.pth) fine-tuned 8 epochs with Gaussian pixel
# noise (std drawn from U(0, 40) per clip): held-out top-1 0.941 -> 0.979.
#   python tools/train.py registry_configs/demo/train_r3d_noise.py
# trains stage 1 first when its export is missing, and writes
# checkpoints/demo/r3d_noise.pth, from which stage 3 makes the demo target.
_base_ = './train_r3d.py'
max_epochs = 8
load_from = 'checkpoints/demo/r3d_stage1.pth'
load_from_config = '{{ fileDirname }}/train_r3d.py'  # trained first if missing
train_cfg = dict(max_epochs=max_epochs, val_interval=4)
train_dataloader = dict(dataset=dict(warmup_epochs=0, noise_std=40.0))
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 1, eta_min=1e-5,
         by_epoch=True, begin=1, end=max_epochs, convert_to_iter_based=True),
]
work_dir = 'work_dirs/demo_train_r3d_noise'
export_name = 'r3d_noise'
