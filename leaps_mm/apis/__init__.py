from .inference import InversionResult, Inverter, init_inverter, invert
from .runner_config import build_runner_config

__all__ = ['InversionResult', 'Inverter', 'build_runner_config',
           'init_inverter', 'invert']
