# Demo JUDGE, stage 3: the MViT of train_mvit_continue.py fine-tuned 8 epochs
# with Gaussian pixel noise (std drawn from U(0, 40) per clip), the noise
# stage of the target and the verifier. Before it the judge put 44 of 64
# held-out clips with noise of std 30 into the two rotation classes (top-1
# 0.53), and so most synthesized videos too.
#   python tools/train.py registry_configs/demo/train_mvit_noise.py
# writes checkpoints/demo/mvit_stage3.pth (held-out top-1 0.936, rotation
# directions 78 %), from which stage 4 (train_mvit_long.py) makes the demo
# judge; stages 1 and 2 are trained first when their exports are missing,
# always with --from-scratch.
_base_ = './train_mvit_continue.py'
max_epochs = 8
load_from = 'checkpoints/demo/mvit_stage2.pth'
load_from_config = '{{ fileDirname }}/train_mvit_continue.py'
train_cfg = dict(max_epochs=max_epochs, val_interval=4)
train_dataloader = dict(dataset=dict(noise_std=40.0))
optim_wrapper = dict(optimizer=dict(lr=2e-4))
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=1e-5,
         by_epoch=True, begin=0, end=max_epochs, convert_to_iter_based=True),
]
export_name = 'mvit_stage3'
work_dir = 'work_dirs/demo_train_mvit_noise'
