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
import warnings
from typing import Optional, Tuple

from mmengine.config import Config

from leaps_mm.datasets import KINETICS400_CLASSES
from leaps_mm.datasets.stimulus_dataset import read_class_names
from leaps_mm.models.scorers import scorer_kwargs
from leaps_mm.engine.hooks import mlflow_hook  # noqa: F401  (registers it)

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


class ClipLengthWarning(UserWarning):
    """The stimulus clip, x* and the model's own clip differ in length."""


# the keys of `target = dict(...)`; a key given there is explicit (its value
# or 'recipe'), a key left out follows the target config's test pipeline
TARGET_KEYS = ('from_config', 'checkpoint', 'input_size', 'x_size',
               'pipeline')
RECIPE = 'recipe'  # target.<key>='recipe': keep the recipe's value
_SAMPLERS = ('SampleFrames', 'UniformSample', 'DenseSampleFrames')
_CROPS = ('CenterCrop', 'ThreeCrop', 'TenCrop')
# fixed-size backbones: the key of their clip length and its default
_FIXED_CLIP = {'TimeSformer': ('num_frames', None),
               'MViT': ('temporal_size', 16),
               'UniFormerV2': ('t_size', 8)}


def _kind(step) -> str:
    return str(step.get('type', '')).split('.')[-1] if isinstance(
        step, dict) else ''


def own_test_pipeline(cfg) -> Optional[list]:
    """A recognizer config's own test pipeline: ``test_pipeline``, else
    ``test_dataloader.dataset.pipeline``; None when it has neither (e.g.
    the demo training configs, whose test data is rendered)."""
    pipeline = cfg.get('test_pipeline')
    if not pipeline:
        loader = cfg.get('test_dataloader') or {}
        pipeline = (loader.get('dataset') or {}).get('pipeline')
    return list(pipeline) if pipeline else None


def pipeline_sampler(pipeline) -> Optional[dict]:
    """A pipeline's frame sampler (``SampleFrames``, ``UniformSample``,
    ``DenseSampleFrames``), else None."""
    return next((step for step in pipeline or ()
                 if _kind(step) in _SAMPLERS), None)


def pipeline_clip_len(pipeline) -> Optional[int]:
    """``clip_len`` of a pipeline's frame sampler, else None."""
    return (pipeline_sampler(pipeline) or {}).get('clip_len')


def pipeline_clip_size(pipeline) -> Tuple[Optional[int], ...]:
    """``(T, H, W)`` of the clips a test pipeline makes: T its sampler's
    ``clip_len``, H and W its last crop (``crop_size``: an int, or ``(w,
    h)``) or a ``Resize`` to a fixed ``(w, h)`` with ``keep_ratio=False``;
    None where the pipeline leaves it open (a short-side resize alone)."""
    height = width = None
    for step in pipeline or ():
        kind, size = _kind(step), None
        if kind in _CROPS:
            size = step.get('crop_size')
        elif kind == 'Resize' and step.get('keep_ratio', True) is False:
            size = step.get('scale')
        if isinstance(size, int) and size > 0:
            height = width = size
        elif isinstance(size, (tuple, list)) and len(size) == 2 and all(
                isinstance(s, int) and s > 0 for s in size):
            width, height = size
    return (pipeline_clip_len(pipeline), height, width)


def fixed_clip_len(model: dict) -> Optional[Tuple[int, str]]:
    """``(T, key)`` of a backbone built for one clip length (TimeSformer,
    MViT, UniFormerV2), else None."""
    backbone = (model or {}).get('backbone') or {}
    kind = str(backbone.get('type', '')).split('.')[-1]
    if kind not in _FIXED_CLIP:
        return None
    key, default = _FIXED_CLIP[kind]
    length = backbone.get(key, default)
    return (length, f'model.backbone.{key}') if isinstance(length,
                                                           int) else None


def _target_config(path: str, config_file: str) -> Config:
    """The config ``target.from_config`` names (relative to
    ``config_file``'s folder, absolute, or ``mmaction::...``)."""
    if not path.startswith('mmaction::') and not osp.isabs(path):
        path = osp.join(osp.dirname(config_file or '.'), path)
    if not path.startswith('mmaction::') and not osp.isfile(path):
        raise FileNotFoundError(f'{config_file}: from_config {path!r} does '
                                'not exist.')
    return Config.fromfile(path)


