"""Turn an inversion config into the config of mmengine's Runner.

An inversion config is any MMAction2 recognizer config (usually inherited via
``mmaction::``) plus ``leaps`` (the inverter, loop, stimuli, tracking and
batch settings), ``verifier`` and optionally ``judge`` (recognizer configs, or
``dict(from_config='other.py')`` to take the ``model`` of another config,
relative to this one) and ``work_dir``. The recognizer in ``model`` becomes
the inverter's target, and its test pipeline decodes the stimuli. Hooks of
the recognizer's training config are not carried over; inversion hooks go in
``leaps.custom_hooks``.
"""
import os.path as osp
from typing import Optional

from mmengine.config import Config

from leaps_mm.datasets import KINETICS400_CLASSES
from leaps_mm.datasets.stimulus_dataset import read_class_names
from leaps_mm.models.scorers import scorer_kwargs
from leaps_mm.visualization import mlflow_hook  # noqa: F401  (registers it)

_TRAINING_KEYS = ('train_dataloader', 'val_dataloader', 'train_cfg', 'val_cfg',
                  'val_evaluator', 'optim_wrapper', 'param_scheduler',
                  'auto_scale_lr', 'load_from')
_CLASS_LISTS = {'kinetics400': KINETICS400_CLASSES}


def resolve_network(spec: Optional[dict], config_file: str) -> Optional[dict]:
    """A recognizer config, or the ``model`` of ``spec['from_config']``
    (a path relative to ``config_file``'s folder, or ``mmaction::...``)."""
    if not spec or 'from_config' not in spec:
        return spec
    path = spec['from_config']
    if not path.startswith('mmaction::') and not osp.isabs(path):
        path = osp.join(osp.dirname(config_file or '.'), path)
    if not path.startswith('mmaction::') and not osp.isfile(path):
        raise FileNotFoundError(f'{config_file}: from_config {path!r} does '
                                'not exist.')
    return Config.fromfile(path).model.to_dict()


def resolve_target(cfg: Config) -> Config:
    """``cfg`` with ``target = dict(from_config=PATH, checkpoint=PTH,
    input_size=(T, H, W))`` (optional; paths as for the verifier) turned
    into ``model`` and ``leaps.inverter.target_checkpoint`` /
    ``target_input_size``, so a recipe inverts another model by a few lines
    (or ``--cfg-options target.from_config=...`` over a config that holds
    the placeholder ``target = dict(from_config=None, checkpoint=None)``)."""
    target = cfg.get('target')
    if isinstance(target, dict) and all(v is None for v in target.values()):
        target = None  # the placeholder dict(from_config=None, ...)
    if not target:
        return cfg
    if not isinstance(target, dict) or not target.get('from_config'):
        raise ValueError(f'{cfg.filename}: `target` must be dict(from_config='
                         "'model_config.py', checkpoint='weights.pth'), not "
                         f'{target!r}.')
    unknown = sorted(set(target) - {'from_config', 'checkpoint', 'input_size'})
    if unknown:
        raise ValueError(f'{cfg.filename}: unknown key(s) {unknown} in '
                         '`target`; it takes from_config, checkpoint and '
                         'input_size.')
    out = Config(cfg.to_dict(), filename=cfg.filename)
    out.model = resolve_network(dict(target), cfg.filename)
    for key, inverter_key in (('checkpoint', 'target_checkpoint'),
                              ('input_size', 'target_input_size')):
        if key in target:
            out.leaps.inverter[inverter_key] = target[key]
    out.pop('target')
    return out


