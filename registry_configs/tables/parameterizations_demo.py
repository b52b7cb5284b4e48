# Parameterisations and transforms of x* on the trained demo models
# (demo/leaps_r3d.py: ResNet3d-18 target, R(2+1)D verifier, MViT judge that
# never enters the loss): pixel (the paper's) vs Fourier vs low resolution vs
# decorrelated colour, with and without the random transforms of
# demo/leaps_r3d.py (roll, scale, rotation, blur, temporal shift), for full
# _LEAPS and the two baselines.
#
#     python tools/tables.py registry_configs/tables/parameterizations_demo.py
#
# Budget: 200 Adam steps per video, one stimulus per class (8 videos per row,
# data/stimuli/stimuli_one_per_class.txt), IS over one split.
#
# Pinned to the set-up it was measured with (README): the stage-2 target
# (r3d_noise.pth, before adversarial training), full LEAPS
# (ablations/full.py), pixel x* from noise of std 1 at Adam lr 0.2.
title = 'Parameterisations and transforms on the demo models'
layout = 'generic'
columns = ['top1_model', 'top1_verifier', 'top1_judge', 'is_verifier',
           'ssim_consecutive']
iters = 200
cfg_options = {
    'leaps.stimuli.ann_file': 'data/stimuli/stimuli_one_per_class.txt',
    'leaps.inverter.target_checkpoint': 'checkpoints/demo/r3d_noise.pth',
    # the whole parameterisation replaced (_delete_), not merged into the
    # main job's FourierVideo settings
    'leaps.inverter.parameterization._delete_': True,
    'leaps.inverter.parameterization.type': 'PixelVideo',
    'leaps.inverter.parameterization.init_std': 1.0,
    'leaps.inverter.parameterization.colour': 'rgb',
    'leaps.inverter.parameterization.value_range': 'clip',
    'leaps.loop.optim_wrapper.optimizer.lr': 0.2}

_NO_T = {'leaps.inverter.transforms': []}
_FOURIER = {
    'leaps.inverter.parameterization.type': 'FourierVideo',
    'leaps.inverter.parameterization.time_weight': 4.0,
    'leaps.inverter.parameterization.init_std': 0.1,
    'leaps.loop.optim_wrapper.optimizer.lr': 0.05}
_LOW_RES = {
    'leaps.inverter.parameterization.type': 'LowResVideo',
    'leaps.inverter.parameterization.factor': (4, 4, 4),
    'leaps.inverter.parameterization.init_std': 0.1}
_COLOUR = {'leaps.inverter.parameterization.colour': 'decorrelated'}
_LEAPS = 'registry_configs/ablations/full.py'
_AM = 'registry_configs/baselines/am_3d.py'
_DEEPDREAM = 'registry_configs/baselines/deepdream_3d.py'

rows = [
    dict(name='LEAPS, pixel (paper)', config=_LEAPS, cfg_options=_NO_T),
    dict(name='LEAPS, pixel + T', config=_LEAPS),
    dict(name='LEAPS, Fourier', config=_LEAPS, cfg_options={**_FOURIER, **_NO_T}),
    dict(name='LEAPS, Fourier + T', config=_LEAPS, cfg_options=_FOURIER),
    dict(name='LEAPS, low-res', config=_LEAPS, cfg_options={**_LOW_RES, **_NO_T}),
    dict(name='LEAPS, low-res + T', config=_LEAPS, cfg_options=_LOW_RES),
    dict(name='LEAPS, decorrelated colour + T', config=_LEAPS,
         cfg_options=_COLOUR),
    dict(name='3D AM, pixel', config=_AM, cfg_options=_NO_T),
    dict(name='3D AM, low-res + T', config=_AM, cfg_options=_LOW_RES),
    dict(name='3D DeepDream, pixel', config=_DEEPDREAM, cfg_options=_NO_T),
    dict(name='3D DeepDream, low-res + T', config=_DEEPDREAM,
         cfg_options=_LOW_RES),
]
