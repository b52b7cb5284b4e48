"""The Python API: invert a recognizer from a notebook.

    from leaps_mm.apis import init_inverter, invert
    inverter = init_inverter('registry_configs/demo/leaps_r3d.py')
    result = invert(inverter, ['data/stimuli/move_left_0.mp4'], ['move left'],
                    iters=50)
    result.videos  # uint8 (N, T, H, W, 3)

:func:`init_inverter` takes an inversion config (path or ``Config``) or an
MMAction2 recognizer already built (e.g. by ``mmaction.apis.init_recognizer``)
with a recipe config for the objective; :func:`invert` optimises x* with the
loop's own step (:func:`leaps_mm.loops.run_steps`) and returns the videos and
one :class:`~leaps_mm.structures.JobRecord` per job, writing no file and no
MLflow run unless ``work_dir`` is given.
"""
import os.path as osp
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import DefaultScope
from torch import nn
from tqdm import tqdm

from leaps_mm.datasets.stimulus_dataset import resolve_class
from leaps_mm.loops import build_job_optimisation, job_id, run_steps
from leaps_mm.loops.loss_history import StepLosses
from leaps_mm.models.inverter import LEAPSInverter
from leaps_mm.models.scorers import load_class_names
from leaps_mm.registry import DATASETS, MODELS
from leaps_mm.structures import JobRecord
from .runner_config import build_runner_config
from .validation import check_arguments

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# the recipe a built recognizer gets by default: the main job's objective,
# x* parameterisation and transforms (registry_configs/demo/leaps_r3d.py)
DEFAULT_RECIPE = osp.join(REPO, 'registry_configs', 'demo', 'leaps_r3d.py')
_FROM_CONFIG = 'config'  # verifier/judge: the config's own
Stimuli = Union[None, torch.Tensor, np.ndarray, Sequence[str]]
# callback(steps, window): window {'loss_<term>' / 'loss': (S, N)} of the
# steps read out; returning False stops the batch
Callback = Callable[[List[int], Dict[str, torch.Tensor]], Optional[bool]]


@dataclass
class Inverter:
    """A LEAPS inversion ready to run: the :class:`LEAPSInverter` (frozen
    networks, objective, x*) and how each job is optimised (the config's
    ``leaps.loop``)."""
    model: LEAPSInverter
    class_names: List[str]
    iters: int = 200
    seed: int = 0
    log_interval: int = 50
    optim_wrapper: Optional[dict] = None
    param_scheduler: Optional[dict] = None
    stimulus_pipeline: Optional[list] = None
    fps: float = 8

    @property
    def device(self) -> torch.device:
        return self.model.pixel_mean.device


@dataclass
class InversionResult:
    """What :func:`invert` made: ``videos`` uint8 ``(N, T, H, W, 3)``,
    ``tensor`` x* normalised for the target ``(N, C, T, H, W)`` and one
    record per job (predictions of every scorer, loss history)."""
    videos: np.ndarray
    tensor: torch.Tensor
    records: List[JobRecord] = field(default_factory=list)


def _load(config: Union[str, Config], cfg_options: Optional[dict]) -> Config:
    if isinstance(config, Config):
        cfg = Config(config.to_dict(), filename=config.filename)
    elif isinstance(config, str):
        if not osp.isfile(config):
            raise FileNotFoundError(f'Config file {config!r} does not exist.')
        cfg = Config.fromfile(config)
    else:
        raise TypeError('init_inverter: `config` must be a config path, an '
                        'mmengine Config or a built recognizer (nn.Module), '
                        f'not {type(config).__name__}.')
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if 'leaps' not in cfg:
        raise KeyError(f'{cfg.filename}: no `leaps` section; inherit '
                       "registry_configs/_base_/leaps.py in `_base_`, or pass "
                       'the recognizer as a module with recipe=<config>.')
    return cfg


def _scorer(kwargs: dict, key: str, value: Any) -> None:
    """Set ``verifier`` / ``judge`` of the inverter kwargs from an argument
    (a built module, a recognizer config, or None for none)."""
    if value is _FROM_CONFIG:
        return
    kwargs[key] = value
    for suffix in ('_checkpoint', '_input_size', '_classes', '_name'):
        kwargs.pop(key + suffix, None)  # the config's, for its own model
    if value is None and key == 'judge':
        kwargs['judges'] = []


