"""Scorers: frozen recognizers that score videos in the target's class order.

A verifier or judge may have been trained with another label file than the
target (another order, or more classes). Each can name its own classes
(``classes``: a label file, a list, ``'kinetics400'``, or ``'checkpoint'``:
the names in its checkpoint's ``meta.dataset_meta.classes``, which
``tools/train.py`` writes); its logits are then
mapped into the target's class order by name before the softmax
(:func:`class_index`), so ``*_pred`` and ``*_prob_target`` always refer to
the target's classes. A scorer without ``classes`` is assumed to share the
target's order (its class count is checked).

A scorer in a config (``verifier=``, ``judge=`` or an element of
``judges=[...]``) is a recognizer config or ``dict(from_config=PATH)`` (the
``model`` of another config), plus the scorer keys of :data:`SCORER_KEYS`::

    judges = [dict(from_config='train_mvit.py', checkpoint='mvit.pth',
                   classes='mvit_classes.txt', name='mvit'),
              dict(from_config='train_r2plus1d.py', checkpoint='r21d.pth')]
"""
import os.path as osp
import re
import warnings
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import nn

Size3d = Tuple[int, int, int]
ClassSpec = Union[str, Sequence[str], None]
# keys of a scorer spec that are not part of the recognizer's config
SCORER_KEYS = ('checkpoint', 'input_size', 'classes', 'name')


class ClassOrderWarning(UserWarning):
    """A scorer's classes are in another order than the target's (mapped)."""


def load_class_names(classes: ClassSpec,
                     checkpoint: Optional[str] = None) -> List[str]:
    """Names from a label file (one per line), a list, ``'kinetics400'``, or
    ``'checkpoint'`` (``meta.dataset_meta.classes`` of ``checkpoint``)."""
    from leaps_mm.datasets import KINETICS400_CLASSES
    from leaps_mm.datasets.stimulus_dataset import read_class_names
    if classes == 'kinetics400':
        classes = KINETICS400_CLASSES
    if classes == 'checkpoint':
        return checkpoint_class_names(checkpoint)
    return read_class_names(classes)


def checkpoint_class_names(checkpoint: Optional[str]) -> List[str]:
    """``meta.dataset_meta.classes`` of a checkpoint; ValueError if none."""
    from leaps_mm.fileio.checkpoint import load_checkpoint_file
    if not checkpoint:
        raise ValueError("classes='checkpoint' needs a checkpoint.")
    meta = load_checkpoint_file(checkpoint).get('meta') or {}
    names = (meta.get('dataset_meta') or {}).get('classes') if \
        isinstance(meta, dict) else None
    if not names:
        raise ValueError(f"classes='checkpoint': {checkpoint} has no class "
                         'names (meta.dataset_meta.classes); give a label '
                         'file.')
    return [str(n) for n in names]


def _normal(name: str) -> str:
    return ' '.join(str(name).lower().replace('_', ' ').split())


def class_index(target_names: Sequence[str], scorer_names: Sequence[str],
                what: str = 'the scorer') -> Optional[List[int]]:
    """For every target class (in the target's order), the index of the class
    of the same name among ``scorer_names``; None when the scorer's list is
    the target's list in the same order (nothing to map).

    Names match after normalising case, underscores and spaces. Raises
    ValueError naming the target classes the scorer lacks; warns
    (:class:`ClassOrderWarning`) when the orders differ.
    """
    positions: Dict[str, int] = {}
    for i, name in enumerate(scorer_names):
        positions.setdefault(_normal(name), i)
    missing = [t for t in target_names if _normal(t) not in positions]
    if missing:
        shown = ', '.join(repr(m) for m in missing[:10])
        more = f' and {len(missing) - 10} more' if len(missing) > 10 else ''
        raise ValueError(
            f'{what} has no class named {shown}{more} (of the target\'s '
            f'{len(target_names)} classes; its own list has '
            f'{len(scorer_names)}): give it the label file of the data it was '
            'trained on (`classes=`), or a scorer trained on these classes.')
    index = [positions[_normal(t)] for t in target_names]
    if index == list(range(len(scorer_names))):
        return None
    moved = [f'{t!r} is its class {i}' for k, (t, i) in
             enumerate(zip(target_names, index)) if i != k][:3]
    kind = ("in another order than the target's"
            if len(scorer_names) == len(target_names) else
            f"{len(scorer_names)} names, not the target's "
            f'{len(target_names)}')
    detail = '; '.join(moved) or 'the same order, extra classes'
    warnings.warn(f"{what}: its classes are {kind} ({detail}); its scores "
                  "are mapped into the target's order by name.",
                  ClassOrderWarning, stacklevel=2)
    return index


