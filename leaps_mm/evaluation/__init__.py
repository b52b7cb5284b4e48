from .inversion_metric import InversionMetric

__all__ = ['InversionMetric']