def _size(target: dict, key: str, filename: str, none_ok: bool = False):
    """``target[key]``: ``'recipe'``, a ``(T, H, W)`` of positive ints (or
    None where ``none_ok``); anything else is a ValueError naming it."""
    value = target[key]
    if value == RECIPE or (value is None and none_ok) or (
            isinstance(value, (tuple, list)) and len(value) == 3 and all(
                isinstance(v, int) and not isinstance(v, bool) and v > 0
                for v in value)):
        return tuple(value) if isinstance(value, (tuple, list)) else value
    raise ValueError(f'{filename}: target.{key}={value!r} must be (T, H, W) '
                     'of positive ints' + (', None' if none_ok else '') +
                     f" or {RECIPE!r} (keep the recipe's value).")


def _adopt_clip(out: Config, target: dict, own: Optional[list],
                name: str) -> None:
    """Set ``out``'s stimulus pipeline, x*'s size and the target's input
    size for the target whose own test pipeline is ``own`` (None: it has
    none): each from ``target`` where it names it, else derived:

    - ``test_pipeline``: ``target.pipeline``, else ``own``;
    - ``leaps.inverter.target_input_size``: ``target.input_size``, else the
      clip size of ``own`` when the recipe interpolates x* (sets
      ``target_input_size``: now to this model's clip), else the recipe's;
    - ``leaps.inverter.input_size`` (x*): ``target.x_size``, else the
      recipe's when x* is interpolated (``target_input_size`` set), else the
      clip size of ``own``.

    ``'recipe'`` as a value keeps the recipe's setting; parts of the clip
    size ``own`` leaves open (H and W of a short-side resize without a
    crop) are the recipe's x*'s."""
    inverter = out.leaps.inverter
    recipe_x = tuple(inverter.get('input_size') or (8, 224, 224))
    recipe_tis = inverter.get('target_input_size')
    clip = None
    if own:
        clip = tuple(c if c is not None else r for c, r in
                     zip(pipeline_clip_size(own), recipe_x))

    if 'pipeline' in target:
        pipeline = target['pipeline']
        if pipeline != RECIPE and not (
                isinstance(pipeline, (list, tuple)) and pipeline and
                all(isinstance(s, dict) and 'type' in s for s in pipeline)):
            raise ValueError(f'{name}: target.pipeline must be a list of '
                             f"pipeline steps or {RECIPE!r} (keep the "
                             f'recipe\'s test_pipeline), not {pipeline!r}.')
        if pipeline != RECIPE:
            out.test_pipeline = [dict(s) for s in pipeline]
    elif own:
        out.test_pipeline = own

    if 'input_size' in target:
        tis = _size(target, 'input_size', name, none_ok=True)
        tis = recipe_tis if tis == RECIPE else tis
    else:
        tis = clip if recipe_tis is not None and clip else recipe_tis
    if 'x_size' in target:
        x_size = _size(target, 'x_size', name)
        x_size = recipe_x if x_size == RECIPE else x_size
    else:
        x_size = recipe_x if tis is not None or not clip else clip
    for key, value in (('input_size', x_size), ('target_input_size', tis)):
        current = inverter.get(key)
        if (tuple(current) if current else current) != (
                tuple(value) if value else value):
            inverter[key] = value


def _resolve_target(cfg: Config) -> Tuple[Config, Optional[str],
                                          Optional[int]]:
    """:func:`resolve_target`, plus ``target.from_config`` (None without a
    target) and the clip length of the target config's own test pipeline
    (None when it has none or it samples no fixed length)."""
    target = cfg.get('target')
    if isinstance(target, dict) and all(v is None for v in target.values()):
        target = None  # the placeholder dict(from_config=None, ...)
    if not target:
        return cfg, None, None
    if not isinstance(target, dict) or not target.get('from_config'):
        raise ValueError(f'{cfg.filename}: `target` must be dict(from_config='
                         "'model_config.py', checkpoint='weights.pth'), not "
                         f'{target!r}.')
    unknown = sorted(set(target) - set(TARGET_KEYS))
    if unknown:
        raise ValueError(f'{cfg.filename}: unknown key(s) {unknown} in '
                         f'`target`; it takes {", ".join(TARGET_KEYS)}.')
    target = dict(target)
    model_cfg = _target_config(target['from_config'], cfg.filename)
    out = Config(cfg.to_dict(), filename=cfg.filename)
    out.model = model_cfg.model.to_dict()
    if 'checkpoint' in target:
        out.leaps.inverter['target_checkpoint'] = target['checkpoint']
    own = own_test_pipeline(model_cfg)
    _adopt_clip(out, target, own, cfg.filename)
    out.pop('target')
    return out, target['from_config'], pipeline_clip_len(own)


