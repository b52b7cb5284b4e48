from .checkpoint import CheckpointError, load_recognizer_checkpoint

__all__ = ['CheckpointError', 'load_recognizer_checkpoint']
