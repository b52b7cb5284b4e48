# The main job's recipe (demo/leaps_r3d.py) on another model: the 8-frame,
# frame-interval-2, 56^2 r3d_8x2_model.py. x* (8 x 56^2) and the stimulus
# pipeline follow that model's test pipeline; verifier, judge, stimuli and
# classes stay the recipe's (the model knows the same 8 demo classes).
_base_ = ['../../demo/leaps_r3d.py']
target = dict(from_config='{{ fileDirname }}/r3d_8x2_model.py',
              checkpoint='checkpoints/demo/r3d_noise.pth')
work_dir = 'work_dirs/examples/leaps_r3d_8x2'
