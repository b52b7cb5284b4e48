"""LEAPSInverter: the synthesized video x* and the frozen networks it is fed to."""
import contextlib
import logging
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.logging import MMLogger
from mmengine.model import BaseModel, revert_sync_batchnorm
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from leaps_mm.evaluation.motion import apply_probe, check_probes
from leaps_mm.losses.base import InversionState
from leaps_mm.registry import MODELS
from leaps_mm.transforms import apply_transforms
from leaps_mm.fileio.checkpoint import load_recognizer_checkpoint
from .memory import (CheckpointRule, channels_last_input, checkpoint_modules,
                     to_channels_last)
from .scorers import (ClassSpec, Scorer, head_classes, load_class_names,
                      resolve_scorer, scorer_index, scorer_name)
from .taps import Capture, FeatureTaps

Size3d = Tuple[int, int, int]


def build_frozen_recognizer(cfg: Union[dict, nn.Module],
                            checkpoint: Optional[str] = None) -> nn.Module:
    """Build an MMAction2 recognizer from its config (or take a built one),
    load weights, freeze it.

    Every parameter gets ``requires_grad=False`` (no weight gradients are ever
    computed) and the model stays in eval mode; ``SyncBatchNorm`` becomes
    ``BatchNorm`` so CPU and single-process runs work. A built recognizer
    keeps its weights unless ``checkpoint`` is given.
    """
    if isinstance(cfg, nn.Module):
        model = cfg
    else:
        model = MODELS.build(cfg)
        logger = MMLogger.get_current_instance()
        level = logger.level
        logger.setLevel(logging.WARNING)  # init_weights logs every parameter
        try:
            model.init_weights()
        finally:
            logger.setLevel(level)
    if checkpoint:
        load_recognizer_checkpoint(model, checkpoint)
    model = revert_sync_batchnorm(model)
    model.eval()
    model.requires_grad_(False)
    return model


def pixel_normalizer(model: nn.Module) -> Tuple[torch.Tensor, torch.Tensor]:
    """The ``(C, 1, 1, 1)`` mean and std (0–255 scale) of a recognizer's
    ``ActionDataPreprocessor``; identity when it does not normalise."""
    pre = getattr(model, 'data_preprocessor', None)
    if pre is not None and getattr(pre, '_enable_normalize', False):
        return pre.mean.reshape(-1, 1, 1, 1), pre.std.reshape(-1, 1, 1, 1)
    return torch.zeros(3, 1, 1, 1), torch.ones(3, 1, 1, 1)


def resize_video(video: torch.Tensor, size: Optional[Size3d]) -> torch.Tensor:
    """Trilinear resize of ``(N, C, T, H, W)`` to ``size = (T, H, W)``."""
    if size is None or tuple(video.shape[2:]) == tuple(size):
        return video
    return F.interpolate(video, size=tuple(size), mode='trilinear',
                         align_corners=False)


def recognizer_logits(model: nn.Module, video: torch.Tensor) -> torch.Tensor:
    """Class scores ``(N, K)`` of an MMAction2 recognizer for a normalised
    video ``(N, C, T, H, W)`` (one view per sample)."""
    logits, _ = model.extract_feat(video[:, None], stage='head')
    return logits


