# Demo VERIFIER, stage 2: the R(2+1)D of train_r2plus1d.py fine-tuned with
# the target's stage-2 recipe (train_r3d_noise.py: 8 epochs with Gaussian
# pixel noise, std drawn from U(0, 40) per clip), so that it scores slightly
# noisy videos, synthesized ones included, by their motion.
#   python tools/train.py registry_configs/demo/train_r2plus1d_noise.py
# writes checkpoints/demo/r2plus1d.pth, the demo verifier; stage 1 is
# trained first when its export is missing, always with --from-scratch.
_base_ = ['./train_r3d_noise.py', './r2plus1d_backbone.py']

model = dict(backbone=dict(_base_.r2plus1d_backbone, _delete_=True),
             cls_head=dict(in_channels=64))
load_from = 'checkpoints/demo/r2plus1d_stage1.pth'
load_from_config = '{{ fileDirname }}/train_r2plus1d.py'
export_name = 'r2plus1d'
work_dir = 'work_dirs/demo_train_r2plus1d_noise'
