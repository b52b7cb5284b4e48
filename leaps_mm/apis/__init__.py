from .runner_config import build_runner_config

__all__ = ['build_runner_config']
