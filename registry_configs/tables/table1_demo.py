# Paper Table 1 on the trained demo models (demo/leaps_r3d.py: the ordinarily
# trained ResNet3d-18 target r3d_noise.pth, R(2+1)D verifier, MViT judge;
# the 16 shipped stimuli, one video per stimulus, 16x64^2, batch 8; Fourier
# x* with decorrelated colour, the main job's transforms): the two baselines
# and four LEAPS variants.
#
#     python tools/tables.py registry_configs/tables/table1_demo.py
#
# Reduced budget: 200 Adam steps per video (the paper: 2000 at 8x224^2), one
# video per stimulus (the paper: 10 runs per class for the baselines, the
# Kinetics validation set as stimuli for LEAPS), IS over one split of 16
# videos. 6 rows x 16 videos x 200 steps take ~10 min on 2 CPU cores (a row
# without R_feat ~1 min, with it ~2.5 min).
title = 'Table 1 on the demo models (ResNet3d-18 target, R(2+1)D verifier)'
layout = 'table1'
iters = 200
rows = [
    dict(name='3D DeepDream', config='registry_configs/baselines/deepdream_3d.py'),
    dict(name='3D AM', config='registry_configs/baselines/am_3d.py'),
    dict(name='LEAPS (L_prim)',
         config='registry_configs/ablations/priming_only.py'),
    dict(name='LEAPS (L_prim + R_feat)',
         config='registry_configs/ablations/priming_diversity.py'),
    dict(name='LEAPS (logit + L_prim + R_coh + TV, l2, still: the main job)',
         config='registry_configs/demo/leaps_r3d.py'),
    dict(name='LEAPS (full)', config='registry_configs/ablations/full.py'),
]