def check_class_counts(cfg: Config, classes) -> None:
    """Refuse a label file whose number of names differs from the number of
    classes of the target, verifier or judge (``cls_head.num_classes``,
    which a loaded checkpoint must match), naming the files and counts.
    A label file that does not exist is left to the dataset's error."""
    if isinstance(classes, str):
        if not osp.isfile(classes):
            return
        source = f'label file {classes}'
    elif classes:
        source = 'the class list leaps.classes'
    else:
        return
    count = len(read_class_names(classes))
    leaps = cfg.leaps.inverter
    for net, model in (('target', cfg.model),
                       ('verifier', resolve_network(cfg.get('verifier'),
                                                    cfg.filename)),
                       ('judge', resolve_network(cfg.get('judge'),
                                                 cfg.filename))):
        if net != 'target' and ((cfg.get(net) or {}).get('classes') or
                                leaps.get(f'{net}_classes')):
            continue  # its own label file: mapped (and checked) by name
        head = (model or {}).get('cls_head') or {}
        num = head.get('num_classes')
        if not isinstance(num, int) or num == count:
            continue
        key = 'model' if net == 'target' else net
        checkpoint = leaps.get(f'{net}_checkpoint')
        weights = (f', checkpoint {checkpoint}' if checkpoint else
                   ', random weights')
        raise ValueError(
            f'The {net} has {num} classes ({key}.cls_head.num_classes in '
            f'{cfg.filename}{weights}) but the {source} lists {count}. Give '
            'the label file of the dataset the model was trained on '
            '(--classes FILE or leaps.classes), or a model for these '
            'classes.')


def build_runner_config(cfg: Config) -> Config:
    """Return a Runner config: ``model`` a ``LEAPSInverter``, ``test_cfg`` the
    ``InversionLoop``, ``test_dataloader`` the ``StimulusDataset`` and, unless
    ``leaps.tracking.enabled`` is False, ``custom_hooks`` the
    ``MLflowTrackingHook`` with the other ``leaps.tracking`` keys."""
    if 'leaps' not in cfg:
        raise KeyError(f'{cfg.filename}: no `leaps` section; inherit '
                       "registry_configs/_base_/leaps.py in `_base_`.")
    cfg = resolve_target(cfg)
    leaps = cfg.leaps
    if cfg.model.get('type') == 'LEAPSInverter':
        raise ValueError(f'{cfg.filename}: `model` must be the recognizer to '
                         'invert; LEAPS settings go in `leaps.inverter`.')
    classes = leaps.get('classes')
    classes = _CLASS_LISTS.get(classes, classes)
    check_class_counts(cfg, classes)
    pipeline = cfg.get('test_pipeline') or cfg.test_dataloader.dataset.pipeline

    out = Config(cfg.to_dict(), filename=cfg.filename)
    for key in _TRAINING_KEYS:
        out.pop(key, None)
    out.default_scope = 'leaps_mm'
    # verifier / judge / judges with their scorer keys (classes, name, ...);
    # the target's class names to map their scores by (models/scorers.py)
    out.model = dict(dict(type='LEAPSInverter', target=cfg.model,
                          class_names=classes, **leaps.inverter),
                     **scorer_kwargs(cfg, leaps.inverter))
    out.test_dataloader = dict(
        batch_size=leaps.batch_size,
        num_workers=leaps.get('num_workers', 0),
        persistent_workers=False,
        # round_up=False: with a job count the ranks do not divide, the
        # default pads the last rank with repeats of the first jobs, which
        # would run (and be logged) twice
        sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
        collate_fn=dict(type='pseudo_collate'),
        dataset=dict(type='StimulusDataset', classes=classes,
                     pipeline=pipeline, **leaps.stimuli))
    out.test_cfg = dict(type='InversionLoop', seed=leaps.seed, **leaps.loop)
    out.test_evaluator = dict(type='InversionMetric',
                              **leaps.get('evaluation', {}))
    out.randomness = dict(seed=leaps.seed, deterministic=False)
    out.log_level = leaps.get('log_level', 'WARNING')
    tracking = dict(dict(enabled=True, experiment='leaps'),
                    **leaps.get('tracking', {}))
    hooks = list(leaps.get('custom_hooks', []))
    if tracking.pop('enabled'):
        hooks.append(dict(type='MLflowTrackingHook', **tracking))
    out.custom_hooks = hooks
    out.leaps_identity = dict(
        config=osp.abspath(cfg.filename) if cfg.filename else None,
        target_checkpoint=leaps.inverter.get('target_checkpoint'),
        verifier_checkpoint=leaps.inverter.get('verifier_checkpoint'),
        judge_checkpoint=leaps.inverter.get('judge_checkpoint'))
    return out
