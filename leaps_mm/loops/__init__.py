from .inversion_loop import InversionLoop, job_id
from .job_optimisation import (DEFAULT_OPTIM_WRAPPER, build_job_optimisation,
                               build_optim_wrapper, run_steps)
from .loss_scale_optim_wrapper import LossScaleOptimWrapper

__all__ = ['DEFAULT_OPTIM_WRAPPER', 'InversionLoop', 'LossScaleOptimWrapper',
           'build_job_optimisation', 'build_optim_wrapper', 'job_id',
           'run_steps']