def resolve_target(cfg: Config) -> Config:
    """``cfg`` with ``target = dict(from_config=PATH, checkpoint=PTH)``
    (paths as for the verifier) turned into ``model`` and
    ``leaps.inverter.target_checkpoint``, so a recipe inverts another model
    by a few lines (or ``--cfg-options target.from_config=...`` over a
    config that holds the placeholder ``target = dict(from_config=None,
    checkpoint=None)``). The stimulus pipeline (``test_pipeline``), x*'s
    size (``leaps.inverter.input_size``) and the model's input size
    (``target_input_size``) follow the target config's own test pipeline
    unless ``target`` names them (``pipeline``, ``x_size``, ``input_size``;
    ``'recipe'`` keeps the recipe's): see :func:`_adopt_clip`."""
    return _resolve_target(cfg)[0]


def clip_length_message(cfg: Config, pipeline, own_clip: Optional[int] = None,
                        from_config: Optional[str] = None) -> Optional[str]:
    """One line when the stimulus clip (``pipeline``'s sampler), x* as
    the target is fed it (``input_size``, or ``target_input_size`` when set)
    and the model's own clip (``own_clip``: the target config's test
    pipeline; else a fixed-size backbone's) differ in length, naming the
    numbers and the keys to set; None when they agree."""
    inverter = cfg.leaps.inverter
    stimulus = pipeline_clip_len(pipeline)
    x_len = tuple(inverter.get('input_size') or (8, 224, 224))[0]
    tis = inverter.get('target_input_size')
    fed = tis[0] if tis else x_len
    own_source = None
    if from_config and osp.isabs(from_config) and not osp.relpath(
            from_config).startswith('..'):
        from_config = osp.relpath(from_config)
    if own_clip is not None:
        own_source = f'the test pipeline of {from_config}'
    elif fixed_clip_len(cfg.model):
        own_clip, own_source = fixed_clip_len(cfg.model)
    known = {n for n in (stimulus, fed, own_clip) if isinstance(n, int)}
    if len(known) <= 1:
        return None
    if from_config:
        keys = ('target.pipeline', 'target.x_size', 'target.input_size')
    else:
        sampler = _kind(pipeline_sampler(pipeline) or {}) or 'SampleFrames'
        keys = (f'the {sampler} clip_len of test_pipeline',
                'leaps.inverter.input_size',
                'leaps.inverter.target_input_size')
    parts = []
    if stimulus is not None:
        parts.append(f'the stimulus clip has {stimulus} frames ({keys[0]})')
    if tis:
        parts.append(f'x* ({x_len} frames, {keys[1]}) is interpolated to '
                     f'{fed} ({keys[2]})')
    else:
        parts.append(f'x* has {x_len} frames ({keys[1]}), fed as is')
    if own_clip is not None:
        parts.append(f"the model's own clip has {own_clip} frames "
                     f'({own_source})')
    hint = (f' (left out of `target`, they follow {from_config}\'s test '
            'pipeline)' if from_config else '')
    return (f'{cfg.filename}: clip lengths disagree: {"; ".join(parts)}. '
            f'Set {keys[0]}, {keys[1]} or {keys[2]} (x* interpolated to the '
            f'model\'s clip) so they agree{hint}.')


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
    cfg, from_config, own_clip = _resolve_target(cfg)
    leaps = cfg.leaps
    if cfg.model.get('type') == 'LEAPSInverter':
        raise ValueError(f'{cfg.filename}: `model` must be the recognizer to '
                         'invert; LEAPS settings go in `leaps.inverter`.')
    classes = leaps.get('classes')
    classes = _CLASS_LISTS.get(classes, classes)
    check_class_counts(cfg, classes)
    pipeline = cfg.get('test_pipeline') or cfg.test_dataloader.dataset.pipeline
    message = clip_length_message(cfg, pipeline, own_clip, from_config)
    if message:
        warnings.warn(message, ClipLengthWarning, stacklevel=2)

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
    # what the sweep ran, in every job's result.json (the loop's
    # ``identity``) and on the MLflow parent run (the hook's)
    identity = dict(
        config=osp.abspath(cfg.filename) if cfg.filename else None,
        target_checkpoint=leaps.inverter.get('target_checkpoint'),
        verifier_checkpoint=leaps.inverter.get('verifier_checkpoint'),
        judge_checkpoint=leaps.inverter.get('judge_checkpoint'))
    out.test_cfg.identity = identity
    tracking = dict(dict(enabled=True, experiment='leaps'),
                    **leaps.get('tracking', {}))
    hooks = list(leaps.get('custom_hooks', []))
    if tracking.pop('enabled'):
        # the sweep's own values win over same-named leaps.tracking keys
        hooks.append(dict(
            tracking, type='MLflowTrackingHook', identity=identity,
            seed=leaps.seed, fps=leaps.loop.get('fps', 8),
            resume=leaps.loop.get('resume', False)))
    out.custom_hooks = hooks
    return out
