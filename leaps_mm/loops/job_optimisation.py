"""Optimising one batch of jobs: the optimiser and schedule of x*'s latents,
and the steps with their loss curves. :class:`InversionLoop` and the Python
API (:func:`leaps_mm.apis.invert`) both run a batch with these."""
from typing import Callable, Dict, Iterable, List, Optional

import torch

from leaps_mm.registry import OPTIM_WRAPPERS, OPTIMIZERS, PARAM_SCHEDULERS
from .loss_history import StepLosses

# the optimiser of a loop config that names none (the paper's: Adam lr 0.2,
# as _base_/leaps_paper.py; _base_/leaps_core.py sets lr 0.05); fused: the
# whole Adam update in one kernel
DEFAULT_OPTIM_WRAPPER = dict(type='OptimWrapper',
                             optimizer=dict(type='Adam', lr=0.2, fused=True))
DEFAULT_PARAM_SCHEDULER = dict(type='CosineAnnealingLR', eta_min=0.0)

# on_log(steps, window) -> False stops the batch; window: {term: (S, N)}
LogCallback = Callable[[List[int], Dict[str, torch.Tensor]], Optional[bool]]


def build_optim_wrapper(cfg: dict, params: List[torch.nn.Parameter],
                        autocast_dtype: Optional[torch.dtype] = None):
    """The optim wrapper of ``cfg`` (an optim-wrapper config whose
    ``optimizer`` has no params; type ``OptimWrapper`` if it names none)
    over ``params``. With fp16 autocast a plain
    ``OptimWrapper`` becomes a :class:`LossScaleOptimWrapper`: fp16
    gradients underflow without loss scaling."""
    cfg = dict(cfg)
    cfg.setdefault('type', 'OptimWrapper')
    optimizer = OPTIMIZERS.build(dict(cfg.pop('optimizer'), params=params))
    if autocast_dtype == torch.float16 and cfg['type'] == 'OptimWrapper':
        cfg['type'] = 'LossScaleOptimWrapper'
    return OPTIM_WRAPPERS.build(dict(cfg, optimizer=optimizer))


def build_job_optimisation(inverter, iters: int,
                           optim_wrapper: Optional[dict] = None,
                           param_scheduler: Optional[dict] = None):
    """``(optim_wrapper, scheduler)`` over the latents of ``inverter``'s
    x* (call after :meth:`LEAPSInverter.reset`): the configs' optimiser
    (default Adam, lr 0.2) and a per-iteration schedule whose ``T_max`` /
    ``end`` default to ``iters``."""
    wrapper = build_optim_wrapper(
        optim_wrapper or DEFAULT_OPTIM_WRAPPER,
        list(inverter.parameterization.parameters()),
        inverter.autocast_dtype)
    scheduler_cfg = dict(param_scheduler or DEFAULT_PARAM_SCHEDULER,
                         by_epoch=False)
    if scheduler_cfg['type'] == 'CosineAnnealingLR':
        scheduler_cfg.setdefault('T_max', iters)
    else:
        scheduler_cfg.setdefault('end', iters)
    return wrapper, PARAM_SCHEDULERS.build(
        dict(scheduler_cfg, optimizer=wrapper))


def run_steps(inverter, optim_wrapper, scheduler, steps: Iterable[int],
              iters: int, curves: StepLosses, log_interval: int = 50,
              before_step: Optional[Callable[[int], None]] = None,
              on_log: Optional[LogCallback] = None
              ) -> Dict[str, torch.Tensor]:
    """Run the optimisation steps ``steps`` (0-based, e.g. ``range(first,
    iters)`` or a progress bar over it) of a batch of jobs with
    :meth:`LEAPSInverter.step`, keeping every step's losses in ``curves``
    and reading them to the host every ``log_interval`` steps and at step
    ``iters`` (``on_log`` gets each read-out and may stop the batch by
    returning False). Returns the last read-out's per-job terms
    ``{'loss_<name>': (N,)}`` (empty when no step ran)."""
    per_job: Dict[str, torch.Tensor] = {}
    for step in steps:
        if before_step is not None:
            before_step(step)
        terms = inverter.step(optim_wrapper)
        scheduler.step()
        # every step's losses stay on the device until the read-out
        curves.record(step + 1, terms, optim_wrapper.get_lr()['lr'][0])
        if (step + 1) % log_interval == 0 or step + 1 == iters:
            extra = {}
            scaler = getattr(optim_wrapper, 'loss_scaler', None)
            if scaler is not None:  # halved at every skipped step
                extra['loss_scale'] = scaler.get_scale()
            read_steps, window = curves.flush(**extra)  # one host sync
            per_job = {k: v[-1] for k, v in window.items() if k != 'loss'}
            if on_log is not None and on_log(read_steps, window) is False:
                break
    return per_job
