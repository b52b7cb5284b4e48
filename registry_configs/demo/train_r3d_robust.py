# Demo TARGET, stage 3: the noise-tuned ResNet3d-18 (train_r3d_noise.py,
# checkpoints/demo/r3d_noise.pth) fine-tuned 8 epochs with adversarial
# training: every batch is moved by one signed-gradient step from a random
# start in an l-inf ball of 4 grey levels (of 255) before the loss
# (AdversarialRecognizer3D). A model trained this way has input gradients
# that draw motion other models recognise, instead of patterns only it
# responds to; at epsilon 8 held-out top-1 fell below 0.9 (0.857).
#   python tools/train.py registry_configs/demo/train_r3d_robust.py
# writes checkpoints/demo/r3d.pth, the demo target; stages 1 and 2 are
# trained first when their exports are missing, always with --from-scratch.
_base_ = './train_r3d_noise.py'
load_from = 'checkpoints/demo/r3d_noise.pth'
load_from_config = '{{ fileDirname }}/train_r3d_noise.py'
model = dict(type='AdversarialRecognizer3D', epsilon=4.0, step_size=5.0)
# epochs, schedule and noise augmentation: stage 2's (train_r3d_noise.py)
work_dir = 'work_dirs/demo_train_r3d_robust'
export_name = 'r3d'
