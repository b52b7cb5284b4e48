# Transfer matrix on the ordinarily trained demo models (issue 22): each
# model inverted in turn, every synthesized video scored by all of them.
#
#     python tools/tables.py registry_configs/tables/transfer_demo.py
#
# Scorers: the stage-2 ResNet3d-18 (r3d_noise.pth), the R(2+1)D-18 and the
# MViT (checkpoints/demo/, README "Demo models"); none is adversarially
# trained. R3D and R(2+1)D are one family (3-D CNNs), the MViT another
# (transformer). The shipped stimuli (data/stimuli, seed 0) are the tuning
# set; data/stimuli_heldout (another seed of the motion generator,
# tools/make_stimuli.py --seed 7) took no part in any choice. 16 videos a
# row (8 classes x 2), 16 x 64^2, 200 Adam steps.
# Rows: the main job, its held-out run, 3D AM, the paper's objective with and
# without R_feat, levers screened in docs/experiments.md (branch scaling, a
# deep video prior x*, priming on a space-time grid of cells, with its
# control without a class term) and, as extra rows, the adversarially
# trained target and the R3D's stage 1 (no noise training); `--rows NAME`
# runs a few.
title = 'Transfer matrix on the demo models (ordinarily trained targets)'
layout = 'transfer'
iters = 200
scorers = dict(r3d='3-D CNN', r2plus1d='3-D CNN', mvit='transformer')

_models = dict(
    r3d=dict(config='train_r3d.py', checkpoint='r3d_noise.pth'),
    r2plus1d=dict(config='train_r2plus1d.py', checkpoint='r2plus1d.pth'),
    mvit=dict(config='train_mvit.py', checkpoint='mvit.pth'),
)
# where the MViT's features are read (its LayerNorm inputs; the last one
# for temporal coherence, 8 x 4 x 4 tokens after a class token)
_mvit_taps = {
    'leaps.inverter.taps.module_types': ('LayerNorm', ),
    'leaps.inverter.taps.token_grid.cls_token': True,
    'leaps.inverter.taps.token_grid.temporal_stride': 2,
    'leaps.inverter.taps.temporal_layer': 'backbone.norm2',
}
_heldout = {'leaps.stimuli.ann_file': 'data/stimuli_heldout/stimuli.txt',
            'leaps.stimuli.data_prefix.video': 'data/stimuli_heldout'}
_recipes = [
    ('main job', 'registry_configs/tables/transfer/main_job.py', {}),
    ('main job, held-out stimuli',
     'registry_configs/tables/transfer/main_job.py', _heldout),
    ('3D AM', 'registry_configs/tables/transfer/am_3d.py', {}),
]


def _options(model, extra):
    spec = _models[model]
    options = {'target.from_config': '../../demo/' + spec['config'],
               'target.checkpoint': 'checkpoints/demo/' + spec['checkpoint']}
    options.update(_mvit_taps if model == 'mvit' else {})
    options.update(extra)
    return options


# in this order: the cheap rows (R3D, MViT targets) first, the R(2+1)D's last
_order = [('main job', m) for m in ('r3d', 'r2plus1d', 'mvit')] + [
    (recipe, m) for m in ('r3d', 'mvit', 'r2plus1d')
    for recipe in ('3D AM', 'main job, held-out stimuli')]
_by_name = {recipe: (config, extra) for recipe, config, extra in _recipes}
rows = [dict(name=f'{recipe}: {model}', config=_by_name[recipe][0],
             recipe=recipe, target=model,
             cfg_options=_options(model, _by_name[recipe][1]))
        for recipe, model in _order]
