# Demo VERIFIER, stage 1: an R(2+1)D (ResNet2Plus1d-18, 3 stages, base 16:
# factorised spatial + temporal convolutions, with BatchNorm for LEAPS's
# feature-diversity term) trained from scratch on the motion dataset with
# the target's recipe (train_r3d.py). Its stage 2, train_r2plus1d_noise.py,
# is the demo verifier.
#   python tools/train.py registry_configs/demo/train_r2plus1d.py
# writes checkpoints/demo/r2plus1d_stage1.pth (held-out top-1 0.984).
# The paper's verifier is an X3D-S; a small X3D (gamma_w 0.5) trained with
# this recipe could not tell the rotation directions apart (held-out 0.863
# after 36 epochs; 0.744 after 12 epochs with stage-1 stride 1), see README.
_base_ = ['./train_r3d.py', './r2plus1d_backbone.py']

model = dict(backbone=dict(_base_.r2plus1d_backbone, _delete_=True),
             cls_head=dict(in_channels=64))
export_name = 'r2plus1d_stage1'
work_dir = 'work_dirs/demo_train_r2plus1d'