def init_inverter(config: Union[str, Config, nn.Module],
                  checkpoint: Optional[str] = None,
                  device: Union[str, torch.device] = 'cpu',
                  *,
                  recipe: Union[str, Config, None] = None,
                  data_preprocessor: Optional[dict] = None,
                  classes: Union[str, Sequence[str], None] = None,
                  verifier: Any = _FROM_CONFIG,
                  judge: Any = _FROM_CONFIG,
                  cfg_options: Optional[dict] = None,
                  **overrides) -> Inverter:
    """An :class:`Inverter` ready for :func:`invert`.

    Args:
        config: an inversion config (path or ``Config``: a recognizer config
            with a ``leaps`` section, as for ``tools/invert.py``), or a
            built MMAction2 recognizer to invert.
        checkpoint: the target's weights (overrides
            ``leaps.inverter.target_checkpoint``; for a built recognizer,
            loaded into it when given).
        device: where the networks and x* live.
        recipe: with a built recognizer, the config whose ``leaps`` section
            gives the objective, x*, transforms and loop (default: the main
            job's, ``registry_configs/demo/leaps_r3d.py``); its own
            ``model``, verifier and judge are not used.
        data_preprocessor: an ``ActionDataPreprocessor`` config for a built
            recognizer without one (its mean/std normalise x*).
        classes: the target's class names (label file, list or
            ``'kinetics400'``; default the config's ``leaps.classes``).
        verifier / judge: a built recognizer or a recognizer config
            replacing the config's, or None for none (default: the config's;
            a built target gets none unless given).
        cfg_options: dotted config keys to override, as ``--cfg-options``.
        **overrides: ``LEAPSInverter`` arguments (``leaps.inverter`` keys,
            e.g. ``input_size=(8, 112, 112)``).
    """
    target = config if isinstance(config, nn.Module) else None
    if target is not None and recipe is None:
        if not osp.isfile(DEFAULT_RECIPE):  # an installed copy: no configs
            raise FileNotFoundError(
                'init_inverter: a built recognizer needs a recipe config '
                '(recipe=PATH, a config with a `leaps` section, e.g. '
                "leaps_mm's registry_configs/demo/leaps_r3d.py); the default "
                f'{DEFAULT_RECIPE} is not there.')
        recipe = DEFAULT_RECIPE
    cfg = _load(recipe if target is not None else config, cfg_options)
    runner_cfg = build_runner_config(cfg)
    kwargs = runner_cfg.model.to_dict()
    kwargs.pop('type')
    if classes is not None:
        kwargs['class_names'] = classes
    if target is not None:
        if data_preprocessor is not None:
            with DefaultScope.overwrite_default_scope('mmaction'):
                target.data_preprocessor = MODELS.build(data_preprocessor)
        kwargs['target'] = target
        kwargs['target_checkpoint'] = checkpoint
        verifier = None if verifier is _FROM_CONFIG else verifier
        judge = None if judge is _FROM_CONFIG else judge
    elif checkpoint is not None:
        kwargs['target_checkpoint'] = checkpoint
    _scorer(kwargs, 'verifier', verifier)
    _scorer(kwargs, 'judge', judge)
    check_arguments(overrides, LEAPSInverter, 'init_inverter', lambda _: '')
    kwargs.update(overrides)
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(cfg.leaps.get('log_level', 'WARNING'))
    try:
        with DefaultScope.overwrite_default_scope('leaps_mm'):
            model = LEAPSInverter(**kwargs).to(device)
    finally:
        logger.setLevel(level)
    loop = runner_cfg.test_cfg
    dataset = runner_cfg.test_dataloader.dataset
    return Inverter(
        model=model, class_names=load_class_names(
            dataset.classes if classes is None else classes),
        iters=loop.get('iters', 200), seed=loop.get('seed', 0),
        log_interval=loop.get('log_interval', 50),
        optim_wrapper=loop.get('optim_wrapper'),
        param_scheduler=loop.get('param_scheduler'),
        stimulus_pipeline=list(dataset.pipeline), fps=loop.get('fps', 8))


def _stimulus_pixels(inverter: Inverter, stimuli: Stimuli,
                     targets: List[int]) -> Optional[torch.Tensor]:
    """Stimuli as float pixels ``(N, C, T, H, W)`` on the 0-255 scale: video
    files decoded by the config's stimulus pipeline (PyAV), or arrays /
    tensors ``(N, C, T, H, W)`` or uint8 ``(N, T, H, W, 3)``."""
    if stimuli is None:
        return None
    if isinstance(stimuli, (list, tuple)) and all(isinstance(s, str)
                                                 for s in stimuli):
        if len(stimuli) != len(targets):
            raise ValueError(f'invert: {len(stimuli)} stimulus files for '
                             f'{len(targets)} targets; give one per target.')
        with DefaultScope.overwrite_default_scope('leaps_mm'):
            dataset = DATASETS.build(dict(
                type='StimulusDataset', classes=inverter.class_names,
                pipeline=inverter.stimulus_pipeline,
                stimuli=[dict(filename=s, label=t)
                         for s, t in zip(stimuli, targets)]))
        return torch.stack([dataset[i]['inputs'][0]
                            for i in range(len(dataset))]).float()
    video = torch.as_tensor(np.asarray(stimuli) if not isinstance(
        stimuli, torch.Tensor) else stimuli)
    if video.dim() != 5:
        raise ValueError('invert: stimuli must be video files or a batch '
                         '(N, C, T, H, W) / uint8 (N, T, H, W, 3), got shape '
                         f'{tuple(video.shape)}.')
    if video.dtype == torch.uint8 and video.shape[-1] == 3:
        video = video.permute(0, 4, 1, 2, 3)
    if video.shape[0] != len(targets):
        raise ValueError(f'invert: {video.shape[0]} stimuli for '
                         f'{len(targets)} targets; give one per target.')
    return video.float()


