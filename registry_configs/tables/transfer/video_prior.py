# The main job's recipe with x* made by a deep video prior (GeneratorVideo:
# each job's own untrained 3-D convolutional decoder of a fixed code) in
# place of the space-time spectrum. docs/experiments.md, "five more levers
# on the MViT target".
_base_ = ['./main_job.py']
leaps = dict(inverter=dict(parameterization=dict(
    _delete_=True, type='GeneratorVideo', widths=(16, 8, 8), init_std=0.1,
    colour='decorrelated', value_range='clip')))
