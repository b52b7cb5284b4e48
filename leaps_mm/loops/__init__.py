from .inversion_loop import InversionLoop, job_id

__all__ = ['InversionLoop', 'job_id']