# The paper's objective (eq. 4 with R_feat, per-layer normalised, over the
# batch) and the same without R_feat. R_feat reads another demo model's
# BatchNorm statistics (the R(2+1)D's, the R3D's for the R(2+1)D target):
# that scorer shared the loss and is left out of the row's summary.
_rfeat_verifier = dict(r3d='r2plus1d', r2plus1d='r3d', mvit='r2plus1d')
for _model in ('r3d', 'mvit', 'r2plus1d'):
    _verifier = _models[_rfeat_verifier[_model]]
    rows.append(dict(
        name=f'paper objective: {_model}',
        config='registry_configs/tables/transfer/paper_objective.py',
        recipe='paper objective (eq. 4, R_feat normalised, batch statistics)',
        target=_model,
        shared=[_rfeat_verifier[_model]],
        cfg_options=_options(_model, {
            'verifier.from_config': '../../demo/' + _verifier['config'],
            'leaps.inverter.verifier_checkpoint':
                'checkpoints/demo/' + _verifier['checkpoint']})))
    rows.append(dict(
        name=f'paper objective, no R_feat: {_model}',
        config='registry_configs/tables/transfer/paper_objective_no_rfeat.py',
        recipe='paper objective without R_feat', target=_model,
        cfg_options=_options(_model, {})))
for _recipe, _config in (
        ('main job + branch scaling', 'branch_scaling.py'),
        ('main job, deep video prior x*', 'video_prior.py'),
        ('main job, grid priming', 'grid_priming.py'),
        ('main job, grid priming on clean x*', 'grid_priming_clean.py'),
        ('grid priming alone, no class term (control)',
         'grid_priming_control.py')):
    rows += [dict(name=f'{_recipe}: {_model}',
                  config='registry_configs/tables/transfer/' + _config,
                  recipe=_recipe, target=_model,
                  cfg_options=_options(_model, {}))
             for _model in ('r3d', 'mvit', 'r2plus1d')]
# The main job and 3D AM again from other initial noise and transform draws
# (x* seed 100: job j starts from seed 100 + j), to see how far one run's
# figures move.
rows += [dict(name=f'{recipe}, x* seed 100: {model}',
              config=_by_name[recipe][0], recipe=f'{recipe}, x* seed 100',
              target=model, cfg_options=_options(model, {'leaps.seed': 100}))
         for recipe in ('main job', '3D AM')
         for model in ('r3d', 'mvit', 'r2plus1d')]
rows += [dict(name=f'main job, held-out stimuli, x* seed 100: {model}',
              config=_by_name['main job'][0],
              recipe='main job, held-out stimuli, x* seed 100', target=model,
              cfg_options=_options(model, {**_heldout, 'leaps.seed': 100}))
         for model in ('r3d', 'mvit', 'r2plus1d')]
rows += [dict(name=f'main job, grid priming on clean x*, held-out stimuli: '
              f'{_model}',
              config='registry_configs/tables/transfer/grid_priming_clean.py',
              recipe='main job, grid priming on clean x*, held-out stimuli',
              target=_model, cfg_options=_options(_model, _heldout))
         for _model in ('r3d', 'mvit', 'r2plus1d')]
# Extra rows, R3Ds that are no scorer and are fine-tunes or the origin of
# the r3d scorer (r3d_noise.pth), so shared with it: the adversarially
# trained target (stage 3) and the R3D's stage 1 (train_r3d.py), trained
# without the noise stage every scorer had, as Kinetics checkpoints are.
for _name, _recipe, _target, _checkpoint in (
        ('adversarial r3d', 'adversarially trained target', 'r3d_adv',
         'r3d.pth'),
        ('r3d without noise training', 'target trained without pixel noise',
         'r3d_stage1', 'r3d_stage1.pth')):
    rows.append(dict(
        name=f'main job: {_name} (extra row)',
        config='registry_configs/tables/transfer/main_job.py',
        recipe=f'main job, {_recipe} (extra row)',
        target=_target, family='3-D CNN', shared=['r3d'],
        cfg_options={'target.from_config': '../../demo/train_r3d.py',
                     'target.checkpoint': 'checkpoints/demo/' + _checkpoint}))
