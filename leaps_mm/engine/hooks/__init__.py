from .mlflow_hook import MLflowTrackingHook

__all__ = ['MLflowTrackingHook']