def head_classes(model: nn.Module) -> Optional[int]:
    """``cls_head.num_classes`` of a recognizer (None if it has none)."""
    num = getattr(getattr(model, 'cls_head', None), 'num_classes', None)
    return num if isinstance(num, int) else None


def scorer_index(model: nn.Module, classes: ClassSpec,
                 target_names: Optional[Sequence[str]],
                 what: str, checkpoint: Optional[str] = None
                 ) -> Optional[List[int]]:
    """Check a scorer's classes against the target's and return the mapping
    of :func:`class_index` (None: same order).

    Without ``classes`` the scorer must have as many classes as the target
    (when the target's count is known); with ``classes`` it must have as many
    as ``classes`` lists, and ``target_names`` must be known."""
    num = head_classes(model)
    if classes is None:
        if target_names and num is not None and num != len(target_names):
            raise ValueError(
                f'{what} has {num} classes but the target has '
                f'{len(target_names)}: give its label file (`classes=`) so '
                'that its scores can be mapped by class name.')
        return None
    names = load_class_names(classes, checkpoint)
    source = (f'its checkpoint {checkpoint}' if classes == 'checkpoint' else
              classes if isinstance(classes, str) else 'its `classes` list')
    if num is not None and num != len(names):
        raise ValueError(f'{what} has {num} classes (cls_head.num_classes) '
                         f'but {source} lists {len(names)}.')
    if not target_names:
        raise ValueError(f'{what} has `classes` ({source}) but the target\'s '
                         'class names are unknown: give the inverter '
                         '`class_names` (leaps.classes in a config).')
    return class_index(target_names, names, what)


def scorer_name(spec: dict, index: int, taken: Sequence[str] = ()) -> str:
    """A judge's name: ``spec['name']``, else its ``from_config`` file stem,
    else ``judge<index>``; made of letters, digits and ``_`` and unique
    among ``taken`` (an explicit name that is taken is an error)."""
    name = spec.get('name')
    explicit = name is not None
    if not explicit:
        path = spec.get('from_config')
        name = (osp.splitext(osp.basename(path))[0] if path else
                f'judge{index}')
    name = re.sub(r'[^A-Za-z0-9_]+', '_', str(name)).strip('_') or \
        f'judge{index}'
    if name in ('reversed', 'static', 'shuffled'):  # motion probe keys
        name = f'{name}_{index}'
    if name in taken:
        if explicit:
            raise ValueError(f'Two judges are named {name!r}; give each a '
                             'different `name=`.')
        name = f'{name}_{index}'
    return name


def resolve_scorer(spec: Optional[dict], config_file: Optional[str] = None
                   ) -> Optional[dict]:
    """A scorer spec as ``dict(model=<recognizer config>, checkpoint,
    input_size, classes, name)`` (unset keys None) from a config's
    ``verifier`` / ``judge`` / ``judges[i]``: a recognizer config or
    ``dict(from_config=PATH)`` (relative to ``config_file``'s folder, or
    ``mmaction::...``), either with the keys of :data:`SCORER_KEYS`.
    An already resolved spec (with ``model``) is returned as it is."""
    if not spec:
        return None
    spec = dict(spec)
    if 'model' in spec:
        return dict({k: None for k in SCORER_KEYS}, **spec)
    out = {k: spec.pop(k, None) for k in SCORER_KEYS}
    if 'from_config' in spec:
        from mmengine.config import Config
        path = spec.pop('from_config')
        if not path.startswith('mmaction::') and not osp.isabs(path):
            path = osp.join(osp.dirname(config_file or '.'), path)
        if not path.startswith('mmaction::') and not osp.isfile(path):
            raise FileNotFoundError(f'{config_file}: from_config {path!r} '
                                    'does not exist.')
        model = Config.fromfile(path).model.to_dict()
        model.update(spec)  # other keys override the config's model
        out['from_config'] = path
        spec = model
    out['model'] = spec
    return out


