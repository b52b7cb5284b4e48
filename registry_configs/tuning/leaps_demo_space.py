# Search space of tools/tune.py for the LEAPS configs with the paper's four
# loss terms (losses: 0 CE, 1 priming, 2 coherence, 3 diversity), e.g. full
# LEAPS on the demo models:
#   python tools/tune.py registry_configs/ablations/full.py \
#       --space registry_configs/tuning/leaps_demo_space.py
# `r` is a top-level variable of those configs that mmengine substitutes into
# the coherence and diversity weights when it reads the config, so the search
# writes the sampled r to both list items (a tied parameter).
space = dict(
    lam=dict(type='float', low=0.1, high=10.0, log=True,
             keys='leaps.inverter.losses.1.layer_weights'),  # λ (eq. 1)
    r=dict(type='float', low=0.001, high=1.0, log=True,
           keys=['leaps.inverter.losses.2.weight',
                 'leaps.inverter.losses.3.weight']),  # r (eq. 4)
    lr=dict(type='float', low=0.02, high=1.0, log=True,
            keys='leaps.loop.optim_wrapper.optimizer.lr'),
)
# A reduced budget (the paper: 1K of 2K iterations): one stimulus per class.
tuning = dict(iters=40, stimuli=8, objective_net='verifier', n_trials=12,
              sampler_seed=0)
