# Demo JUDGE, stage 2: the MViT of train_mvit.py trained 16 more epochs on
# raw clips (no warm-up) with a fresh cosine schedule from a lower rate.
#   python tools/train.py registry_configs/demo/train_mvit_continue.py
# writes checkpoints/demo/mvit_stage2.pth (held-out top-1 0.951), from which
# stage 3 (train_mvit_noise.py) makes the demo judge.
_base_ = './train_mvit.py'
max_epochs = 16
load_from = 'checkpoints/demo/mvit_stage1.pth'
load_from_config = '{{ fileDirname }}/train_mvit.py'
train_cfg = dict(max_epochs=max_epochs, val_interval=8)
train_dataloader = dict(dataset=dict(warmup_epochs=0))
optim_wrapper = dict(optimizer=dict(lr=3e-4))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=1e-5,
         by_epoch=True, begin=0, end=max_epochs, convert_to_iter_based=True),
]
export_name = 'mvit_stage2'
work_dir = 'work_dirs/demo_train_mvit_continue'