@dataclass
class Scorer:
    """A frozen recognizer that scores pixel videos in the target's order.

    Args:
        name: its key in predictions (``'model'``, ``'verifier'``,
            ``'judge_<name>'``).
        model: the recognizer (registered elsewhere, e.g. in the inverter).
        input_size: ``(T, H, W)`` it is fed (trilinear resize), None: as is.
        index: for every target class, the model's class index (None: the
            target's order).
        channels_last: feed the input in ``channels_last_3d`` format.
    """
    name: str
    model: nn.Module
    input_size: Optional[Size3d] = None
    index: Optional[List[int]] = None
    channels_last: bool = False

    def logits(self, pixels: torch.Tensor) -> torch.Tensor:
        """Class scores ``(N, K_target)`` of pixel videos ``(N, C, T, H, W)``
        on the 0–255 scale (normalised with the model's preprocessor)."""
        from .inverter import pixel_normalizer, recognizer_logits
        from .memory import channels_last_input
        mean, std = pixel_normalizer(self.model)
        video = (pixels - mean.to(pixels)) / std.to(pixels)
        if self.input_size is not None and \
                tuple(video.shape[2:]) != tuple(self.input_size):
            video = F.interpolate(video, size=tuple(self.input_size),
                                  mode='trilinear', align_corners=False)
        if self.channels_last:
            video = channels_last_input(video)
        logits = recognizer_logits(self.model, video)
        if self.index is not None:
            logits = logits[:, torch.as_tensor(self.index,
                                               device=logits.device)]
        return logits

    def probs(self, pixels: torch.Tensor) -> torch.Tensor:
        """Softmax ``(N, K_target)`` of :meth:`logits` (fp32)."""
        return self.logits(pixels).float().softmax(-1)


def build_scorer(spec: dict, key: str,
                 target_names: Optional[Sequence[str]] = None,
                 channels_last: bool = False) -> Scorer:
    """A :class:`Scorer` named ``key`` from a resolved spec
    (:func:`resolve_scorer`), weights loaded, classes checked."""
    from mmengine.registry import DefaultScope

    from .inverter import build_frozen_recognizer
    with DefaultScope.overwrite_default_scope('leaps_mm'):
        model = build_frozen_recognizer(spec['model'], spec.get('checkpoint'))
    index = scorer_index(model, spec.get('classes'), target_names,
                         f'The {key.replace("_", " ", 1)}',
                         spec.get('checkpoint'))
    return Scorer(key, model, spec.get('input_size'), index, channels_last)


def scorer_kwargs(cfg, inverter: Optional[dict] = None) -> dict:
    """:class:`LEAPSInverter` kwargs of a sweep config's ``verifier``,
    ``judge`` and ``judges`` (``from_config`` paths relative to
    ``cfg.filename``): ``verifier``/``judge`` as recognizer configs, their
    scorer keys as ``verifier_<key>``/``judge_<key>`` (a key set in the spec
    wins over ``leaps.inverter``'s), ``judges`` as resolved specs. The
    single judge is named after its config file unless it has a name."""
    inverter = inverter or {}
    out: dict = {}
    for net in ('verifier', 'judge'):
        spec = resolve_scorer(cfg.get(net), cfg.filename)
        out[net] = spec['model'] if spec else None
        if spec is None:
            continue
        keys = SCORER_KEYS if net == 'judge' else SCORER_KEYS[:-1]
        out.update({f'{net}_{k}': spec[k] for k in keys
                    if spec[k] is not None})
        if net == 'judge' and not out.get('judge_name') and \
                not inverter.get('judge_name') and spec.get('from_config'):
            out['judge_name'] = scorer_name(spec, 0)
    judges = cfg.get('judges') or []
    if not isinstance(judges, (list, tuple)) or \
            not all(isinstance(j, dict) for j in judges):
        raise ValueError(f'{cfg.filename}: `judges` must be a list of dicts '
                         '(dict(from_config=..., checkpoint=..., '
                         'classes=..., name=...)).')
    if judges:
        out['judges'] = [resolve_scorer(dict(j), cfg.filename)
                         for j in judges]
    return out


def inverter_scorer_specs(inverter: dict) -> List[Tuple[str, dict]]:
    """``[(key, resolved spec)]`` of the scorers a :class:`LEAPSInverter`
    config (``model`` of a runner config, e.g. a sweep's dumped config)
    builds, named as the inverter names them: ``model``, ``verifier``,
    ``judge_<name>`` for every judge."""
    specs = [('model', dict(model=inverter['target'],
                            checkpoint=inverter.get('target_checkpoint'),
                            input_size=inverter.get('target_input_size'),
                            classes=None, name=None))]
    if inverter.get('verifier'):
        specs.append(('verifier', dict(
            model=inverter['verifier'],
            checkpoint=inverter.get('verifier_checkpoint'),
            input_size=inverter.get('verifier_input_size'),
            classes=inverter.get('verifier_classes'), name=None)))
    judges = [resolve_scorer(dict(
        model=inverter['judge'], checkpoint=inverter.get('judge_checkpoint'),
        input_size=inverter.get('judge_input_size'),
        classes=inverter.get('judge_classes'),
        name=inverter.get('judge_name')))] if inverter.get('judge') else []
    judges += [resolve_scorer(spec) for spec in inverter.get('judges') or ()]
    taken: List[str] = []
    for i, spec in enumerate(judges):
        taken.append(scorer_name(spec, i, taken))
        specs.append((f'judge_{taken[-1]}', spec))
    return specs
