"""mmengine components of leaps_mm other than the loop: hooks."""
from .hooks import MLflowTrackingHook

__all__ = ['MLflowTrackingHook']