def invert(inverter: Inverter,
           stimuli: Stimuli,
           targets: Union[int, str, Sequence[Union[int, str]]],
           iters: Optional[int] = None,
           seed: Optional[int] = None,
           callback: Optional[Callback] = None,
           progress: bool = True,
           work_dir: Optional[str] = None) -> InversionResult:
    """Synthesize one video per target, all in one batch.

    Args:
        inverter: from :func:`init_inverter`.
        stimuli: one priming stimulus per target (video files, or pixels on
            the 0-255 scale ``(N, C, T, H, W)`` / uint8 ``(N, T, H, W, 3)``);
            None when the objective has no priming term.
        targets: class indices or names of the target's classes.
        iters: optimisation steps (default: the config's ``leaps.loop``).
        seed: x*'s noise; job ``j`` starts from seed ``seed + j`` (default
            the config's), as ``tools/invert.py`` seeds job ``j``.
        callback: called at every loss read-out (every ``log_interval``
            steps and the last) with the steps and the per-job terms
            ``{'loss_<term>': (S, N)}``; returning False stops early.
        progress: show a bar with the loss.
        work_dir: when given, each job's folder (``synth.npy``/``.mp4``/
            ``.gif``, ``strip.png``, ``result.json``) is written there.
    """
    model = inverter.model
    targets = [targets] if isinstance(targets, (int, str)) else list(targets)
    targets = [resolve_class(t, inverter.class_names) for t in targets]
    iters = inverter.iters if iters is None else int(iters)
    seed = inverter.seed if seed is None else int(seed)
    if iters < 1:
        raise ValueError(f'invert: iters must be >= 1, got {iters}.')
    pixels = _stimulus_pixels(inverter, stimuli, targets)
    stimulus = (None if pixels is None else
                model.normalize(pixels.to(inverter.device)))
    start = time.perf_counter()
    model.reset(torch.tensor(targets), stimulus, generator=[
        torch.Generator().manual_seed(seed + j) for j in range(len(targets))])
    model.train()
    with DefaultScope.overwrite_default_scope('leaps_mm'):
        optim_wrapper, scheduler = build_job_optimisation(
            model, iters, inverter.optim_wrapper, inverter.param_scheduler)
    history: List[List[dict]] = [[] for _ in targets]
    bar = tqdm(range(iters), unit='it', dynamic_ncols=True, leave=False,
               disable=not progress)

    def on_log(steps, window):
        bar.set_postfix({k.replace('loss_', ''): f'{float(v[-1].mean()):.3g}'
                         for k, v in window.items()})
        return None if callback is None else callback(steps, window)

    per_job = run_steps(model, optim_wrapper, scheduler, bar, iters,
                        StepLosses(history), inverter.log_interval,
                        on_log=on_log)
    bar.close()
    scores = model.predict_scores()
    seconds = (time.perf_counter() - start) / len(targets)
    records = []
    for j, target in enumerate(targets):
        name = (inverter.class_names[target]
                if target < len(inverter.class_names) else str(target))
        records.append(JobRecord(
            target=target, job_id=job_id(j, name), target_name=name,
            sample_idx=j, iterations=len(history[j]),
            stimulus=(stimuli[j] if isinstance(stimuli, (list, tuple))
                      else None),
            seconds=round(seconds, 3), seed=seed + j,
            final_losses={k: float(v[j]) for k, v in per_job.items()},
            history=history[j]).add_scores(
                {k: v[j] for k, v in scores.items()}, inverter.class_names))
    result = InversionResult(videos=model.to_uint8().numpy(),
                             tensor=model.video.detach(), records=records)
    if work_dir is not None:
        _write(work_dir, result, pixels, inverter.fps)
    return result


def _write(work_dir: str, result: InversionResult,
           pixels: Optional[torch.Tensor], fps: float) -> None:
    from leaps_mm.fileio import write_job_outputs
    for j, record in enumerate(result.records):
        synth = result.videos[j]
        stimulus = (pixels[j].permute(1, 2, 3, 0).round().clamp(0, 255)
                    .to(torch.uint8).numpy() if pixels is not None
                    else np.zeros_like(synth))
        write_job_outputs(osp.join(work_dir, record.job_id), synth, stimulus,
                          record.to_json(), fps=fps)