@MODELS.register_module()
class LEAPSInverter(BaseModel):
    """Holds x* as its only trainable tensor, feeds it to a frozen target
    recognizer (and verifier) and returns the named loss terms of eq. 4.

    Args:
        target: config of the MMAction2 recognizer to invert, or the built
            recognizer (frozen in place; see :func:`build_frozen_recognizer`).
        losses: configs of :class:`LossTerm` s; their weighted per-sample
            values are summed (``L_CE + L_prim + r (R_coh + R_feat)`` with the
            default configs).
        verifier: config of the verifier recognizer, or the built one
            (needs BatchNorm when a :class:`FeatureDiversityLoss` is used);
            None for no verifier.
        judge: config of an independent recognizer that only scores the
            results (never used in the loss); None for no judge. It is the
            first of the judges (``judge_name``, ``judge_classes``).
        judges: more judges, each ``dict(model=<recognizer config>,
            checkpoint=, input_size=, classes=, name=)`` (or a config with
            ``from_config``, see :func:`resolve_scorer`); the name defaults
            to the config file's stem, else ``judge<i>``. Predictions carry
            ``judge_<name>`` for every judge and ``judge`` for the first.
        target_checkpoint / verifier_checkpoint / judge_checkpoint: path or
            URL of weights in OpenMMLab format.
        class_names: the target's class names (a label file or a list; the
            sweep's ``leaps.classes``): scorers with ``classes`` are mapped
            into this order by name, the others must have as many classes.
        verifier_classes / judge_classes: the class names of the verifier /
            judge (label file, list, ``'kinetics400'`` or ``'checkpoint'``:
            those in its checkpoint's meta) when they differ
            from the target's (another order, or a superset); their logits
            are mapped into the target's order before the softmax.
        motion_probes: names of :data:`MOTION_PROBES` whose transformed x*
            every scorer also scores in :meth:`predict_scores`
            (``<net>_reversed``, ``<net>_static``, ``<net>_shuffled``).
        taps: kwargs of :class:`FeatureTaps` for the target.
        input_size: ``(T, H, W)`` of x* (the paper: 8×224²).
        target_input_size / verifier_input_size / judge_input_size: fixed
            input sizes; x* is
            interpolated to them when set.
        parameterization: config of the :class:`VideoParameterization`
            that makes x* from its trainable latents (default
            ``PixelVideo``: Gaussian noise in the normalised space, clamped
            to the image of [0, 255] after every step, as in the paper).
        transforms: configs of random differentiable
            :class:`VideoTransform` s applied to x* in this order every step
            before the networks see it (the objective's input priors see the
            transformed video too).
        transform_draws: expectation over transforms: the objective is the
            mean over this many independent draws of ``transforms`` per step
            (costs as many forward and backward passes).
        priming_input: what the priming statistics of x* (``means``,
            ``variances``, ``cells``) are read from: ``'augmented'``, the
            target's forward on x* after every transform (one forward), or
            ``'clean'``, a second forward of the target on x* before the
            corrupting transforms (pixel noise), so x*'s statistics compare
            with the clean stimulus's rather than with noise's.
        target_augmentation: a registered augmentation of the target for
            the objective's forward pass, e.g.
            ``dict(type='RandomBranchScaling', include=r'conv2$')``
            (:mod:`.branch_scaling`); scoring uses the target as it is.
        autocast: ``'bf16'`` or ``'fp16'`` runs the networks' forward passes
            under ``torch.autocast`` (both run on CPUs and GPUs; with fp16
            the loop scales the loss, see :func:`build_optim_wrapper`); x*
            and the loss stay fp32.
        channels_last: store the networks' 5-D weights and feed them x* in
            ``torch.channels_last_3d`` memory format (faster convolutions on
            CPUs with oneDNN and on tensor-core GPUs).
        checkpoint_target: activation checkpointing of the target's
            backbone (non-reentrant ``torch.utils.checkpoint``): True wraps
            its blocks/stages (see :func:`checkpoint_modules`), a string is
            a regex of module names; cuts the memory of a step at the cost
            of a second forward pass of the target; gradients are unchanged.
        compile: ``torch.compile`` the backbones and heads of target and
            verifier in place (True, or a dict of ``torch.compile`` kwargs);
            the taps' reductions are traced with them and fused by the
            compiler. Costs minutes of compilation before the first step, so
            it pays off over long runs.
    """

    def __init__(self,
                 target: Union[dict, nn.Module],
                 losses: Sequence[dict],
                 verifier: Union[dict, nn.Module, None] = None,
                 target_checkpoint: Optional[str] = None,
                 verifier_checkpoint: Optional[str] = None,
                 taps: Optional[dict] = None,
                 input_size: Size3d = (8, 224, 224),
                 target_input_size: Optional[Size3d] = None,
                 verifier_input_size: Optional[Size3d] = None,
                 judge: Optional[dict] = None,
                 judge_checkpoint: Optional[str] = None,
                 judge_input_size: Optional[Size3d] = None,
                 judge_classes: ClassSpec = None,
                 judge_name: Optional[str] = None,
                 judges: Sequence[dict] = (),
                 verifier_classes: ClassSpec = None,
                 class_names: ClassSpec = None,
                 motion_probes: Sequence[str] = ('reversed', 'static',
                                                 'shuffled'),
                 parameterization: Optional[dict] = None,
                 transforms: Sequence[dict] = (),
                 transform_draws: int = 1,
                 priming_input: str = 'augmented',
                 target_augmentation: Optional[dict] = None,
                 autocast: Optional[str] = None,
                 channels_last: bool = False,
                 checkpoint_target: CheckpointRule = False,
                 compile: Union[bool, dict] = False,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.target = build_frozen_recognizer(target, target_checkpoint)
        self.verifier = (build_frozen_recognizer(verifier, verifier_checkpoint)
                         if verifier is not None else None)
        self.losses = nn.ModuleList(
            loss if isinstance(loss, nn.Module) else MODELS.build(loss)
            for loss in losses)
        if not self.losses:
            raise ValueError('`model.losses` is empty: give at least one '
                             'loss term (e.g. ClassificationLoss).')
        self.requires = frozenset().union(*(t.requires for t in self.losses))
        self.input_size = tuple(input_size)
        self.target_input_size = target_input_size
        self.verifier_input_size = verifier_input_size
        # a label file that does not exist is left to the dataset's error
        self.class_names = ([] if isinstance(class_names, str) and
                            class_names != 'kinetics400' and
                            not osp.isfile(class_names)
                            else load_class_names(class_names))
        num = head_classes(self.target)
        if self.class_names and num is not None and \
                num != len(self.class_names):
            raise ValueError(f'The target has {num} classes but its class '
                             f'names list {len(self.class_names)}.')
        self.motion_probes = check_probes(motion_probes)
        verifier_index = (scorer_index(self.verifier, verifier_classes,
                                       self.class_names, 'The verifier',
                                       verifier_checkpoint)
                          if self.verifier is not None else None)
        specs = [resolve_scorer(dict(
            model=judge, checkpoint=judge_checkpoint,
            input_size=judge_input_size, classes=judge_classes,
            name=judge_name))] if judge is not None else []
        specs += [resolve_scorer(spec) for spec in judges]
        self.judges = nn.ModuleDict()
        judge_indices = {}
        for i, spec in enumerate(specs):
            name = scorer_name(spec, i, list(self.judges))
            self.judges[name] = build_frozen_recognizer(spec['model'],
                                                        spec['checkpoint'])
            judge_indices[name] = (spec, scorer_index(
                self.judges[name], spec['classes'], self.class_names,
                f'The judge {name!r}', spec['checkpoint']))
        self.judge_input_size = judge_input_size
        self.parameterization = MODELS.build(
            parameterization or dict(type='PixelVideo'))
        self.transforms = nn.ModuleList(MODELS.build(t) for t in transforms)
        # split once at the first corrupting transform (see _augment)
        first = next((i for i, t in enumerate(self.transforms) if t.corrupts),
                     len(self.transforms))
        self._clean_transforms = list(self.transforms[:first])
        self._corrupting_transforms = list(self.transforms[first:])
        if int(transform_draws) < 1:
            raise ValueError('transform_draws must be an integer >= 1, got '
                             f'{transform_draws!r}.')
        self.transform_draws = int(transform_draws)
        if priming_input not in ('augmented', 'clean'):
            raise ValueError("priming_input must be 'augmented' or 'clean', "
                             f'got {priming_input!r}.')
        self.priming_input = priming_input
        self.target_augmentation = (MODELS.build(target_augmentation)
                                    if target_augmentation else None)
        if self.target_augmentation is not None:
            self.target_augmentation.attach(self.target)
        self.generators: List[torch.Generator] = []
        if autocast not in (None, 'bf16', 'fp16'):
            raise ValueError(f"autocast must be None, 'bf16' or 'fp16', got "
                             f'{autocast!r}.')
        self.autocast_dtype = {None: None, 'bf16': torch.bfloat16,
                               'fp16': torch.float16}[autocast]
        # options for big networks (leaps_mm/models/memory.py)
        self.channels_last = bool(channels_last)
        if self.channels_last:
            for network in (self.target, self.verifier,
                            *self.judges.values()):
                if network is not None:
                    to_channels_last(network)
        self.checkpointed = checkpoint_modules(self.target, checkpoint_target)

        # BatchNorm sums inside the layers (taps.py), except where the
        # compiler fuses them itself or checkpointing recomputes the layers
        # (a recomputation must save what the first pass saved)
        fuse = not compile
        self.target_taps = FeatureTaps(
            self.target, **(taps or {}),
            fuse_batchnorm=fuse and not self.checkpointed)
        self.verifier_taps = None
        if 'bn_stats' in self.requires:
            if self.verifier is None:
                raise ValueError('FeatureDiversityLoss needs `model.verifier` '
                                 '(a recognizer with BatchNorm, e.g. X3D-S).')
            bn_types = sorted({type(m).__name__ for m in self.verifier.modules()
                               if isinstance(m, _BatchNorm)})
            if not bn_types:
                backbone = getattr(self.verifier, 'backbone', self.verifier)
                raise ValueError(
                    'FeatureDiversityLoss needs a verifier with BatchNorm '
                    'layers (their running statistics are its target), but '
                    f'the verifier ({type(backbone).__name__}) has none: use a '
                    'BatchNorm verifier such as X3D-S, or drop '
                    'FeatureDiversityLoss from `model.losses`.')
            # every BatchNorm kind, including the ``_BatchNormXd`` that
            # revert_sync_batchnorm makes of SyncBatchNorm
            self.verifier_taps = FeatureTaps(
                self.verifier, module_types=bn_types, include=None,
                fuse_batchnorm=fuse)

        mean, std = pixel_normalizer(self.target)
        self.register_buffer('pixel_mean', mean, persistent=False)
        self.register_buffer('pixel_std', std, persistent=False)
        self.parameterization.bind(mean, std)
        if self.verifier is not None:
            v_mean, v_std = pixel_normalizer(self.verifier)
            self.register_buffer('verifier_mean', v_mean, persistent=False)
            self.register_buffer('verifier_std', v_std, persistent=False)
        # who scores x* in predict_scores, all in the target's class order
        self.scorers: Dict[str, Scorer] = {'model': Scorer(
            'model', self.target, target_input_size, None,
            self.channels_last)}
        if self.verifier is not None:
            self.scorers['verifier'] = Scorer(
                'verifier', self.verifier, verifier_input_size,
                verifier_index, self.channels_last)
        for name, (spec, index) in judge_indices.items():
            self.scorers[f'judge_{name}'] = Scorer(
                f'judge_{name}', self.judges[name], spec['input_size'], index,
                self.channels_last)
        if compile:  # after the taps: their hooks are traced too
            options = compile if isinstance(compile, dict) else {}
            for network in (self.target, self.verifier):
                if network is not None:
                    network.backbone.compile(**options)
                    network.cls_head.compile(**options)
        self.register_buffer('targets', torch.zeros(0, dtype=torch.long),
                             persistent=False)
        self.stimulus_means: Dict[str, torch.Tensor] = {}
        self.stimulus_variances: Dict[str, torch.Tensor] = {}
        self.stimulus_cells: Dict[str, torch.Tensor] = {}
        grids = {t.grid for t in self.losses if getattr(t, 'grid', None)}
        if len(grids) > 1:
            raise ValueError(f'The priming terms ask for different grids '
                             f'{sorted(grids)}; use one grid.')
        self.cell_grid = grids.pop() if grids else (1, 1, 1)

    def train(self, mode: bool = True) -> 'LEAPSInverter':
        """The networks stay in eval mode whatever mmengine asks for."""
        super().train(mode)
        self.target.eval()
        for network in (self.verifier, *self.judges.values()):
            if network is not None:
                network.eval()
        return self

    @property
    def judge(self) -> Optional[nn.Module]:
        """The first judge (None without judges)."""
        return next(iter(self.judges.values()), None)

    @property
    def judge_names(self) -> List[str]:
        """The judges' names, in order (``judge_<name>`` in predictions)."""
        return list(self.judges)

    # --- per job ----------------------------------------------------------
    def reset(self, targets: torch.Tensor, stimulus: Optional[torch.Tensor],
              generator: Optional[Sequence[torch.Generator]] = None) -> None:
        """Start a new batch of jobs: fresh latents of x*, new targets, and
        the stimulus' layer means computed once, without gradients.

        Args:
            targets: class indices ``(N,)``.
            stimulus: normalised stimulus videos ``(N, C, T, H, W)`` or None
                (needed when a priming term is configured).
            generator: one generator per job, for its initial latents and
                then its random transforms, so a job runs the same alone or
                in any batch (default: generators seeded 0..N-1).
        """
        device = self.pixel_mean.device
        n = targets.shape[0]
        self.generators = (list(generator) if generator is not None else
                           [torch.Generator().manual_seed(j) for j in range(n)])
        shape = (n, self.pixel_mean.shape[0]) + self.input_size
        self.parameterization.reset(shape, self.generators, stimulus)
        self.targets = targets.to(device)
        self.stimulus_means, self.stimulus_variances = {}, {}
        self.stimulus_cells = {}
        want = self.requires & {'means', 'variances', 'cells'}
        if want:
            if stimulus is None:
                raise ValueError('PrimingLoss needs a stimulus video per job.')
            stimulus = resize_video(stimulus.to(device).float(),
                                    self.target_input_size)
            with torch.no_grad(), self.target_taps.capture(
                    n, stimulus.shape[2], want=want,
                    cells=self.cell_grid) as captured:
                recognizer_logits(self.target, stimulus)
            self.stimulus_means = {
                k: v.detach() for k, v in captured.means.items()}
            self.stimulus_variances = {
                k: v.detach() for k, v in captured.variances.items()}
            self.stimulus_cells = {
                k: v.detach() for k, v in captured.cells.items()}

    @torch.no_grad()
    def after_step(self) -> None:
        """Call after every optimiser step (projects x* back to the valid
        range where the parameterisation asks for it, advances its
        schedule)."""
        self.parameterization.after_step()

    def step(self, optim_wrapper) -> Dict[str, torch.Tensor]:
        """One optimisation step of x* (the only one: the loop, the Python
        API and the benchmark call it): the objective on freshly transformed
        x*, backward, the optimiser update of the latents (``optim_wrapper``
        over ``parameterization.parameters()``, see
        :func:`~leaps_mm.loops.build_optim_wrapper`) and the projection.
        Returns the weighted per-sample terms ``{'loss_<name>': (N,)}``."""
        with optim_wrapper.optim_context(self):
            terms = self(mode='loss')
        loss, _ = self.parse_losses(terms)
        optim_wrapper.update_params(loss)
        self.after_step()
        return terms

    def floor_objective(self, video: torch.Tensor) -> torch.Tensor:
        """The networks' forward passes alone, as :meth:`forward` runs them
        (memory format, autocast, input sizes) but without feature taps or
        loss terms: the scalar sum of the target's logits and, when a loss
        term uses it, the verifier's, for normalised ``video`` ``(N, C, T,
        H, W)``. Its backward is a step's floor: what any gradient of x*
        costs."""
        with self._autocast():
            logits = recognizer_logits(self.target, self._layout(
                resize_video(video, self.target_input_size)))
            total = logits.float().sum()
            if self.verifier_taps is not None:
                total = total + recognizer_logits(
                    self.verifier, self._to_verifier(video)).float().sum()
        return total

    @property
    def video(self) -> torch.Tensor:
        """x* now, normalised ``(N, C, T, H, W)`` (differentiable)."""
        return self.parameterization()

    def job_state(self) -> dict:
        """What continues the current batch exactly after :meth:`reset`
        with the same jobs: the latents (job axis first) and every job's
        generator state."""
        return dict(parameterization={
            k: v.detach().cpu().clone() if torch.is_tensor(v) else v
            for k, v in self.parameterization.state_dict().items()},
            generators=[g.get_state() for g in self.generators])

    def load_job_state(self, state: dict) -> None:
        """Restore :meth:`job_state` into a batch just :meth:`reset` with
        the same jobs (in place: an optimiser built on the latents keeps
        them)."""
        self.parameterization.load_state_dict(state['parameterization'])
        for generator, saved in zip(self.generators, state['generators']):
            generator.set_state(saved)

    # --- the objective ----------------------------------------------------
    def _augment(self, video: torch.Tensor
                 ) -> Tuple[torch.Tensor, torch.Tensor]:
        """This step's transforms of x* ``(N, C, T, H, W)``: x* before the
        first corrupting transform (pixel noise; what the verifier's
        statistics read) and after all of them (what the target reads)."""
        clean = apply_transforms(self._clean_transforms, video,
                                 self.generators)
        return clean, apply_transforms(self._corrupting_transforms, clean,
                                       self.generators)

    def _autocast(self):
        return torch.autocast(device_type=self.pixel_mean.device.type,
                              dtype=self.autocast_dtype,
                              enabled=self.autocast_dtype is not None)

    def _renormalize(self, video: torch.Tensor, mean: torch.Tensor,
                     std: torch.Tensor, size: Optional[Size3d]) -> torch.Tensor:
        """x* from the target's normalised space to another network's."""
        pixels = video * self.pixel_std + self.pixel_mean
        return self._layout(resize_video((pixels - mean) / std, size))

    def _layout(self, video: torch.Tensor) -> torch.Tensor:
        """A network input in the networks' memory format."""
        return channels_last_input(video) if self.channels_last else video

    def _still(self, video: torch.Tensor) -> torch.Tensor:
        """``(N, C, T, H, W)`` -> each job's frame ``t_j`` repeated over
        time, ``t_j`` drawn from the job's generator."""
        frames = torch.cat([torch.randint(video.shape[2], (1, ), generator=g)
                            for g in self.generators]).to(video.device)
        still = video[torch.arange(video.shape[0], device=video.device), :,
                      frames]  # N, C, H, W
        return still[:, :, None].expand_as(video)

    def _target_augmented(self):
        """The target as the objective sees it: with ``target_augmentation``
        (e.g. :class:`RandomBranchScaling`) drawn for this step, else as it
        is."""
        if self.target_augmentation is None:
            return contextlib.nullcontext()
        return self.target_augmentation.active(self.generators)

    def _to_verifier(self, video: torch.Tensor) -> torch.Tensor:
        return self._renormalize(video, self.verifier_mean, self.verifier_std,
                                 self.verifier_input_size)

    def forward(self,
                inputs: Optional[torch.Tensor] = None,
                data_samples: Optional[list] = None,
                mode: str = 'loss') -> Union[Dict[str, torch.Tensor], dict]:
        """``mode='loss'``: the weighted per-sample terms ``{'loss_<name>':
        (N,)}``; ``mode='predict'``: :meth:`predict_scores`, softmax scores
        ``(N, K)`` of every scorer on the current x* and its motion probes,
        in the target's class order."""
        if mode == 'predict':
            return self.predict_scores()
        if mode != 'loss':
            raise ValueError(f"LEAPSInverter supports mode 'loss' or "
                             f"'predict', got {mode!r}.")
        if self.transform_draws == 1:
            return self._objective(self.video)
        # expectation over transforms: the mean of the terms over draws
        video = self.video
        draws = [self._objective(video) for _ in range(self.transform_draws)]
        return {key: sum(d[key] for d in draws) / len(draws)
                for key in draws[0]}

    def _capture_target(self, fed: torch.Tensor, want: frozenset
                        ) -> Capture:
        """The target's forward on ``fed`` with what ``want`` asks of its
        taps; the logits are left in ``Capture.logits``."""
        with self.target_taps.capture(fed.shape[0], fed.shape[2], want,
                                      self.cell_grid) as captured, \
                self._autocast(), self._target_augmented():
            captured.logits = recognizer_logits(self.target, fed)
        return captured

    def _objective(self, video: torch.Tensor) -> Dict[str, torch.Tensor]:
        """The weighted per-sample terms on one random transform draw of
        x* ``video`` ``(N, C, T, H, W)``."""
        n = self.targets.shape[0]
        clean, video = self._augment(video)
        fed = self._layout(resize_video(video, self.target_input_size))
        want = self.requires & {'means', 'variances', 'temporal', 'cells'}
        if self.priming_input == 'clean' and want - {'temporal'}:
            captured = self._capture_target(fed, want & {'temporal'})
            primed = self._capture_target(
                self._layout(resize_video(clean, self.target_input_size)),
                want - {'temporal'})
        else:
            primed = captured = self._capture_target(fed, want)
        state = InversionState(
            video=video, targets=self.targets, logits=captured.logits,
            means=primed.means, stimulus_means=self.stimulus_means,
            variances=primed.variances,
            stimulus_variances=self.stimulus_variances,
            cells=primed.cells, stimulus_cells=self.stimulus_cells,
            temporal=captured.temporal)
        if 'still_logits' in self.requires:
            with self._autocast():
                state.still_logits = recognizer_logits(
                    self.target, self._still(fed))
        if self.verifier_taps is not None:
            # R_feat compares x*'s statistics with those of training clips:
            # pixel noise would add its own variance to every layer's
            fed_v = self._to_verifier(clean)
            with self.verifier_taps.capture(
                    n, fed_v.shape[2], ('bn_stats', )) as captured_v, \
                    self._autocast():
                recognizer_logits(self.verifier, fed_v)
            state.bn_stats = captured_v.bn_stats
        return {f'loss_{term.name}': term(state) for term in self.losses}

    @torch.no_grad()
    def predict_scores(self, probes: Optional[Sequence[str]] = None
                       ) -> Dict[str, torch.Tensor]:
        """Softmax scores ``(N, K)`` of the current x*, in the target's
        class order, per scorer: ``model``, ``verifier``, ``judge`` (the
        first judge) and ``judge_<name>`` for every judge; and for each
        motion probe ``p`` (default: ``motion_probes``) of x*
        (:data:`MOTION_PROBES`) ``<net>_<p>``."""
        probes = self.motion_probes if probes is None else check_probes(probes)
        pixels = self.video * self.pixel_std + self.pixel_mean
        scores: Dict[str, torch.Tensor] = {}
        first = f'judge_{self.judge_names[0]}' if self.judges else None
        for key, scorer in self.scorers.items():
            values = {'': scorer.probs(pixels)}
            values.update({f'_{p}': scorer.probs(apply_probe(p, pixels))
                           for p in probes})
            # the first judge also under the old key, ahead of its own
            for name in (('judge', key) if key == first else (key, )):
                scores.update({name + k: v for k, v in values.items()})
        return scores

    @torch.no_grad()
    def to_uint8(self, video: Optional[torch.Tensor] = None) -> torch.Tensor:
        """A normalised video (default: x*) ``(N, C, T, H, W)`` as uint8
        frames ``(N, T, H, W, C)``."""
        video = self.video.detach() if video is None else video
        pixels = video.float() * self.pixel_std + self.pixel_mean
        return pixels.round().clamp(0, 255).to(torch.uint8).permute(
            0, 2, 3, 4, 1).cpu()

    def normalize(self, pixels: torch.Tensor) -> torch.Tensor:
        """uint8/float pixels ``(N, C, T, H, W)`` on the 0–255 scale ->
        the target's normalised space."""
        return (pixels.float() - self.pixel_mean) / self.pixel_std
