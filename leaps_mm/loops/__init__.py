from .inversion_loop import InversionLoop, build_optim_wrapper, job_id
from .loss_scale_optim_wrapper import LossScaleOptimWrapper

__all__ = ['InversionLoop', 'LossScaleOptimWrapper', 'build_optim_wrapper',
           'job_id']
