# Worked example: a new variant in a few lines. Inherit an inversion config
# and override what differs, here X3D-S fine-tuned on a 10-class dataset with
# your own weights (pass --checkpoint) and a label file for the class names.
_base_ = ['../x3d_s.py']
model = dict(cls_head=dict(num_classes=10))
leaps = dict(inverter=dict(target_checkpoint=None), classes='data/my_classes.txt')
