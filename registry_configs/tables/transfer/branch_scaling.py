# The main job's recipe with a ghost of the target in the objective
# (RandomBranchScaling, strength 0.5): the residual branches of the demo
# families (ResNet3d / R(2+1)D blocks' conv2, MViT blocks' attn and mlp) are
# scaled by per-job, per-step factors in [0.5, 1.5]. docs/experiments.md,
# "five more levers on the MViT target".
_base_ = ['./main_job.py']
leaps = dict(inverter=dict(target_augmentation=dict(
    type='RandomBranchScaling',
    include=r'^backbone\.(layer\d+\.\d+\.conv2|blocks\.\d+\.(attn|mlp))$',
    strength=0.5)))
