# The 3D AM baseline (baselines/am_3d.py) on the same model as
# leaps_r3d_8x2.py: the overlay is the same but for the recipe.
_base_ = ['../../baselines/am_3d.py']
target = dict(from_config='{{ fileDirname }}/r3d_8x2_model.py',
              checkpoint='checkpoints/demo/r3d_noise.pth')
work_dir = 'work_dirs/examples/am_3d_8x2'
